package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// eventColumns are the audit_log columns scanEvent reads.
const eventColumns = `id, at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user, slack_team, detail`

// scanEvent reads one audit event selected by eventColumns. Numbers in
// Detail come back as float64, as encoding/json reads them, and an empty
// Detail as nil. It returns the scan's or the detail's decoding error.
func scanEvent(r *sql.Rows) (campaign.Event, error) {
	var ev campaign.Event
	var at, detail string
	a := &ev.Actor
	if err := r.Scan(&ev.ID, &at, &ev.CampaignID, &ev.CaseID, &ev.Type, &a.Email, &a.UserID, &a.Via,
		&a.SlackUserID, &a.SlackTeamID, &detail); err != nil {
		return ev, err
	}
	ev.At = parseTime(at)
	if detail != "" && detail != "{}" {
		if err := json.Unmarshal([]byte(detail), &ev.Detail); err != nil {
			return ev, fmt.Errorf("event %d detail: %w", ev.ID, err)
		}
	}
	return ev, nil
}

var _ campaign.EventReader = (*Store)(nil)

// EventsAfter returns campaign campaignID's audit events of the given
// types whose id is above afterID, in order (the engine's read of the
// escalations and delegations it has not yet seen told), and the id the
// read went up to: the log's last entry when it began, so the next read
// can start there even when nothing matched. Entries are numbered under
// the store's write lock in commit order, so none at or below that id
// can appear later. It reads through the campaign's index from afterID
// on. It returns the database's error, or one naming an entry whose
// detail does not decode.
func (s *Store) EventsAfter(ctx context.Context, campaignID, afterID int64, types ...string) ([]campaign.Event, int64, error) {
	var through int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit_log`).Scan(&through); err != nil {
		return nil, afterID, fmt.Errorf("store: audit log head: %w", err)
	}
	if len(types) == 0 || through <= afterID {
		return nil, max(through, afterID), nil
	}
	args := []any{campaignID, afterID, through}
	for _, t := range types {
		args = append(args, t)
	}
	q := `SELECT ` + eventColumns + ` FROM audit_log WHERE campaign_id = ? AND id > ? AND id <= ? AND type IN (?` +
		strings.Repeat(", ?", len(types)-1) + `) ORDER BY id`
	var out []campaign.Event
	err := s.each(ctx, q, args, func(r *sql.Rows) error {
		ev, err := scanEvent(r)
		out = append(out, ev)
		return err
	})
	if err != nil {
		return nil, afterID, fmt.Errorf("store: audit events of campaign %d after %d: %w", campaignID, afterID, err)
	}
	return out, through, nil
}
