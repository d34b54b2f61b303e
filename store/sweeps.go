package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/attestbot/attest/campaign"
)

// SaveSweep records a sweep's findings and returns its id.
func (s *Store) SaveSweep(ctx context.Context, snapshotID int64, findings int, covered map[campaign.EntitlementKey]bool) (int64, error) {
	keys := make([][3]string, 0, len(covered))
	for k := range covered {
		keys = append(keys, [3]string{k.UserID, k.Kind, k.EntitlementID})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][2] < keys[j][0]+keys[j][2] })
	raw, err := json.Marshal(keys)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.inTx(ctx, func(tx *sqlTx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO sweeps (at, snapshot_id, findings, covered) VALUES (?, ?, ?, ?) RETURNING id`,
			fmtTime(s.Now()), snapshotID, findings, string(raw)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("store: save sweep: %w", err)
	}
	return id, nil
}

// Sweep returns a sweep's covered entitlements and the campaign launched
// from it (0: none yet).
func (s *Store) Sweep(ctx context.Context, id int64) (map[campaign.EntitlementKey]bool, int64, error) {
	var raw string
	var cid int64
	err := s.db.QueryRowContext(ctx, `SELECT covered, campaign_id FROM sweeps WHERE id = ?`, id).Scan(&raw, &cid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("store: no sweep %d: %w", id, campaign.ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: sweep %d: %w", id, err)
	}
	var keys [][3]string
	if err := json.Unmarshal([]byte(raw), &keys); err != nil {
		return nil, 0, fmt.Errorf("store: sweep %d: %w", id, err)
	}
	out := make(map[campaign.EntitlementKey]bool, len(keys))
	for _, k := range keys {
		out[campaign.EntitlementKey{UserID: k[0], Kind: k[1], EntitlementID: k[2]}] = true
	}
	return out, cid, nil
}

// ClaimSweepReview records the campaign launched from a sweep, once: false
// when a review was launched from it already.
func (s *Store) ClaimSweepReview(ctx context.Context, id, campaignID int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE sweeps SET campaign_id = ? WHERE id = ? AND campaign_id = 0`, campaignID, id)
	if err != nil {
		return false, fmt.Errorf("store: sweep %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
