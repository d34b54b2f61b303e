package campaign

import (
	"context"
	"time"
)

// CaseQuery selects cases of one campaign. Empty fields do not filter.
type CaseQuery struct {
	UserID     string
	ReviewerID *string // nil: any; "" selects the IAM team's cases
	Kind       string
	ID         int64
}

// CaseUpdate is a change to a case made under a precondition: it applies
// only while the case still has the reviewer it had when read, so a
// concurrent escalation or delegation wins cleanly (ErrConflict).
type CaseUpdate struct {
	Case           *CaseRecord
	ExpectReviewer string
	// ExpectState, when set, fences the update: it applies only while the
	// case's campaign is in this state, checked in the transaction that
	// writes it (ErrStageEnded otherwise).
	ExpectState State
}

// Store is what the engine needs to keep campaigns. Every method that
// changes state also appends its audit events, in the same transaction.
type Store interface {
	SnapshotStore

	// CreateCampaign stores a campaign with its cases and returns its id.
	CreateCampaign(ctx context.Context, c *Campaign, cases []CaseRecord, ev Event) (int64, error)
	// AddCases adds cases to a draft campaign in one transaction.
	AddCases(ctx context.Context, campaignID int64, createdAt time.Time, cases []CaseRecord) error
	// ReserveCaseIDs takes n consecutive case ids for a launch that
	// writes its slices side by side with AddCasesFrom, and returns the
	// first; reserved is false for a store with one writer, whose launch
	// writes its slices in turn with AddCases.
	ReserveCaseIDs(ctx context.Context, n int) (first int64, reserved bool, err error)
	// AddCasesFrom adds new cases to a draft campaign numbered from
	// first, ids ReserveCaseIDs took.
	AddCasesFrom(ctx context.Context, campaignID int64, createdAt time.Time, first int64, cases []CaseRecord) error
	// GetCampaign returns a campaign, or ErrNotFound.
	GetCampaign(ctx context.Context, id int64) (*Campaign, error)
	// ListCampaigns returns campaigns, newest first; states filters when set.
	ListCampaigns(ctx context.Context, states ...State) ([]Campaign, error)
	// MoveCampaign changes the state from -> to (compare-and-swap) and
	// saves the campaign's other fields; ErrConflict if it was not in from.
	MoveCampaign(ctx context.Context, c *Campaign, from State, ev Event) error

	// Cases returns the cases a query selects, ordered by id.
	Cases(ctx context.Context, campaignID int64, q CaseQuery) ([]CaseRecord, error)
	// UpdateCases saves changed cases under their preconditions, all or
	// nothing; ErrConflict names the first case whose precondition failed.
	UpdateCases(ctx context.Context, updates []CaseUpdate, events []Event) error
	// CloseCampaign records every case's outcome and the plan in one step.
	CloseCampaign(ctx context.Context, c *Campaign, from State, outcomes map[int64]string, plan []PlanItem, history []Certification, ev Event) error
	// CaseProgress counts open work per person for reminders,
	// escalations and the stage fan-outs.
	CaseProgress(ctx context.Context, campaignID int64) (Progression, error)
	// MemberOpen reports whether a case of the campaign that its member
	// is to answer (not orphaned) is still unanswered: of user, or of
	// anyone when user is "". It stops at the first such case instead of
	// counting them all: a submit must not read millions of cases.
	MemberOpen(ctx context.Context, campaignID int64, user string) (bool, error)

	// Plan returns the stored remediation plan of a campaign.
	Plan(ctx context.Context, campaignID int64) ([]PlanItem, error)
	// Approvals returns a campaign's approvals and rejections in order.
	Approvals(ctx context.Context, campaignID int64) ([]Approval, error)
	// AddApproval records an approval or rejection and returns all so far.
	// It is fenced: only a closed campaign whose plan digest is
	// a.PlanDigest takes it (ErrConflict otherwise), in one transaction.
	AddApproval(ctx context.Context, campaignID int64, a Approval, ev Event) ([]Approval, error)

	// MarkReminder records that person was reminded for slot; false if
	// they already were.
	MarkReminder(ctx context.Context, campaignID int64, person string, slot time.Time, ev Event) (bool, error)

	// Certifications returns the latest certification per (user, kind,
	// entitlement) and PruneHistory drops records older than before.
	Certifications(ctx context.Context) (map[EntitlementKey]Certification, error)
	PruneHistory(ctx context.Context, before time.Time) (int64, error)

	// ClaimScheduleRun records a scheduled run of a definition for a slot;
	// false if that slot already ran. LastScheduleRun returns the latest
	// slot, zero if none.
	ClaimScheduleRun(ctx context.Context, definition string, slot, now time.Time) (bool, error)
	LastScheduleRun(ctx context.Context, definition string) (time.Time, error)
	SetScheduleRunCampaign(ctx context.Context, definition string, slot time.Time, campaignID int64) error

	// FindUsers returns every user of a snapshot whose Okta id, login or
	// email (case-insensitive) is key, so an ambiguous name is seen.
	FindUsers(ctx context.Context, snapshotID int64, key string) ([]User, error)

	// AppendEvent appends one audit event on its own.
	AppendEvent(ctx context.Context, ev Event) error
	// Events returns a campaign's audit events in order.
	Events(ctx context.Context, campaignID int64) ([]Event, error)
}

// Progression is the open work of a campaign, per person.
type Progression struct {
	// MemberOpen counts, per member, cases without a member answer.
	MemberOpen map[string]int
	// ReviewerOpen counts, per reviewer ("" = IAM team), stage-2 cases
	// they still have to decide.
	ReviewerOpen map[string]int
	// ReviewerMembers lists, per reviewer, the members with open cases.
	ReviewerMembers map[string][]string
	// ReviewerTotal and ReviewerAnswered count, per reviewer, their
	// members' cases and how many of those the members have answered.
	ReviewerTotal    map[string]int
	ReviewerAnswered map[string]int
	// ReviewerOldest is, per reviewer, the earliest time one of their
	// open stage-2 cases was assigned to them.
	ReviewerOldest map[string]time.Time
	Total          int
}

// EntitlementKey names one user's one entitlement.
type EntitlementKey struct {
	UserID        string
	Kind          string
	EntitlementID string
}

// Certification is one decision about an entitlement, kept as history.
type Certification struct {
	EntitlementKey
	CertifiedAt time.Time
	Outcome     string
	DecidedBy   string
	CampaignID  int64
	AcceptUntil time.Time
}

// Approval is one approver's word on a plan.
type Approval struct {
	Approver string // email
	Decision string // approve or reject
	At       time.Time
	// ApproverID is the approver's Okta user id: one word per person,
	// whatever their email. SlackUserID and Via say how they clicked,
	// so their rights can be checked again when the approvals are counted.
	ApproverID  string
	SlackUserID string
	Via         string
	// PlanDigest is the digest of the plan approved (Campaign.PlanDigest).
	PlanDigest string
}

// SweepReviewStore keeps stale-access sweeps for LaunchSweepReview.
type SweepReviewStore interface {
	// Sweep returns a sweep's covered entitlements and the campaign
	// recorded as its review (0: none), or ErrNotFound.
	Sweep(ctx context.Context, id int64) (map[EntitlementKey]bool, int64, error)
	// SwapSweepReview moves the campaign recorded for a sweep from expect
	// to campaignID (compare-and-swap) and returns the campaign recorded
	// after the call and whether the swap happened.
	SwapSweepReview(ctx context.Context, sweepID, expect, campaignID int64) (int64, bool, error)
}
