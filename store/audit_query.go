package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

var _ campaign.ReminderChecker = (*Store)(nil)

// ReminderMarked reports whether MarkReminder recorded person for slot in
// campaign campaignID, without recording anything. It returns the
// database's error.
func (s *Store) ReminderMarked(ctx context.Context, campaignID int64, person string, slot time.Time) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM reminders_sent WHERE campaign_id = ? AND person = ? AND slot = ?`,
		campaignID, person, fmtSortable(slot)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: reminder of %s in campaign %d: %w", person, campaignID, err)
	}
	return true, nil
}
