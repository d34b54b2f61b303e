package campaign

import (
	"context"
	"time"
)

// Operation states and results.
const (
	OpPending = "pending"
	OpRunning = "running"
	OpDone    = "done"
	OpFailed  = "failed"
	OpSkipped = "skipped"

	ResultRemoved     = "removed"
	ResultAdded       = "added"
	ResultAlreadyDone = "already_done"
	ResultAlreadyGone = "already_gone"
	ResultChanged     = "changed"   // access changed since the snapshot: not touched
	ResultProtected   = "protected" // a protected group or user: never touched
	ResultWouldRemove = "would_remove"
	ResultFailed      = "failed"

	VerifiedGone     = "gone"
	VerifiedCameBack = "came_back"
)

// Operation is one Okta write of an approved plan, as a durable job.
type Operation struct {
	CampaignID   int64
	Seq          int
	Kind         string // OpRemoveMembership, OpUnassignApp or OpAddMembership
	UserID       string
	GroupID      string
	AppID        string
	CaseIDs      []int64
	State        string
	Result       string
	Attempts     int
	ErrorCode    string
	ErrorSummary string
	ClaimedBy    string
	ClaimedAt    time.Time
	FinishedAt   time.Time
	Verified     string
}

// Revoker performs and checks Okta writes. Reads are fresh (never the
// snapshot). A write's error unwraps to one kind and, when Okta answered,
// carries Okta's code as a VendorError: ErrTransient when it may or may not
// have happened (re-read before sending it again); ErrNotFound when Okta
// finds no such user, group or app, which is no proof the access is gone (a
// scoped admin gets 404 outside its scope: read it back); ErrConflict when
// Okta refuses to unassign an app a group membership still grants
// (E0000046); ErrInvalid or ErrForbidden when Okta refused it for good.
type Revoker interface {
	HasMembership(ctx context.Context, userID, groupID string) (bool, error)
	AppAssignment(ctx context.Context, appID, userID string) (scope string, found bool, err error)
	RemoveMembership(ctx context.Context, userID, groupID string) error
	UnassignApp(ctx context.Context, userID, appID string) error
	// AddMembership puts a user in a group (quarantine).
	AddMembership(ctx context.Context, userID, groupID string) error
}

// OperationStore keeps the executor's jobs.
type OperationStore interface {
	// QueueOperations copies a plan's operations as pending jobs; jobs
	// already queued are kept as they are. It returns how many are new.
	QueueOperations(ctx context.Context, campaignID int64, plan []PlanItem) (int, error)
	// ClaimOperations moves up to limit pending jobs to running for worker
	// in one transaction and returns them; none left: an empty slice.
	ClaimOperations(ctx context.Context, campaignID int64, worker string, now time.Time, limit int) ([]Operation, error)
	// FinishOperations records claimed jobs' outcomes with their audit
	// events in one transaction; a job its worker no longer holds is left
	// alone (another executor took it over) and reported by seq.
	FinishOperations(ctx context.Context, ops []*Operation, events []Event) (lost []int, err error)
	// ReleaseOperation puts a running job back to pending.
	ReleaseOperation(ctx context.Context, campaignID int64, seq int, worker string) error
	// StuckOperations returns jobs running since before `before` (their
	// worker stopped).
	StuckOperations(ctx context.Context, campaignID int64, before time.Time) ([]Operation, error)
	// Operations returns every job of a campaign in order.
	Operations(ctx context.Context, campaignID int64) ([]Operation, error)
	// OpenOperations counts a campaign's pending and running jobs.
	OpenOperations(ctx context.Context, campaignID int64) (int, error)
	// RetryFailed puts failed jobs back to pending and returns how many.
	RetryFailed(ctx context.Context, campaignID int64, ev Event) (int, error)
	// SetVerified records the read-back after the run.
	SetVerified(ctx context.Context, campaignID int64, seq int, verified string) error
	// SnapshotGroup returns a group as the campaign's snapshot saw it.
	SnapshotGroup(ctx context.Context, snapshotID int64, groupID string) (Group, error)
}
