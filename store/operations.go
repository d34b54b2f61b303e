package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
)

var _ campaign.OperationStore = (*Store)(nil)

// QueueOperations copies a plan's Okta operations as pending jobs.
func (s *Store) QueueOperations(ctx context.Context, campaignID int64, plan []campaign.PlanItem) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx *sqlTx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO operations (campaign_id, seq, kind, user_id, group_id, app_id, case_ids)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range plan {
			if !p.IsOperation() {
				continue
			}
			res, err := stmt.ExecContext(ctx, campaignID, p.Seq, p.Kind, p.UserID, p.GroupID, p.AppID, joinIDs(p.CaseIDs))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue operations of campaign %d: %w", campaignID, err)
	}
	return added, nil
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " ")
}

func splitIDs(s string) []int64 {
	var out []int64
	for _, f := range strings.Fields(s) {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

const opColumns = `campaign_id, seq, kind, user_id, group_id, app_id, case_ids, state, result, attempts, error_code, error_summary,
	claimed_by, claimed_at, finished_at, verified`

func scanOp(r interface{ Scan(...any) error }) (campaign.Operation, error) {
	var op campaign.Operation
	var cases, claimed, finished string
	err := r.Scan(&op.CampaignID, &op.Seq, &op.Kind, &op.UserID, &op.GroupID, &op.AppID, &cases, &op.State, &op.Result,
		&op.Attempts, &op.ErrorCode, &op.ErrorSummary, &op.ClaimedBy, &claimed, &finished, &op.Verified)
	op.CaseIDs, op.ClaimedAt, op.FinishedAt = splitIDs(cases), parseTime(claimed), parseTime(finished)
	return op, err
}

// ClaimOperations takes up to limit pending jobs in one transaction, so
// two executors never take the same job: on SQLite the transaction holds
// the write lock; on PostgreSQL it locks the rows it takes and skips those
// another replica is taking.
func (s *Store) ClaimOperations(ctx context.Context, campaignID int64, worker string, now time.Time, limit int) ([]campaign.Operation, error) {
	var out []campaign.Operation
	err := s.inClaimTx(ctx, func(tx *sqlTx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT `+opColumns+` FROM operations WHERE campaign_id = ? AND state = 'pending'
			ORDER BY seq LIMIT ?`+skipLocked, campaignID, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			op, err := scanOp(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, op)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		// One statement for the whole claim.
		args := []any{worker, fmtSortable(now), campaignID}
		for i := range out {
			args = append(args, out[i].Seq)
			out[i].State, out[i].ClaimedBy, out[i].ClaimedAt, out[i].Attempts = campaign.OpRunning, worker, now, out[i].Attempts+1
		}
		res, err := tx.ExecContext(ctx, `UPDATE operations SET state = 'running', claimed_by = ?, claimed_at = ?, attempts = attempts + 1
			WHERE campaign_id = ? AND state = 'pending' AND seq IN (`+placeholders(len(out))+`)`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(out)) {
			return fmt.Errorf("claimed %d of %d operations: %v", n, len(out), err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim operations: %w", err)
	}
	return out, nil
}

// FinishOperations records outcomes and their audit events together.
func (s *Store) FinishOperations(ctx context.Context, ops []*campaign.Operation, events []campaign.Event) ([]int, error) {
	var lost []int
	err := s.inTx(ctx, func(tx *sqlTx) error {
		lost = lost[:0]
		stmt, err := tx.PrepareContext(ctx, `UPDATE operations SET state = ?, result = ?, error_code = ?, error_summary = ?, finished_at = ?
			WHERE campaign_id = ? AND seq = ? AND state = 'running' AND claimed_by = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		var keep []campaign.Event
		for i, op := range ops {
			res, err := stmt.ExecContext(ctx, op.State, op.Result, op.ErrorCode, truncate(op.ErrorSummary, 500), fmtTime(op.FinishedAt),
				op.CampaignID, op.Seq, op.ClaimedBy)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				lost = append(lost, op.Seq)
				continue
			}
			keep = append(keep, withCampaign(events[i], op.CampaignID))
		}
		return s.appendEvents(ctx, tx, keep...)
	})
	if err != nil {
		return nil, fmt.Errorf("store: finish operations: %w", err)
	}
	return lost, nil
}

// ReleaseOperation puts a running job back to pending.
func (s *Store) ReleaseOperation(ctx context.Context, campaignID int64, seq int, worker string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE operations SET state = 'pending', claimed_by = '' WHERE campaign_id = ? AND seq = ?
		AND state = 'running' AND claimed_by = ?`, campaignID, seq, worker)
	return err
}

// StuckOperations returns jobs running since before `before`.
func (s *Store) StuckOperations(ctx context.Context, campaignID int64, before time.Time) ([]campaign.Operation, error) {
	return s.ops(ctx, `WHERE campaign_id = ? AND state = 'running' AND claimed_at < ?`, campaignID, fmtSortable(before))
}

// Operations returns every job of a campaign in order.
func (s *Store) Operations(ctx context.Context, campaignID int64) ([]campaign.Operation, error) {
	return s.ops(ctx, `WHERE campaign_id = ?`, campaignID)
}

// OpenOperations counts a campaign's pending and running jobs, through
// the (campaign_id, state) index, without reading them.
func (s *Store) OpenOperations(ctx context.Context, campaignID int64) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM operations WHERE campaign_id = ? AND state IN (?, ?)`,
		campaignID, campaign.OpPending, campaign.OpRunning).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: open operations of campaign %d: %w", campaignID, err)
	}
	return n, nil
}

func (s *Store) ops(ctx context.Context, where string, args ...any) ([]campaign.Operation, error) {
	var out []campaign.Operation
	err := s.each(ctx, `SELECT `+opColumns+` FROM operations `+where+` ORDER BY seq`, args, func(r *sql.Rows) error {
		op, err := scanOp(r)
		out = append(out, op)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: operations: %w", err)
	}
	return out, nil
}

// RetryFailed puts failed jobs back to pending.
func (s *Store) RetryFailed(ctx context.Context, campaignID int64, ev campaign.Event) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE operations SET state = 'pending', result = '', error_code = '', error_summary = '',
			claimed_by = '', attempts = 0 WHERE campaign_id = ? AND state = 'failed'`, campaignID)
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET state = 'remediating' WHERE id = ? AND state = 'done'`, campaignID); err != nil {
			return err
		}
		ev.Detail = map[string]any{"operations": n}
		return s.appendEvents(ctx, tx, withCampaign(ev, campaignID))
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry failed operations: %w", err)
	}
	return int(n), nil
}

// SetVerified records the read-back of a job after the run.
func (s *Store) SetVerified(ctx context.Context, campaignID int64, seq int, verified string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE operations SET verified = ? WHERE campaign_id = ? AND seq = ?`, verified, campaignID, seq)
	return err
}

// SnapshotGroup returns one group of a snapshot.
func (s *Store) SnapshotGroup(ctx context.Context, snapshotID int64, groupID string) (campaign.Group, error) {
	var g campaign.Group
	var rules string
	err := s.db.QueryRowContext(ctx, `SELECT id, name, description, type, rule_ids FROM dir_groups WHERE snapshot_id = ? AND id = ?`,
		snapshotID, groupID).Scan(&g.ID, &g.Name, &g.Description, &g.Type, &rules)
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("store: no group %s in snapshot %d: %w", groupID, snapshotID, campaign.ErrNotFound)
	}
	g.RuleIDs = strings.Fields(rules)
	return g, err
}
