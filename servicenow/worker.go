package servicenow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/attestbot/attest/internal/ticketjob"
	"github.com/rs/zerolog"
)

// Worker delivers queued ticket jobs to ServiceNow. Scheduled work calls
// Tick; Run calls it in a loop.
type Worker struct {
	Client Ticketer   // a *Client; a Finder too, so lost creates are found
	Store  QueueStore // a *store.Store
	Log    zerolog.Logger
	Now    func() time.Time // default time.Now

	// Batch is how many jobs a Tick claims (default DefaultBatch).
	Batch int
	// CloseCode and CloseNotes complete resolve jobs that lack them; the
	// close code choices vary by instance.
	CloseCode  string
	CloseNotes string
	// GiveUpAfter bounds how long a job is retried (default DefaultGiveUpAfter).
	GiveUpAfter time.Duration
}

// Tick claims the due jobs and sends them, one at a time in queue order. It
// returns how many were delivered, and an error only when the store fails
// or ctx ends (the unfinished jobs are then put back, due at once):
// ServiceNow's failures are recorded on the jobs, retried with backoff when
// transient and failed otherwise. A rate limit or an outage stops the tick
// and defers the jobs not yet tried.
func (w *Worker) Tick(ctx context.Context) (int, error) {
	now := w.now()
	batch := w.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	jobs, err := w.Store.ClaimTickets(ctx, now, batch)
	if err != nil {
		return 0, fmt.Errorf("servicenow: claim ticket jobs: %w", err)
	}
	delivered := 0
	for i := range jobs {
		j := &jobs[i]
		if ctx.Err() != nil {
			return delivered, w.interrupted(ctx, jobs[i:], now, "interrupted before sending")
		}
		if !j.NextAt.IsZero() && !w.now().Before(j.NextAt.Add(-claimMargin)) {
			// A slow instance ate the claim: leave the rest to the next
			// tick rather than send what another worker may claim.
			return delivered, w.postpone(ctx, jobs[i:], now, "claim lapsed before sending")
		}
		t, err := w.send(ctx, j)
		if err != nil && ctx.Err() != nil {
			// Stopping is not the job's fault: nothing is counted against it.
			return delivered, w.interrupted(ctx, jobs[i:], now, "interrupted: "+err.Error())
		}
		if err == nil {
			if err := w.Store.TicketDone(ctx, j.ID, t.SysID, t.Number); err != nil {
				return delivered, fmt.Errorf("servicenow: ticket job %d done: %w", j.ID, err)
			}
			delivered++
			w.Log.Info().Str("op", j.Action).Int64("campaign", j.CampaignID).Str("ticket", j.Ref).
				Str("number", t.Number).Int("attempt", j.Attempts).Msg("servicenow ticket delivered")
			continue
		}
		next, stop, ferr := w.settle(ctx, j, err, now)
		if ferr != nil {
			return delivered, ferr
		}
		if stop {
			return delivered, w.postpone(ctx, jobs[i+1:], next, "deferred: "+err.Error())
		}
	}
	return delivered, nil
}

