package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/attestbot/attest/campaign"
)

// writeHistory records certification decisions. A campaign's record of an
// entitlement replaces an earlier one of the same campaign (the primary
// key), so a retried close cannot double it; records without a campaign
// get campaignID.
func writeHistory(ctx context.Context, tx *sqlTx, campaignID int64, history []campaign.Certification) error {
	ins := newUpsert(ctx, tx, "cert_history", []string{"user_id", "kind", "entitlement_id", "campaign_id"}, "user_id", "kind", "entitlement_id", "certified_at",
		"outcome", "decided_by", "campaign_id", "accept_until")
	for _, h := range history {
		id := h.CampaignID
		if id == 0 {
			id = campaignID
		}
		ins.add(h.UserID, h.Kind, h.EntitlementID, fmtSortable(h.CertifiedAt), h.Outcome, h.DecidedBy, id, fmtTime(h.AcceptUntil))
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("certification history: %w", err)
	}
	return nil
}

// Certifications returns the latest certification of every (user, kind,
// entitlement) in the history; of two at the same instant, the later
// campaign's. It returns an error if the query fails.
func (s *Store) Certifications(ctx context.Context) (map[campaign.EntitlementKey]campaign.Certification, error) {
	out := map[campaign.EntitlementKey]campaign.Certification{}
	ids := newInterner()
	err := s.each(ctx, `SELECT user_id, kind, entitlement_id, certified_at, outcome, decided_by, campaign_id, accept_until
		FROM (SELECT h.*, ROW_NUMBER() OVER (PARTITION BY user_id, kind, entitlement_id
			ORDER BY certified_at DESC, campaign_id DESC) AS n FROM cert_history AS h) AS latest
		WHERE n = 1`, nil, func(r *sql.Rows) error {
		var user, kind, ent, outcome, by sql.RawBytes
		var at, until string
		var c campaign.Certification
		if err := r.Scan(&user, &kind, &ent, &at, &outcome, &by, &c.CampaignID, &until); err != nil {
			return err
		}
		c.EntitlementKey = campaign.EntitlementKey{UserID: ids.get(user), Kind: ids.get(kind), EntitlementID: ids.get(ent)}
		c.CertifiedAt, c.AcceptUntil = parseTime(at), parseTime(until)
		c.Outcome, c.DecidedBy = ids.get(outcome), ids.get(by)
		out[c.EntitlementKey] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: certifications: %w", err)
	}
	return out, nil
}

// PruneHistory deletes the certification records made before before and
// returns how many it deleted. The history only feeds recertification;
// the audit log, which keeps the evidence, is never pruned. It returns an
// error if the delete fails.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM cert_history WHERE certified_at < ?`, fmtSortable(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune certification history: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune certification history: %w", err)
	}
	return n, nil
}

// ClaimScheduleRun claims the run of a scheduled definition for slot,
// noting now as its start. It returns false when the slot was already
// claimed, so of several schedulers exactly one launches; it returns an
// error if the write fails.
func (s *Store) ClaimScheduleRun(ctx context.Context, definition string, slot, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO schedule_runs (definition, slot, started_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		definition, fmtSortable(slot), fmtTime(now))
	if err != nil {
		return false, fmt.Errorf("store: claim run of %s at %s: %w", definition, fmtTime(slot), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim run of %s at %s: %w", definition, fmtTime(slot), err)
	}
	return n == 1, nil
}

// LastScheduleRun returns the latest slot claimed for a definition, zero if
// none. It returns an error if the query fails.
func (s *Store) LastScheduleRun(ctx context.Context, definition string) (time.Time, error) {
	var slot sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT MAX(slot) FROM schedule_runs WHERE definition = ?`, definition).Scan(&slot)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: last run of %s: %w", definition, err)
	}
	return parseTime(slot.String), nil
}

// SetScheduleRunCampaign notes which campaign a claimed run launched. It
// returns an error wrapping campaign.ErrNotFound when the slot was never
// claimed.
func (s *Store) SetScheduleRunCampaign(ctx context.Context, definition string, slot time.Time, campaignID int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE schedule_runs SET campaign_id = ? WHERE definition = ? AND slot = ?`,
		campaignID, definition, fmtSortable(slot))
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = fmt.Errorf("no claimed run: %w", campaign.ErrNotFound)
		}
	}
	if err != nil {
		return fmt.Errorf("store: set campaign %d of run %s at %s: %w", campaignID, definition, fmtTime(slot), err)
	}
	return nil
}

// ScheduleRun is one claimed run of a scheduled definition.
type ScheduleRun struct {
	Slot, StartedAt time.Time
	CampaignID      int64 // 0 until the launch is recorded
}

// ScheduleRun returns the claimed run of a definition for slot. It returns
// an error wrapping campaign.ErrNotFound when the slot was never claimed.
func (s *Store) ScheduleRun(ctx context.Context, definition string, slot time.Time) (ScheduleRun, error) {
	var run ScheduleRun
	var sl, started string
	err := s.db.QueryRowContext(ctx, `SELECT slot, started_at, campaign_id FROM schedule_runs WHERE definition = ? AND slot = ?`,
		definition, fmtSortable(slot)).Scan(&sl, &started, &run.CampaignID)
	if errors.Is(err, sql.ErrNoRows) {
		return run, fmt.Errorf("store: no run of %s at %s: %w", definition, fmtTime(slot), campaign.ErrNotFound)
	}
	if err != nil {
		return run, fmt.Errorf("store: run of %s at %s: %w", definition, fmtTime(slot), err)
	}
	run.Slot, run.StartedAt = parseTime(sl), parseTime(started)
	return run, nil
}
