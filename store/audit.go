package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// newBulk is an inserter that fails on a row whose key is there already,
// for tables where a silently dropped row would be a bug.
func newBulk(ctx context.Context, tx *sqlTx, table string, columns ...string) *inserter {
	in := newInserter(ctx, tx, table, columns...)
	in.tail = ""
	return in
}

// newUpsert is an inserter whose rows replace those with the same key
// (the columns of the table's primary key), for tables where the newer row
// must win.
func newUpsert(ctx context.Context, tx *sqlTx, table string, key []string, columns ...string) *inserter {
	in := newInserter(ctx, tx, table, columns...)
	var set []string
	for _, c := range columns {
		if !slices.Contains(key, c) {
			set = append(set, c+" = excluded."+c)
		}
	}
	in.tail = " ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
	return in
}

// AppendEvent appends one audit event in its own transaction. A zero At is
// set to the store's clock. It returns an error if the insert fails.
func (s *Store) AppendEvent(ctx context.Context, ev campaign.Event) error {
	if err := s.inTx(ctx, func(tx *sqlTx) error {
		return s.appendEvents(ctx, tx, ev)
	}); err != nil {
		return fmt.Errorf("store: append %s event: %w", ev.Type, err)
	}
	return nil
}

// Slack evidence the handlers put in an event's Detail. appendEvents also
// copies them, when they are strings, to columns of their own; they stay in
// the detail too, and both are covered by the entry's hash.
const (
	detailActionTS = "slack_action_ts"
	detailPayload  = "payload_sha256"
)

