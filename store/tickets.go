package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/ticketjob"
)

// ticketLease is how long a claimed ticket job stays with the worker that
// claimed it. A job still sending after that was left by a stopped
// process and is claimed again; the worker's correlation lookup keeps a
// repeated create from making a second record.
const ticketLease = 5 * time.Minute

const ticketCols = `id, key, ref, campaign_id, kind, table_name, action, fields, sys_id, number, state, attempts,
	next_at, last_error, created_at, done_at`

// EnqueueTicket queues a ServiceNow ticket job. It returns false, and no
// error, when a job with the same key was queued before; an error wrapping
// campaign.ErrInvalid when the job is malformed. A job without NextAt is
// due at once.
func (s *Store) EnqueueTicket(ctx context.Context, job ticketjob.Job) (bool, error) {
	if err := job.Validate(); err != nil {
		return false, fmt.Errorf("store: enqueue ticket: %w", err)
	}
	fields := job.Fields
	if fields == nil {
		fields = map[string]string{}
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return false, fmt.Errorf("store: enqueue ticket %s: %w", job.Key, err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO tickets
		(key, ref, campaign_id, kind, table_name, action, fields, next_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		job.Key, job.Ref, job.CampaignID, job.Kind, job.Table, job.Action, string(body),
		fmtSortable(job.NextAt), fmtTime(s.Now()))
	if err != nil {
		return false, fmt.Errorf("store: enqueue ticket %s: %w", job.Key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func scanTicket(r interface{ Scan(...any) error }) (ticketjob.Job, error) {
	var j ticketjob.Job
	var fields, next, created, done string
	if err := r.Scan(&j.ID, &j.Key, &j.Ref, &j.CampaignID, &j.Kind, &j.Table, &j.Action, &fields, &j.SysID, &j.Number,
		&j.State, &j.Attempts, &next, &j.LastError, &created, &done); err != nil {
		return j, err
	}
	j.NextAt, j.CreatedAt, j.DoneAt = parseTime(next), parseTime(created), parseTime(done)
	return j, json.Unmarshal([]byte(fields), &j.Fields)
}

// ClaimTickets moves up to limit due jobs to sending, oldest first, and
// returns them with Attempts counting this claim. Due means pending with
// next_at reached, or sending with its claim lapsed; an update or resolve
// also waits for the earlier unfinished updates of its ref, so a ticket's
// changes reach ServiceNow in the order they were queued.
func (s *Store) ClaimTickets(ctx context.Context, now time.Time, limit int) ([]ticketjob.Job, error) {
	var out []ticketjob.Job
	at, lease := fmtSortable(now), fmtSortable(now.Add(ticketLease))
	err := s.inClaimTx(ctx, func(tx *sqlTx) error {
		out = out[:0]
		if err := eachRow(ctx, tx, `SELECT `+ticketCols+` FROM tickets t
			WHERE t.state IN ('pending', 'sending') AND t.next_at <= ?
			  AND (t.action = 'create' OR NOT EXISTS (
			      SELECT 1 FROM tickets p WHERE p.ref = t.ref AND p.id < t.id
			        AND p.action <> 'create' AND p.state IN ('pending', 'sending')))
			ORDER BY t.id LIMIT ?`+skipLocked, []any{at, limit}, func(r *sql.Rows) error {
			j, err := scanTicket(r)
			out = append(out, j)
			return err
		}); err != nil {
			return err
		}
		for i := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET state = 'sending', attempts = attempts + 1, next_at = ?
				WHERE id = ?`, lease, out[i].ID); err != nil {
				return err
			}
			out[i].State, out[i].Attempts, out[i].NextAt = ticketjob.JobSending, out[i].Attempts+1, parseTime(lease)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim tickets: %w", err)
	}
	return out, nil
}

// TicketDone records that a sending job reached ServiceNow and the record
// it touched; for a create it maps the job's ref to that record, the
// latest create winning. It returns campaign.ErrNotFound for an unknown
// id and campaign.ErrConflict when the job is not sending.
func (s *Store) TicketDone(ctx context.Context, id int64, sysID, number string) error {
	now := fmtTime(s.Now())
	return s.inTx(ctx, func(tx *sqlTx) error {
		var ref, action, table string
		var campaignID int64
		if err := tx.QueryRowContext(ctx, `SELECT ref, action, table_name, campaign_id FROM tickets WHERE id = ?`, id).
			Scan(&ref, &action, &table, &campaignID); err != nil {
			return s.ticketMissing(id, err)
		}
		if err := s.moveTicket(ctx, tx, id, `state = 'done', sys_id = ?, number = ?, done_at = ?, last_error = ''`,
			[]any{sysID, number, now}, "'sending'"); err != nil {
			return err
		}
		// Tickets created, updated and resolved are part of the evidence.
		if err := s.appendEvents(ctx, tx, campaign.Event{At: s.Now(), CampaignID: campaignID, Type: "ticket." + action,
			Actor: campaign.Actor{Via: "servicenow"}, Detail: map[string]any{"ref": ref, "number": number, "sys_id": sysID}}); err != nil {
			return err
		}
		if action != ticketjob.ActionCreate {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_refs (key, table_name, sys_id, number) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET table_name = excluded.table_name, sys_id = excluded.sys_id, number = excluded.number`,
			ref, table, sysID, number)
		if err != nil {
			return fmt.Errorf("store: ticket ref %s: %w", ref, err)
		}
		return nil
	})
}

// TicketRetry puts a pending or sending job back to pending until next,
// noting why. Errors as TicketDone.
func (s *Store) TicketRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		return s.moveTicket(ctx, tx, id, `state = 'pending', next_at = ?, last_error = ?`,
			[]any{fmtSortable(next), truncate(reason, 500)}, "'pending', 'sending'")
	})
}

// TicketFailed gives up on a pending or sending job, noting why. Errors
// as TicketDone.
func (s *Store) TicketFailed(ctx context.Context, id int64, reason string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		return s.moveTicket(ctx, tx, id, `state = 'failed', last_error = ?, done_at = ?`,
			[]any{truncate(reason, 500), fmtTime(s.Now())}, "'pending', 'sending'")
	})
}

