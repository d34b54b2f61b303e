package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
)

// writePlan stores a campaign's remediation plan, in ascending sequence
// order, as plan_chunks rows of planChunkItems items each (migration
// 0018). Sequence numbers are kept as given; a repeated or negative one
// fails rather than drop an item.
func writePlan(ctx context.Context, tx *sqlTx, campaignID int64, plan []campaign.PlanItem) error {
	bySeq := func(a, b campaign.PlanItem) int { return cmp.Compare(a.Seq, b.Seq) }
	if !slices.IsSortedFunc(plan, bySeq) {
		plan = slices.Clone(plan)
		slices.SortStableFunc(plan, bySeq)
	}
	for i := range plan {
		switch seq := plan[i].Seq; {
		case seq < 0 || seq > maxSeqStep:
			return fmt.Errorf("plan: sequence number %d out of range", seq)
		case i > 0 && seq == plan[i-1].Seq:
			return fmt.Errorf("plan: sequence number %d repeated", seq)
		}
	}
	ins := tx.bulk(ctx, "plan_chunks", "campaign_id", "first_seq", "items", "body")
	var buf []byte
	for len(plan) > 0 {
		n := min(len(plan), planChunkItems)
		buf = encodePlanChunk(buf, plan[:n])
		// The writer may hold the row until it flushes: each gets its own bytes.
		ins.add(campaignID, int64(plan[0].Seq), int64(n), bytes.Clone(buf))
		plan = plan[n:]
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return nil
}

// Plan returns a campaign's stored remediation plan ordered by sequence
// number; it is empty before the campaign closes. A plan stored before
// migration 0018 is read from plan_items, one row per item. It returns
// an error if the query fails or a stored item is malformed.
func (s *Store) Plan(ctx context.Context, campaignID int64) ([]campaign.PlanItem, error) {
	var out []campaign.PlanItem
	var total sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT SUM(items) FROM plan_chunks WHERE campaign_id = ?`, campaignID).
		Scan(&total); err != nil {
		return nil, fmt.Errorf("store: plan of campaign %d: %w", campaignID, err)
	}
	if total.Valid {
		out = make([]campaign.PlanItem, 0, total.Int64)
		err := s.each(ctx, `SELECT first_seq, items, body FROM plan_chunks WHERE campaign_id = ? ORDER BY first_seq`,
			[]any{campaignID}, func(r *sql.Rows) error {
				var first, n int64
				var body sql.RawBytes
				if err := r.Scan(&first, &n, &body); err != nil {
					return err
				}
				at := len(out)
				var err error
				if out, err = decodePlanChunk(out, body); err != nil {
					return fmt.Errorf("plan chunk from %d: %w", first, err)
				}
				if got := out[at:]; int64(len(got)) != n || len(got) > 0 && int64(got[0].Seq) != first ||
					at > 0 && len(got) > 0 && got[0].Seq <= out[at-1].Seq {
					return fmt.Errorf("plan chunk from %d: %w: holds %d items, not %d, or out of order", first, errPlanChunk, len(got), n)
				}
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("store: plan of campaign %d: %w", campaignID, err)
		}
		return out, nil
	}
	err := s.each(ctx, `SELECT seq, kind, user_id, group_id, app_id, case_ids, reason FROM plan_items
		WHERE campaign_id = ? ORDER BY seq`, []any{campaignID}, func(r *sql.Rows) error {
		var it campaign.PlanItem
		var ids string
		if err := r.Scan(&it.Seq, &it.Kind, &it.UserID, &it.GroupID, &it.AppID, &ids, &it.Reason); err != nil {
			return err
		}
		for _, f := range strings.Fields(ids) {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return fmt.Errorf("plan item %d: case id %q: %w", it.Seq, f, err)
			}
			it.CaseIDs = append(it.CaseIDs, id)
		}
		out = append(out, it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: plan of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// AddApproval records an approver's decision on a campaign's plan and
// returns every approval so far, oldest first. An approver's first word
// stands: a second click (a redelivered envelope, a change of mind, the
// same Okta user under another email) changes nothing, appends no event
// and is not an error. ev is appended only when the approval is new; a
// zero a.At is set to the store's clock.
//
// The write is fenced in its own transaction: it applies only while the
// campaign is closed and, when a.PlanDigest is set (the engine always
// sets it), while its plan digest is a.PlanDigest (a campaign closed
// before digests were kept takes a.PlanDigest as its digest). It
// returns an error wrapping campaign.ErrConflict when the campaign is no
// longer closed or its plan is not the one approved, campaign.ErrNotFound
// when there is no such campaign, and an error if a write fails.
func (s *Store) AddApproval(ctx context.Context, campaignID int64, a campaign.Approval, ev campaign.Event) ([]campaign.Approval, error) {
	if a.At.IsZero() {
		a.At = s.Now()
	}
	var out []campaign.Approval
	err := s.inTx(ctx, func(tx *sqlTx) error {
		// A write first, so the transaction holds the write lock before it
		// reads the campaign's state.
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET plan_digest = ? WHERE id = ? AND plan_digest = '' AND state = ?`,
			a.PlanDigest, campaignID, string(campaign.StateClosed)); err != nil {
			return err
		}
		var state, digest string
		err := tx.QueryRowContext(ctx, `SELECT state, plan_digest FROM campaigns WHERE id = ?`, campaignID).Scan(&state, &digest)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("no campaign %d: %w", campaignID, campaign.ErrNotFound)
		case err != nil:
			return err
		case state != string(campaign.StateClosed):
			return fmt.Errorf("campaign %d is %s; only a closed campaign's plan can be decided: %w", campaignID, state, campaign.ErrConflict)
		case a.PlanDigest != "" && digest != a.PlanDigest:
			return fmt.Errorf("the plan of campaign %d is %s, not the plan %s that was decided: %w",
				campaignID, short(digest), short(a.PlanDigest), campaign.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO approvals (campaign_id, approver, decision, at, approver_id,
			slack_user, via, plan_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			campaignID, a.Approver, a.Decision, fmtTime(a.At), a.ApproverID, a.SlackUserID, a.Via, a.PlanDigest)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			if err := s.appendEvents(ctx, tx, withCampaign(ev, campaignID)); err != nil {
				return err
			}
		}
		out, err = readApprovals(ctx, tx, campaignID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: approval of campaign %d by %s: %w", campaignID, a.Approver, err)
	}
	return out, nil
}

