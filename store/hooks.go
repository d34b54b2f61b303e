package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/hookevent"
)

// SaveHookEvents stores Okta event hook events in one transaction of the
// events database (EventsPath), durable once it returns, skipping uuids
// already stored (a retried delivery), and returns how many rows are new.
// It never waits on the main database. An event without ReceivedAt is
// stamped with s.Now. On error nothing is stored and the count is 0.
func (s *Store) SaveHookEvents(ctx context.Context, events []hookevent.Event) (int, error) {
	db, err := s.eventsDB()
	if err != nil {
		return 0, err
	}
	now := s.Now()
	inserted := 0
	err = inTxOn(ctx, db, func(tx *sqlTx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO hook_events
			(uuid, received_at, published, event_type, actor_id, target_json, raw) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, ev := range events {
			if ev.UUID == "" {
				return fmt.Errorf("event without a uuid: %w", campaign.ErrInvalid)
			}
			targets := []byte("[]")
			if len(ev.Target) > 0 {
				if targets, err = json.Marshal(ev.Target); err != nil {
					return fmt.Errorf("event %s: %w", ev.UUID, err)
				}
			}
			raw := ev.Raw
			if len(raw) == 0 {
				// Built in code rather than received: keep what there is.
				if raw, err = json.Marshal(ev); err != nil {
					return fmt.Errorf("event %s: %w", ev.UUID, err)
				}
			}
			received := ev.ReceivedAt
			if received.IsZero() {
				received = now
			}
			res, err := stmt.ExecContext(ctx, ev.UUID, fmtSortable(received), fmtSortable(ev.Published), ev.EventType,
				ev.Actor.ID, string(targets), string(raw))
			if err != nil {
				return fmt.Errorf("event %s: %w", ev.UUID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				inserted++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: save hook events: %w", err)
	}
	return inserted, nil
}

const hookCols = `uuid, received_at, raw, state, attempts, last_error, processed_at`

func scanHookEvent(r interface{ Scan(...any) error }) (hookevent.Event, error) {
	var uuid, received, raw, state, lastErr, processed string
	var attempts int
	if err := r.Scan(&uuid, &received, &raw, &state, &attempts, &lastErr, &processed); err != nil {
		return hookevent.Event{}, err
	}
	ev, err := hookevent.DecodeEvent([]byte(raw))
	if err != nil {
		return hookevent.Event{UUID: uuid}, err
	}
	ev.UUID = uuid
	ev.ReceivedAt, ev.ProcessedAt = parseTime(received), parseTime(processed)
	ev.State, ev.Attempts, ev.LastError = state, attempts, lastErr
	return ev, nil
}

// ClaimHookEvents moves up to limit events, oldest received first, to
// processing and returns them with the attempt counted. Pending events are
// due; so are processing events claimed more than hookevent.Lease before now,
// which a stopped process left behind. An event whose stored JSON no
// longer decodes is marked failed instead of returned.
func (s *Store) ClaimHookEvents(ctx context.Context, limit int, now time.Time) ([]hookevent.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	db, err := s.eventsDB()
	if err != nil {
		return nil, err
	}
	expired := fmtSortable(now.Add(-hookevent.Lease))
	var out []hookevent.Event
	err = claimTxOn(ctx, db, func(tx *sqlTx) error {
		out = out[:0]
		var broken []hookevent.Event
		if err := eachRow(ctx, tx, `SELECT `+hookCols+` FROM hook_events
			WHERE state = 'pending' OR (state = 'processing' AND claimed_at <= ?)
			ORDER BY received_at, rowid LIMIT ?`+skipLocked, []any{expired, limit}, func(r *sql.Rows) error {
			ev, err := scanHookEvent(r)
			if err != nil {
				ev.LastError = "stored event does not decode: " + err.Error()
				broken = append(broken, ev)
				return nil
			}
			out = append(out, ev)
			return nil
		}); err != nil {
			return err
		}
		at := fmtSortable(now)
		for i := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE hook_events SET state = 'processing', attempts = attempts + 1, claimed_at = ?
				WHERE uuid = ?`, at, out[i].UUID); err != nil {
				return err
			}
			out[i].State, out[i].Attempts = hookevent.StateProcessing, out[i].Attempts+1
		}
		for _, ev := range broken {
			if _, err := tx.ExecContext(ctx, `UPDATE hook_events SET state = 'failed', last_error = ?, processed_at = ? WHERE uuid = ?`,
				truncate(ev.LastError, 500), fmtTime(now), ev.UUID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim hook events: %w", err)
	}
	return out, nil
}

// FinishHookEvent records the outcome of processing a claimed event:
// done, ignored or failed end it; pending puts it back for another
// attempt. It returns an error wrapping campaign.ErrInvalid for another
// state, campaign.ErrNotFound for an unknown uuid, and campaign.ErrConflict
// when the event is not processing (finished already, or never claimed).
func (s *Store) FinishHookEvent(ctx context.Context, uuid, state, errMsg string) error {
	processed := fmtTime(s.Now())
	switch state {
	case hookevent.StateDone, hookevent.StateIgnored, hookevent.StateFailed:
	case hookevent.StatePending:
		processed = ""
	default:
		return fmt.Errorf("store: finish hook event %s: state %q: %w", uuid, state, campaign.ErrInvalid)
	}
	db, err := s.eventsDB()
	if err != nil {
		return err
	}
	res, err := db.ExecContext(ctx, `UPDATE hook_events SET state = ?, last_error = ?, processed_at = ?, claimed_at = ''
		WHERE uuid = ? AND state = 'processing'`, state, truncate(errMsg, 500), processed, uuid)
	if err != nil {
		return fmt.Errorf("store: finish hook event %s: %w", uuid, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var cur string
	err = db.QueryRowContext(ctx, `SELECT state FROM hook_events WHERE uuid = ?`, uuid).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: no hook event %s: %w", uuid, campaign.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: finish hook event %s: %w", uuid, err)
	}
	return fmt.Errorf("store: hook event %s is %s, not processing: %w", uuid, cur, campaign.ErrConflict)
}

// HookEvent returns one stored event with its queue state, or an error
// wrapping campaign.ErrNotFound.
func (s *Store) HookEvent(ctx context.Context, uuid string) (hookevent.Event, error) {
	db, err := s.eventsDB()
	if err != nil {
		return hookevent.Event{}, err
	}
	ev, err := scanHookEvent(db.QueryRowContext(ctx, `SELECT `+hookCols+` FROM hook_events WHERE uuid = ?`, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return ev, fmt.Errorf("store: no hook event %s: %w", uuid, campaign.ErrNotFound)
	}
	if err != nil {
		return ev, fmt.Errorf("store: hook event %s: %w", uuid, err)
	}
	return ev, nil
}

// HookEventCounts counts stored events by state, for /metrics and tests.
func (s *Store) HookEventCounts(ctx context.Context) (map[string]int, error) {
	db, err := s.eventsDB()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT state, COUNT(*) FROM hook_events GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: hook event counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("store: hook event counts: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: hook event counts: %w", err)
	}
	return out, nil
}
