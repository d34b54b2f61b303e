package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
)

// The campaign store: campaigns.go (lifecycle), cases.go (cases and
// progress), plan.go (plan, approvals, reminders), history.go
// (certification history, schedule runs) and this file (audit log).
var _ campaign.Store = (*Store)(nil)

// sortableLayout is RFC 3339 with a fixed nine-digit fraction. fmtTime
// trims trailing zeros, so "…:05Z" sorts after "…:05.5Z" as text; columns
// that SQL compares or orders (certified_at, schedule and reminder slots)
// use this layout instead, which parseTime still reads.
const sortableLayout = "2006-01-02T15:04:05.000000000Z07:00"

// fmtSortable formats t in UTC with sortableLayout; zero is "".
func fmtSortable(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(sortableLayout)
}

// newBulk is an inserter whose statements start with verb ("INSERT",
// "INSERT OR REPLACE") instead of INSERT OR IGNORE, for tables where a
// silently dropped row would be a bug or a newer row must win.
func newBulk(ctx context.Context, tx *sql.Tx, verb, table string, columns ...string) *inserter {
	in := newInserter(ctx, tx, table, columns...)
	in.head = verb + " INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	return in
}

// AppendEvent appends one audit event in its own transaction. A zero At is
// set to the store's clock. It returns an error if the insert fails.
func (s *Store) AppendEvent(ctx context.Context, ev campaign.Event) error {
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		return s.appendEvents(ctx, tx, ev)
	}); err != nil {
		return fmt.Errorf("store: append %s event: %w", ev.Type, err)
	}
	return nil
}

// appendEvents inserts audit events inside tx, batched so that an
// escalation of tens of thousands of cases stays one quick transaction.
func (s *Store) appendEvents(ctx context.Context, tx *sql.Tx, events ...campaign.Event) error {
	if len(events) == 0 {
		return nil
	}
	now := s.Now()
	ins := newBulk(ctx, tx, "INSERT", "audit_log", "at", "campaign_id", "case_id", "type", "actor", "actor_id",
		"actor_via", "slack_user", "slack_team", "detail")
	for i := range events {
		ev := &events[i]
		detail := []byte("{}")
		if len(ev.Detail) > 0 {
			var err error
			if detail, err = json.Marshal(ev.Detail); err != nil {
				return fmt.Errorf("event %s detail: %w", ev.Type, err)
			}
		}
		at := ev.At
		if at.IsZero() {
			at = now
		}
		a := ev.Actor
		ins.add(fmtTime(at), ev.CampaignID, ev.CaseID, ev.Type, a.Email, a.UserID, a.Via, a.SlackUserID, a.SlackTeamID, string(detail))
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// Events returns a campaign's audit events in the order they were
// appended. Numbers in Detail come back as float64, as encoding/json reads
// them, and an empty Detail as nil. It returns an error if the query or a detail fails to decode.
func (s *Store) Events(ctx context.Context, campaignID int64) ([]campaign.Event, error) {
	var out []campaign.Event
	err := s.each(ctx, `SELECT id, at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user, slack_team, detail
		FROM audit_log WHERE campaign_id = ? ORDER BY id`, []any{campaignID}, func(r *sql.Rows) error {
		var ev campaign.Event
		var at, detail string
		a := &ev.Actor
		if err := r.Scan(&ev.ID, &at, &ev.CampaignID, &ev.CaseID, &ev.Type, &a.Email, &a.UserID, &a.Via,
			&a.SlackUserID, &a.SlackTeamID, &detail); err != nil {
			return err
		}
		ev.At = parseTime(at)
		if detail != "" && detail != "{}" {
			if err := json.Unmarshal([]byte(detail), &ev.Detail); err != nil {
				return fmt.Errorf("event %d detail: %w", ev.ID, err)
			}
		}
		out = append(out, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: events of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// Transition is one recorded state change of a campaign.
type Transition struct {
	From, To campaign.State
	Actor    string
	At       time.Time
	Note     string
}

// Transitions returns a campaign's state changes, oldest first, for
// evidence reports. It returns an error if the query fails.
func (s *Store) Transitions(ctx context.Context, campaignID int64) ([]Transition, error) {
	var out []Transition
	err := s.each(ctx, `SELECT from_state, to_state, actor, at, note FROM campaign_transitions
		WHERE campaign_id = ? ORDER BY id`, []any{campaignID}, func(r *sql.Rows) error {
		var t Transition
		var at string
		if err := r.Scan(&t.From, &t.To, &t.Actor, &at, &t.Note); err != nil {
			return err
		}
		t.At = parseTime(at)
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: transitions of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// recordChange writes the transition row and the audit event of a state
// change inside tx. The event's campaign and time default to the
// campaign's id and the store's clock; the note is the event's "note".
func (s *Store) recordChange(ctx context.Context, tx *sql.Tx, campaignID int64, from, to campaign.State, ev campaign.Event) error {
	ev = withCampaign(ev, campaignID)
	if ev.At.IsZero() {
		ev.At = s.Now()
	}
	note, _ := ev.Detail["note"].(string)
	if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_transitions (campaign_id, from_state, to_state, actor, at, note)
		VALUES (?, ?, ?, ?, ?, ?)`, campaignID, string(from), string(to), ev.Actor.String(), fmtTime(ev.At), note); err != nil {
		return fmt.Errorf("transition: %w", err)
	}
	return s.appendEvents(ctx, tx, ev)
}

// withCampaign returns ev with its campaign set to id when unset.
func withCampaign(ev campaign.Event, id int64) campaign.Event {
	if ev.CampaignID == 0 {
		ev.CampaignID = id
	}
	return ev
}
