package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/attestbot/attest/campaign"
)

var _ campaign.EventChecker = (*Store)(nil)

// HasEvent reports whether campaign campaignID's audit log holds an event
// of type typ (the engine's check that a stage's forms were all queued).
// It reads through the campaign's index and stops at the first match. It
// returns the database's error.
func (s *Store) HasEvent(ctx context.Context, campaignID int64, typ string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM audit_log WHERE campaign_id = ? AND type = ? LIMIT 1`, campaignID, typ).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: audit events %s of campaign %d: %w", typ, campaignID, err)
	}
	return true, nil
}
