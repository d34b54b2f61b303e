package campaign

import (
	"context"
	"errors"
	"time"
)

// Notification kinds the engine emits.
const (
	NoteMemberForm   = "member_form"   // stage 1 starts: review your access
	NoteReviewerForm = "reviewer_form" // stage 2 starts or cases arrive: confirm your members
	NoteOwnerForm    = "owner_form"    // stage 3 starts: confirm who keeps your apps
	NoteReminder     = "reminder"      // open cases, batched per person
	NoteEscalated    = "escalated"     // a silent reviewer's cases moved up
	NoteDelegated    = "delegated"     // a reviewer handed a member over
	NoteClosed       = "closed"        // the campaign closed; plan ready
	NoteApproved     = "approved"      // the plan has all its approvals
	NoteRejected     = "rejected"
	NoteCancelled    = "cancelled"
	NoteRemediated   = "remediated"  // the executor finished a plan
	NoteRemediating  = "remediating" // how far a run got (each quarter)
)

// Notification is one message for one person ("" = the IAM team).
type Notification struct {
	Kind       string
	To         string // Okta user id; "" for the IAM team
	CampaignID int64
	Campaign   string
	Deadline   time.Time
	// Open counts the person's open cases; Members lists, for reviewers,
	// the members whose cases are theirs to decide or who are still open.
	Open    int
	Members []string
	// Progress is, for managers, how many of their members' stage-1
	// answers are in, out of how many.
	Answered, Total int
	Text            string
	// Apps lists, for app owners (NoteOwnerForm), the Okta ids of the
	// apps whose forms are theirs.
	Apps []string
	// Key, when set, makes delivery idempotent: a notifier delivers one
	// message per key, so a notification retried after a crash is not
	// sent twice.
	Key string
}

// ErrNotDelivered is returned by a notifier that has no way to reach
// people (Slack is not configured): the caller must not record the
// notification as sent or queued.
var ErrNotDelivered = errors.New("not delivered: no Slack connection is configured")

// Notifier delivers notifications (Slack DMs later; a log line from the
// CLI). A failed delivery is logged by the caller and never blocks the
// campaign.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

// Notifiers delivers each notification to every notifier in turn; the
// first error is returned after all have been tried.
type Notifiers []Notifier

// Notify calls every notifier.
func (ns Notifiers) Notify(ctx context.Context, n Notification) error {
	var first error
	for _, x := range ns {
		if x == nil {
			continue
		}
		if err := x.Notify(ctx, n); err != nil && first == nil {
			first = err
		}
	}
	return first
}
