package campaign

import (
	"fmt"
	"time"
)

// State is where a campaign is in its lifecycle.
type State string

// The lifecycle: draft -> stage1 -> stage2 -> [stage3] -> closing -> closed
// -> approved | rejected -> remediating -> done, and cancelled from any
// state before approval except closing. stage3 is the optional app-owner
// stage (stages.app_owner).
const (
	StateDraft  State = "draft"
	StateStage1 State = "stage1"
	StateStage2 State = "stage2"
	// StateStage3 is the app-owner stage: owners confirm kept access.
	StateStage3 State = "stage3"
	StateClosed State = "closed"
	// StateClosing fences a close: from the instant a campaign enters it
	// no answer, delegation or escalation is accepted, so the plan the
	// close computes covers every answer that was recorded.
	StateClosing     State = "closing"
	StateApproved    State = "approved"
	StateRejected    State = "rejected"
	StateRemediating State = "remediating"
	StateDone        State = "done"
	StateCancelled   State = "cancelled"
)

// transitions lists the states each state may move to.
var transitions = map[State][]State{
	StateDraft:       {StateStage1, StateStage2, StateCancelled},
	StateStage1:      {StateStage2, StateStage3, StateClosing, StateClosed, StateCancelled},
	StateStage2:      {StateStage3, StateClosing, StateClosed, StateCancelled},
	StateStage3:      {StateClosing, StateClosed, StateCancelled},
	StateClosing:     {StateClosed},
	StateClosed:      {StateApproved, StateRejected, StateDone, StateCancelled},
	StateApproved:    {StateRemediating, StateDone},
	StateRemediating: {StateDone},
}

// CanMove reports whether the lifecycle allows from -> to.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Open reports whether reviewers (app owners, in stage 3) may still answer.
func (s State) Open() bool { return s == StateStage1 || s == StateStage2 || s == StateStage3 }

// Campaign is one access review.
type Campaign struct {
	ID          int64
	Name        string
	Description string
	Owner       string // the launcher's email, as launched (evidence)
	// OwnerID is the launcher's Okta user id, the identity every check
	// compares; "" for automatic launches and campaigns launched before
	// it was kept (those are resolved from Owner).
	OwnerID string
	// Definition is the definition as launched; DefinitionYAML its text.
	Definition     *Definition
	DefinitionYAML string
	SnapshotID     int64
	SnapshotDigest string // SHA-256 of the reviewed snapshot
	State          State
	CreatedAt      time.Time
	Stage1Ends     time.Time // zero when self-attestation is off
	Deadline       time.Time // end of stage 2; of stage 3 once that starts
	ClosedAt       time.Time
	// Stage2Started is when manager confirmation began.
	Stage2Started time.Time
	// Stage3Started is when the app-owner stage began (zero before).
	Stage3Started time.Time
	// Trigger says how it was launched: cli, slack, schedule, recertification.
	Trigger string
	// PlanDigest is the SHA-256 of the canonical plan (see PlanDigest),
	// computed at close; approvals are bound to it.
	PlanDigest string
}

// StageDeadline is the deadline of the stage the campaign is in.
func (c *Campaign) StageDeadline() time.Time {
	if c.State == StateStage1 {
		return c.Stage1Ends
	}
	return c.Deadline
}

// Entitlement kinds.
const (
	KindApp   = "app"
	KindGroup = "group"
)

// Case outcomes, set when a campaign closes.
const (
	OutcomeKept              = "kept"
	OutcomeRevoked           = "revoked"
	OutcomeRevokedByMember   = "revoked-by-member"
	OutcomeNoDecisionKept    = "no-decision-kept"
	OutcomeNoDecisionRevoked = "no-decision-revoked"
)

// CaseRecord is one stored certification case: a user, an entitlement and
// every answer given about it.
type CaseRecord struct {
	ID            int64
	CampaignID    int64
	UserID        string
	Kind          string // app or group
	EntitlementID string
	Label         string // app label or group name
	Direct        bool
	ViaGroups     []string // ids of the groups granting an app
	Flags         Flag
	Risk          string
	// ManagerID is the member's manager at launch; ReviewerID the current
	// stage-2 reviewer ("" while the IAM team reviews).
	ManagerID       string
	ReviewerID      string
	ReviewerSince   time.Time // when the current reviewer got the case
	EscalationLevel int
	DelegatedBy     string

	MemberDecision string
	MemberComment  string
	MemberAt       time.Time

	ReviewerDecision string
	ReviewerComment  string
	ReviewerAt       time.Time
	DecidedBy        string
	AcceptUntil      time.Time

	Outcome string

	// OwnerDecision is an app owner's keep or revoke in stage 3 ("" while
	// undecided), with its comment, time and decider (OwnerDecidedBy as
	// Actor.String, OwnerDecidedByID the decider's Okta user id).
	OwnerDecision    string
	OwnerComment     string
	OwnerAt          time.Time
	OwnerDecidedBy   string
	OwnerDecidedByID string
}

// Key names the case in messages: "alice@x.com / Salesforce".
func (c *CaseRecord) Key() string { return fmt.Sprintf("%s %s %q", c.UserID, c.Kind, c.Label) }

// NeedsReviewer reports whether stage 2 must decide the case: everything
// except a member's revoke, unless the definition wants those confirmed.
func (c *CaseRecord) NeedsReviewer(d *Definition) bool {
	return c.MemberDecision != DecisionRevoke || d.Stages.ConfirmMemberRevokes
}

// Actor is who acts: an Okta user (by id and email) and where they clicked.
type Actor struct {
	UserID      string
	Email       string
	Via         string // cli, slack, schedule, system
	SlackUserID string
	SlackTeamID string
	// SlackActionTS and PayloadSHA256 are the evidence of a Slack click:
	// the action's timestamp and the SHA-256 of the payload received.
	SlackActionTS string
	PayloadSHA256 string
	// As, OSUser and Host are the evidence of a CLI action: the name
	// --as gave (as typed), and the operating-system user and host that
	// ran the command. Recorded in the audit entry's detail.
	As, OSUser, Host string
}

// String names the actor for logs and evidence.
func (a Actor) String() string {
	if a.Email != "" {
		return a.Email
	}
	if a.UserID != "" {
		return a.UserID
	}
	return a.Via
}

// System is the actor of automatic steps (deadlines, escalations).
var System = Actor{Via: "system"}

// Event is one append-only audit record.
type Event struct {
	ID         int64
	At         time.Time
	CampaignID int64
	CaseID     int64
	Type       string // e.g. campaign.launched, case.answered
	Actor      Actor
	Detail     map[string]any
}
