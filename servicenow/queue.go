package servicenow

import (
	"context"
	"time"

	"github.com/attestbot/attest/internal/ticketjob"
)

// QueueStore keeps ticket jobs durably. store.Store implements it.
type QueueStore interface {
	// EnqueueTicket queues a job; false (and no error) when its key was
	// queued before.
	EnqueueTicket(ctx context.Context, job ticketjob.Job) (bool, error)
	// ClaimTickets moves up to limit due jobs to sending, oldest first,
	// and returns them, each with NextAt set to when its claim lapses
	// (the Worker sends nothing after that). An update or resolve is not due while an earlier
	// one for the same Ref is unfinished, so a Ref's changes keep their
	// order. A job left sending by a stopped process becomes due again
	// once its claim lapses.
	ClaimTickets(ctx context.Context, now time.Time, limit int) ([]ticketjob.Job, error)
	// TicketDone records a finished job and the record it touched; for a
	// create it also maps the job's Ref to the record.
	TicketDone(ctx context.Context, id int64, sysID, number string) error
	// TicketRetry puts a job back to pending until next.
	TicketRetry(ctx context.Context, id int64, next time.Time, reason string) error
	// TicketFailed gives up on a job.
	TicketFailed(ctx context.Context, id int64, reason string) error
	// TicketRef returns the record created for ref, or an error wrapping
	// ErrNotFound when none has been yet.
	TicketRef(ctx context.Context, ref string) (table, sysID, number string, err error)
	// TicketsOf returns a campaign's jobs in the order they were queued.
	TicketsOf(ctx context.Context, campaignID int64) ([]ticketjob.Job, error)
}

// Retry timing of the Worker.
const (
	// BaseBackoff is the wait after a job's first failed attempt; it
	// doubles with each further attempt up to MaxBackoff.
	BaseBackoff = 15 * time.Second
	// MaxBackoff caps the wait between two attempts of a job.
	MaxBackoff = 10 * time.Minute
	// DefaultGiveUpAfter is how long after it was queued a job that still
	// fails transiently (or still waits for its create) is given up.
	DefaultGiveUpAfter = 7 * 24 * time.Hour
	// DefaultBatch is how many jobs one Tick claims.
	DefaultBatch = 20
)

// claimMargin is how long before its claim lapses a job is no longer sent.
const claimMargin = time.Minute

// CorrelationField is the task field a create carries the job's key in, so
// a create whose answer was lost can be found instead of made twice.
const CorrelationField = "correlation_id"

// Backoff returns the wait after the attempt-th failed attempt (1-based):
// BaseBackoff doubled per attempt, capped at MaxBackoff.
func Backoff(attempt int) time.Duration {
	d := BaseBackoff
	for i := 1; i < attempt && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}