// moveTicket applies set to job id if its state is one of from (a SQL
// list of literals), telling a missing job from one in another state.
func (s *Store) moveTicket(ctx context.Context, tx *sqlTx, id int64, set string, args []any, from string) error {
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET `+set+` WHERE id = ? AND state IN (`+from+`)`, append(args, id)...)
	if err != nil {
		return fmt.Errorf("store: ticket job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var state string
	if err := tx.QueryRowContext(ctx, `SELECT state FROM tickets WHERE id = ?`, id).Scan(&state); err != nil {
		return s.ticketMissing(id, err)
	}
	return fmt.Errorf("store: ticket job %d is %s, not %s: %w", id, state, from, campaign.ErrConflict)
}

func (s *Store) ticketMissing(id int64, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: no ticket job %d: %w", id, campaign.ErrNotFound)
	}
	return fmt.Errorf("store: ticket job %d: %w", id, err)
}

// TicketRef returns the table, sys_id and number of the record created
// for ref, or an error wrapping campaign.ErrNotFound (servicenow.ErrNotFound)
// when no create for it has been delivered.
func (s *Store) TicketRef(ctx context.Context, ref string) (table, sysID, number string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT table_name, sys_id, number FROM ticket_refs WHERE key = ?`, ref).
		Scan(&table, &sysID, &number)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", fmt.Errorf("store: no ServiceNow record for %q yet: %w", ref, campaign.ErrNotFound)
	}
	if err != nil {
		return "", "", "", fmt.Errorf("store: ticket ref %s: %w", ref, err)
	}
	return table, sysID, number, nil
}

// TicketsOf returns a campaign's ticket jobs in the order they were
// queued, for `attest campaign show`; none is not an error.
func (s *Store) TicketsOf(ctx context.Context, campaignID int64) ([]ticketjob.Job, error) {
	var out []ticketjob.Job
	err := s.each(ctx, `SELECT `+ticketCols+` FROM tickets WHERE campaign_id = ? ORDER BY id`, []any{campaignID},
		func(r *sql.Rows) error {
			j, err := scanTicket(r)
			out = append(out, j)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("store: tickets of campaign %d: %w", campaignID, err)
	}
	return out, nil
}
