package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/attestbot/attest/campaign"
)

// SwapSweepReview moves the campaign recorded for a sweep from expect to
// campaignID, compare-and-swap: of two launches of one sweep exactly one
// claims it (0 -> its campaign), a failed launch releases its claim (its
// campaign -> 0), and a claim by a launch that died can be taken over. It
// returns the campaign recorded after the call and whether the swap
// happened; an error wrapping campaign.ErrNotFound when there is no such
// sweep, or the database's error.
func (s *Store) SwapSweepReview(ctx context.Context, sweepID, expect, campaignID int64) (int64, bool, error) {
	var current int64
	var swapped bool
	err := s.inTx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sweeps SET campaign_id = ? WHERE id = ? AND campaign_id = ?`, campaignID, sweepID, expect)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		swapped = n == 1
		err = tx.QueryRowContext(ctx, `SELECT campaign_id FROM sweeps WHERE id = ?`, sweepID).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no sweep %d: %w", sweepID, campaign.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: claim the review of sweep %d: %w", sweepID, err)
	}
	return current, swapped, nil
}