// Run calls Tick every interval until ctx ends, at once again when a tick
// filled its batch. It returns ctx's error.
func (w *Worker) Run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := w.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Error().Err(err).Str("op", "tickets").Msg("servicenow queue tick failed")
		}
		batch := w.Batch
		if batch <= 0 {
			batch = DefaultBatch
		}
		if err == nil && n >= batch {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// errNoRecordYet says an update's create has not been delivered yet.
var errNoRecordYet = errors.New("its create has not been delivered yet")

// send performs one job and returns the record it created or changed.
func (w *Worker) send(ctx context.Context, j *ticketjob.Job) (Ticket, error) {
	if j.Action == ticketjob.ActionCreate {
		return w.create(ctx, j)
	}
	table, sysID, number, err := w.Store.TicketRef(ctx, j.Ref)
	if errors.Is(err, ErrNotFound) {
		return Ticket{}, errNoRecordYet
	}
	if err != nil {
		// The store's trouble, not the job's: try again later.
		return Ticket{}, fmt.Errorf("servicenow: ticket %s: %v: %w", j.Ref, err, ErrTransient)
	}
	if j.Table != "" && j.Table != table {
		return Ticket{}, fmt.Errorf("servicenow: ticket %s lives in %s, not %s: %w", j.Ref, table, j.Table, ErrInvalid)
	}
	fields := maps.Clone(j.Fields)
	if fields == nil {
		fields = map[string]string{}
	}
	if j.Action == ticketjob.ActionResolve {
		w.resolution(table, fields)
	}
	t, err := w.Client.Update(ctx, table, sysID, fields)
	if err != nil {
		return Ticket{}, err
	}
	if t.Number == "" {
		t.Number = number
	}
	return t, nil
}

// create inserts the job's record, tagged with a correlation id. A retry
// first looks for a record with that id: the earlier attempt may have
// reached ServiceNow and only its answer been lost.
func (w *Worker) create(ctx context.Context, j *ticketjob.Job) (Ticket, error) {
	fields := maps.Clone(j.Fields)
	if fields == nil {
		fields = map[string]string{}
	}
	if fields[CorrelationField] == "" {
		fields[CorrelationField] = correlationID(j.Key)
	}
	if f, ok := w.Client.(Finder); ok && j.Attempts > 1 {
		t, err := f.Find(ctx, j.Table, CorrelationField, fields[CorrelationField])
		switch {
		case err == nil:
			w.Log.Info().Str("op", "create").Str("ticket", j.Ref).Str("number", t.Number).
				Msg("servicenow create found from an earlier attempt")
			return t, nil
		case !errors.Is(err, ErrNotFound):
			return Ticket{}, err
		}
	}
	return w.Client.Create(ctx, j.Table, fields)
}

// correlationID is the job's key, hashed when it exceeds the 100
// characters the task table's correlation_id holds.
func correlationID(key string) string {
	if len(key) <= 100 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "attest:" + hex.EncodeToString(sum[:])
}

// resolution adds what resolving needs where fields lack it: incident's
// Resolved state with close code and notes, sc_task's Closed Complete.
func (w *Worker) resolution(table string, fields map[string]string) {
	put := func(k, v string) {
		if fields[k] == "" && v != "" {
			fields[k] = v
		}
	}
	switch table {
	case "incident":
		put("state", "6")
		put("close_code", w.CloseCode)
		put("close_notes", w.CloseNotes)
	case "sc_task":
		put("state", "3")
		put("close_notes", w.CloseNotes)
	default:
		put("close_notes", w.CloseNotes)
	}
}

// settle records a failed attempt: retry later, or fail for good. stop
// says the failure concerns the whole instance (a rate limit, an outage),
// so the rest of the batch should wait until next too.
func (w *Worker) settle(ctx context.Context, j *ticketjob.Job, cause error, now time.Time) (next time.Time, stop bool, err error) {
	reason := cause.Error()
	log := w.Log.With().Str("op", j.Action).Int64("campaign", j.CampaignID).Str("ticket", j.Ref).
		Int("attempt", j.Attempts).Logger()
	retry := errors.Is(cause, errNoRecordYet) || Transient(cause)
	giveUp := w.GiveUpAfter
	if giveUp <= 0 {
		giveUp = DefaultGiveUpAfter
	}
	if retry && !j.CreatedAt.IsZero() && now.Sub(j.CreatedAt) > giveUp {
		retry, reason = false, fmt.Sprintf("gave up after %s: %s", giveUp, reason)
	}
	if !retry {
		log.Warn().Str("error", reason).Msg("servicenow ticket job failed")
		if err := w.Store.TicketFailed(ctx, j.ID, reason); err != nil {
			return time.Time{}, false, fmt.Errorf("servicenow: ticket job %d failed: %w", j.ID, err)
		}
		return time.Time{}, false, nil
	}
	wait := Backoff(j.Attempts)
	if errors.Is(cause, errNoRecordYet) {
		wait = min(wait, time.Minute)
	}
	if ra, ok := RetryAfter(cause); ok {
		wait = ra
	}
	next = now.Add(wait)
	ev := log.Info()
	if errors.Is(cause, errNoRecordYet) {
		ev = log.Debug()
	}
	ev.Str("error", reason).Time("next", next).Msg("servicenow ticket job will be retried")
	if err := w.Store.TicketRetry(ctx, j.ID, next, reason); err != nil {
		return time.Time{}, false, fmt.Errorf("servicenow: ticket job %d retry: %w", j.ID, err)
	}
	return next, instanceWide(cause), nil
}

// instanceWide reports failures that every request would meet now: 429,
// 502-504, or no answer at all. A 500 may be one record's business rule,
// so it holds up only its own job.
func instanceWide(err error) bool {
	if !Transient(err) {
		return false
	}
	var e *Error
	if !errors.As(err, &e) {
		return true
	}
	return e.Status == 429 || (e.Status >= 502 && e.Status <= 504)
}

// postpone puts claimed jobs back until next, untried or interrupted.
func (w *Worker) postpone(ctx context.Context, jobs []ticketjob.Job, next time.Time, reason string) error {
	for _, j := range jobs {
		if err := w.Store.TicketRetry(ctx, j.ID, next, reason); err != nil {
			return fmt.Errorf("servicenow: ticket job %d retry: %w", j.ID, err)
		}
	}
	return nil
}

// interrupted puts back the jobs a cancelled Tick did not finish, with a
// context that still works, and returns the cancellation.
func (w *Worker) interrupted(ctx context.Context, jobs []ticketjob.Job, next time.Time, reason string) error {
	if err := w.postpone(context.WithoutCancel(ctx), jobs, next, reason); err != nil {
		return err
	}
	return ctx.Err()
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