// appendEvents inserts audit events inside tx, batched so that an
// escalation of tens of thousands of cases stays one quick transaction,
// each event hashed and chained to the one before (audit_chain.go).
//
// Reading the chain's head and appending after it is race-free because tx
// is a write transaction from its first statement: Open sets
// _txlock=immediate, so inTx begins with BEGIN IMMEDIATE and holds SQLite's
// one write lock before the head is read. A deferred transaction could not
// fork the chain either: its ids (the head's plus one) would collide with
// a concurrent writer's on the primary key, or SQLite would refuse the
// stale write with SQLITE_BUSY_SNAPSHOT.
func (s *Store) appendEvents(ctx context.Context, tx *sqlTx, events ...campaign.Event) error {
	if len(events) == 0 {
		return nil
	}
	id, prev, err := chainHead(ctx, tx)
	if err != nil {
		return fmt.Errorf("audit log head: %w", err)
	}
	from, err := keyedFrom(ctx, tx)
	if err != nil {
		return fmt.Errorf("audit log mode: %w", err)
	}
	h := &chainHasher{}
	switch {
	case from != 0 && s.auditKey == nil:
		return fmt.Errorf("the audit chain is keyed from entry %d: open the store with the audit key (store.audit_key or ATTEST_AUDIT_KEY): %w", from, ErrNoAuditKey)
	case from == 0 && s.auditKey != nil:
		return errors.New("the store has an audit key but the chain's mode record is gone: the database was altered; run `attest audit verify`")
	case from != 0:
		if err := checkSignedHead(ctx, tx, s.auditKey); err != nil {
			return err
		}
		h = keyedHasher(s.auditKey)
	}
	now := s.Now()
	ins := newBulk(ctx, tx, "audit_log", append(append([]string{"id"}, chainColumnNames...), "hash")...)
	fields := make([]string, 0, len(chainColumnNames))
	for i := range events {
		ev := &events[i]
		if ev.Actor.SlackActionTS != "" || ev.Actor.PayloadSHA256 != "" {
			// A Slack click's evidence rides in the detail, hashed with it.
			d := make(map[string]any, len(ev.Detail)+2)
			for k, v := range ev.Detail {
				d[k] = v
			}
			if ev.Actor.SlackActionTS != "" {
				d[detailActionTS] = ev.Actor.SlackActionTS
			}
			if ev.Actor.PayloadSHA256 != "" {
				d[detailPayload] = ev.Actor.PayloadSHA256
			}
			ev.Detail = d
		}
		detail := []byte("{}")
		if len(ev.Detail) > 0 {
			if detail, err = json.Marshal(ev.Detail); err != nil {
				return fmt.Errorf("event %s detail: %w", ev.Type, err)
			}
		}
		at := ev.At
		if at.IsZero() {
			at = now
		}
		a := ev.Actor
		actionTS, _ := ev.Detail[detailActionTS].(string)
		payload, _ := ev.Detail[detailPayload].(string)
		id++
		fields = append(fields[:0], fmtTime(at), strconv.FormatInt(ev.CampaignID, 10), strconv.FormatInt(ev.CaseID, 10),
			ev.Type, a.Email, a.UserID, a.Via, a.SlackUserID, a.SlackTeamID, string(detail), payload, actionTS, prev)
		hash := string(entryHash(h, id, fields))
		ins.add(id, fields[0], ev.CampaignID, ev.CaseID, ev.Type, a.Email, a.UserID, a.Via, a.SlackUserID, a.SlackTeamID,
			fields[9], payload, actionTS, prev, hash)
		prev = hash
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if from != 0 {
		if err := writeHead(ctx, tx, s.auditKey, id, prev); err != nil {
			return fmt.Errorf("audit log signed head: %w", err)
		}
	}
	return nil
}

// chainHead returns the id and hash the next entry follows: the newest
// entry's or, when a prune left none after it, the newest checkpoint's;
// zero and "" for an empty log.
func chainHead(ctx context.Context, tx *sqlTx) (int64, string, error) {
	var id int64
	var hash string
	err := tx.QueryRowContext(ctx, `SELECT id, hash FROM (
			SELECT * FROM (SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1) AS e
			UNION ALL
			SELECT * FROM (SELECT last_id, last_hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1) AS c) AS h
		ORDER BY id DESC LIMIT 1`).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return id, hash, err
}

// PruneAudit removes the audit entries older than before and, in the same
// transaction, records in their place a checkpoint signed with key, from
// which the remaining chain verifies. It removes the longest run of
// entries, from the first in id order, older than before: the chain can
// only lose its start, so an old entry after a newer one waits for a later
// prune. It checks what it removes first and refuses if that does not
// verify, since the checkpoint vouches for it. With nothing to remove it
// returns 0 and a zero Checkpoint. It returns an error wrapping
// ErrNoAuditKey if key is empty, or one naming the first bad entry or
// checkpoint, or a failed write; then nothing is removed.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, key []byte) (int64, Checkpoint, error) {
	if len(key) == 0 {
		return 0, Checkpoint{}, fmt.Errorf("store: prune audit log: %w", ErrNoAuditKey)
	}
	var removed int64
	var cp Checkpoint
	err := s.inTx(ctx, func(tx *sqlTx) error {
		v, err := newChainVerifier(ctx, tx, key, false, "")
		if err != nil {
			return err
		}
		if removed, err = v.verifyBefore(ctx, tx, before); err != nil || removed == 0 {
			return err
		}
		at := fmtTime(s.Now())
		cp = Checkpoint{At: parseTime(at), LastID: v.report.LastID, LastHash: string(v.prev), EntriesRemoved: removed}
		cp.Signature = signCheckpoint(key, cp.LastID, cp.LastHash, removed, at)
		if _, err := tx.ExecContext(ctx, tx.d.auditDeleteOff()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id <= ?`, cp.LastID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != removed {
			return fmt.Errorf("deleted %d entries, want %d: %v", n, removed, err)
		}
		if _, err := tx.ExecContext(ctx, tx.d.auditDeleteOn()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO audit_checkpoints (at, last_id, last_hash, entries_removed, signature)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, at, cp.LastID, cp.LastHash, removed, cp.Signature).Scan(&cp.ID)
	})
	if err != nil {
		return 0, Checkpoint{}, fmt.Errorf("store: prune audit log before %s: %w", before.Format(time.DateOnly), err)
	}
	return removed, cp, nil
}

// Events returns a campaign's audit events in the order they were
// appended. Numbers in Detail come back as float64, as encoding/json reads
// them, and an empty Detail as nil. It returns an error if the query or a detail fails to decode.
func (s *Store) Events(ctx context.Context, campaignID int64) ([]campaign.Event, error) {
	var out []campaign.Event
	err := s.each(ctx, `SELECT `+eventColumns+` FROM audit_log WHERE campaign_id = ? ORDER BY id`, []any{campaignID},
		func(r *sql.Rows) error {
			ev, err := scanEvent(r)
			out = append(out, ev)
			return err
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
func (s *Store) recordChange(ctx context.Context, tx *sqlTx, campaignID int64, from, to campaign.State, ev campaign.Event) error {
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