// short abbreviates a digest for messages.
func short(digest string) string {
	if digest == "" {
		return "(none)"
	}
	return digest[:min(12, len(digest))]
}

// approvalColumns are the columns of an approval as scanApproval reads them.
const approvalColumns = `approver, decision, at, approver_id, slack_user, via, plan_digest`

// readApprovals reads a campaign's approvals, sorted.
func readApprovals(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, campaignID int64) ([]campaign.Approval, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE campaign_id = ?`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []campaign.Approval
	for rows.Next() {
		var ap campaign.Approval
		var at string
		if err := rows.Scan(&ap.Approver, &ap.Decision, &at, &ap.ApproverID, &ap.SlackUserID, &ap.Via, &ap.PlanDigest); err != nil {
			return nil, err
		}
		ap.At = parseTime(at)
		out = append(out, ap)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortApprovals(out)
	return out, nil
}

// sortApprovals orders by time, then approver. The times are compared
// parsed: as text, fmtTime's trimmed fractions do not sort.
func sortApprovals(list []campaign.Approval) {
	sort.Slice(list, func(i, j int) bool {
		if !list[i].At.Equal(list[j].At) {
			return list[i].At.Before(list[j].At)
		}
		return list[i].Approver < list[j].Approver
	})
}

// MarkReminder records that person was reminded in a campaign for slot and
// appends ev, in one transaction. It returns false, appending nothing,
// when that reminder was already recorded, so two schedulers never remind
// twice; it returns an error if a write fails.
func (s *Store) MarkReminder(ctx context.Context, campaignID int64, person string, slot time.Time, ev campaign.Event) (bool, error) {
	var inserted bool
	err := s.inTx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO reminders_sent (campaign_id, person, slot) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			campaignID, person, fmtSortable(slot))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		inserted = true
		return s.appendEvents(ctx, tx, withCampaign(ev, campaignID))
	})
	if err != nil {
		return false, fmt.Errorf("store: reminder of %s in campaign %d: %w", person, campaignID, err)
	}
	return inserted, nil
}

// Approvals returns a campaign's approvals and rejections in order. It
// returns an error if the query fails.
func (s *Store) Approvals(ctx context.Context, campaignID int64) ([]campaign.Approval, error) {
	out, err := readApprovals(ctx, s.db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("store: approvals of campaign %d: %w", campaignID, err)
	}
	return out, nil
}
