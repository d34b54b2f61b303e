package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/attestbot/attest/campaign"
)

var _ campaign.RiskBindingStore = (*Store)(nil)

// RiskTargets returns a snapshot's apps (by label) and groups (by name);
// an unknown snapshot has none.
func (s *Store) RiskTargets(ctx context.Context, snapshotID int64) ([]campaign.RiskTarget, error) {
	var out []campaign.RiskTarget
	err := s.each(ctx, `SELECT ?, id, label FROM dir_apps WHERE snapshot_id = ?
		UNION ALL SELECT ?, id, name FROM dir_groups WHERE snapshot_id = ?`,
		[]any{campaign.KindApp, snapshotID, campaign.KindGroup, snapshotID}, func(r *sql.Rows) error {
			var t campaign.RiskTarget
			if err := r.Scan(&t.Kind, &t.ID, &t.Label); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: risk targets of snapshot %d: %w", snapshotID, err)
	}
	return out, nil
}

// RiskBindings returns every risk binding, ordered by kind, id and rule.
func (s *Store) RiskBindings(ctx context.Context) ([]campaign.RiskBinding, error) {
	var out []campaign.RiskBinding
	err := s.each(ctx, `SELECT kind, entitlement_id, rule, level, label, bound_at, snapshot_id FROM risk_bindings
		ORDER BY kind, entitlement_id, rule`, nil, func(r *sql.Rows) error {
		var b campaign.RiskBinding
		var at string
		if err := r.Scan(&b.Kind, &b.ID, &b.Rule, &b.Level, &b.Label, &at, &b.SnapshotID); err != nil {
			return err
		}
		b.BoundAt = parseTime(at)
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: risk bindings: %w", err)
	}
	return out, nil
}

// ReplaceRiskBindings replaces every risk binding with list in one
// transaction. It fails with campaign.ErrConflict, changing nothing, when a
// snapshot newer than snapshotID exists: that snapshot's sync binds it.
func (s *Store) ReplaceRiskBindings(ctx context.Context, snapshotID int64, list []campaign.RiskBinding) error {
	err := s.inTx(ctx, func(tx *sqlTx) error {
		var latest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM snapshots`).Scan(&latest); err != nil {
			return err
		}
		if latest.Int64 > snapshotID {
			return fmt.Errorf("snapshot %d is newer than %d: %w", latest.Int64, snapshotID, campaign.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM risk_bindings`); err != nil {
			return err
		}
		ins := newInserter(ctx, tx, "risk_bindings", "kind", "entitlement_id", "rule", "level", "label", "bound_at", "snapshot_id")
		for _, b := range list {
			ins.add(b.Kind, b.ID, b.Rule, b.Level, b.Label, fmtTime(b.BoundAt), b.SnapshotID)
		}
		return ins.flush()
	})
	if err != nil {
		return fmt.Errorf("store: replace risk bindings: %w", err)
	}
	return nil
}
