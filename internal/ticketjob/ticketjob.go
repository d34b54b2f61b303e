// Package ticketjob holds the record of one queued ServiceNow Table API
// call: what the ticket queue stores and the servicenow worker delivers.
// It imports only the domain, so the store keeps jobs without depending on
// the servicenow client.
package ticketjob

import (
	"fmt"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
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

// Job is one queued Table API call. Key makes it idempotent: a job
// whose key was queued before is not queued again. Ref names the logical
// ticket ("review:12:00uMANAGER", "remediation:12"): a create records the
// new record's sys_id and number under it, and later updates find it there.
type Job struct {
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
// as an error wrapping campaign.ErrInvalid, or nil.
func (j *Job) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("ticket job %q: %s: %w", j.Key, fmt.Sprintf(format, args...), campaign.ErrInvalid)
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
		if strings.ContainsAny(j.Table, "/?#%. ") {
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
