package servicenow

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Kinds of ticket, by what a campaign files them for.
const (
	// KindReview is a ticket tracking one reviewer's part of a campaign.
	KindReview = "review"
	// KindRemediation is a ticket tracking a campaign's removals.
	KindRemediation = "remediation"
)

// Actions a ticket job performs.
const (
	// ActionCreate inserts the record and remembers it under the job's Ref.
	ActionCreate = "create"
	// ActionUpdate patches the record created for the job's Ref.
	ActionUpdate = "update"
	// ActionResolve patches the record to its resolved state, adding the
	// Worker's close code and notes where the job's fields lack them.
	ActionResolve = "resolve"
)

// States of a ticket job: pending -> sending -> done | failed, and back to
// pending for a retry.
const (
	JobPending = "pending"
	JobSending = "sending"
	JobDone    = "done"
	JobFailed  = "failed"
)

// TicketJob is one queued Table API call. Key makes it idempotent: a job
// whose key was queued before is not queued again. Ref names the logical
// ticket ("review:12:00uMANAGER", "remediation:12"): a create records the
// new record's sys_id and number under it, and later updates find it there.
type TicketJob struct {
	ID         int64
	Key        string
	Ref        string
	CampaignID int64
	Kind       string // KindReview or KindRemediation
	Table      string // incident, sc_task; for updates, empty means the Ref's table
	Action     string // ActionCreate, ActionUpdate or ActionResolve
	Fields     map[string]string
	// Set once done: the record the job created or changed.
	SysID  string
	Number string

	State     string // JobPending, JobSending, JobDone or JobFailed
	Attempts  int    // claims so far, this one included
	NextAt    time.Time
	LastError string
	CreatedAt time.Time
	DoneAt    time.Time
}

// Validate reports the first thing wrong with a job about to be queued,
// as an error wrapping ErrInvalid, or nil.
func (j *TicketJob) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("servicenow: ticket job %q: %s: %w", j.Key, fmt.Sprintf(format, args...), ErrInvalid)
	}
	switch {
	case strings.TrimSpace(j.Key) == "":
		return bad("empty key")
	case strings.TrimSpace(j.Ref) == "":
		return bad("empty ref")
	case j.Kind != KindReview && j.Kind != KindRemediation:
		return bad("kind %q is not %s or %s", j.Kind, KindReview, KindRemediation)
	}
	switch j.Action {
	case ActionCreate:
		if j.Table == "" {
			return bad("a create needs a table")
		}
	case ActionUpdate, ActionResolve:
	default:
		return bad("action %q is not %s, %s or %s", j.Action, ActionCreate, ActionUpdate, ActionResolve)
	}
	if j.Table != "" {
		if err := checkName("queue", j.Table); err != nil {
			return bad("table %q is not a table name", j.Table)
		}
	}
	return nil
}

// ReviewRef names the review ticket of one reviewer in a campaign.
func ReviewRef(campaignID int64, reviewerID string) string {
	return fmt.Sprintf("%s:%d:%s", KindReview, campaignID, reviewerID)
}

// RemediationRef names the remediation ticket of a campaign.
func RemediationRef(campaignID int64) string {
	return fmt.Sprintf("%s:%d", KindRemediation, campaignID)
}

// QueueStore keeps ticket jobs durably. store.Store implements it.
type QueueStore interface {
	// EnqueueTicket queues a job; false (and no error) when its key was
	// queued before.
	EnqueueTicket(ctx context.Context, job TicketJob) (bool, error)
	// ClaimTickets moves up to limit due jobs to sending, oldest first,
	// and returns them, each with NextAt set to when its claim lapses
	// (the Worker sends nothing after that). An update or resolve is not due while an earlier
	// one for the same Ref is unfinished, so a Ref's changes keep their
	// order. A job left sending by a stopped process becomes due again
	// once its claim lapses.
	ClaimTickets(ctx context.Context, now time.Time, limit int) ([]TicketJob, error)
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
	TicketsOf(ctx context.Context, campaignID int64) ([]TicketJob, error)
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
