package blocks

import "time"

// The view models below are what handlers fill from campaign data. They
// hold display data only: every string may come from Okta or a person and
// is escaped and cut by the builders. Button values are Refs, encoded by
// the builders with the package's one codec (see codec.go).

// Person is someone shown on a surface. SlackID, when it looks like a Slack
// user id, is shown as a mention; otherwise Name (or Email) is shown.
type Person struct {
	Name, Email, SlackID string
}

// Entitlement is one row of a form: one case, one app or group.
type Entitlement struct {
	CaseID int64
	Kind   string // app or group
	// Label is the Okta app label or group name; LinkURL, when set and safe,
	// links it.
	Label, LinkURL string
	// GrantedBy lists how the access is held: "direct", "group Engineering".
	GrantedBy []string
	// LastSignIn is the member's last use; zero reads "no sign-in in
	// SignInWindowDays days".
	LastSignIn       time.Time
	SignInWindowDays int
	Flags            []string // e.g. stale_login, unused_app
	Risk             string   // low, medium, high, critical or ""
	// Current is this form's owner's current answer: keep, revoke, unsure
	// or "". It preselects the radio option.
	Current string
	// MemberAnswer and MemberComment are shown on reviewer forms only.
	MemberAnswer, MemberComment string
}

// MemberForm is one page of a member's self-attestation DM.
type MemberForm struct {
	CampaignID   int64
	Campaign     string
	Deadline     time.Time
	Why          string // why this review happens, from the definition
	Entitlements []Entitlement
	Page, Pages  int    // 1-based; Pages <= 1 hides the page line
	Button       Ref    // MemberFormRef of this page
	Comment      string // the comment given so far, prefilled
}

// ReviewerForm is one page of a reviewer's form about one member.
type ReviewerForm struct {
	CampaignID    int64
	Campaign      string
	Deadline      time.Time
	Member        Person
	Escalated     bool
	EscalatedFrom string // who did not answer, when Escalated
	DelegatedBy   string // who handed the member over, or ""
	Entitlements  []Entitlement
	Page, Pages   int
	// BulkAllowed offers "Confirm all as answered by member".
	BulkAllowed bool
	Button      Ref    // ReviewerFormRef of this page
	Comment     string // the comment given so far, prefilled
}

// AnsweredRow is one submitted answer or decision.
type AnsweredRow struct {
	Label, Decision, Comment string
}

// Answered replaces a form once it is submitted.
type Answered struct {
	Campaign string
	Title    string // "Your answers" or "Your decisions for Alice"
	Rows     []AnsweredRow
	// Reviewer shows decisions as Keep/Revoke instead of Needed/Not needed.
	Reviewer bool
	Editable bool
	Button   Ref // the form page's Ref, for "Edit answers"
	// ClosedNote, when set, says the stage or campaign is closed and replaces
	// the edit button.
	ClosedNote string
}

// Status is a campaign's progress, answered to `/access-review status`.
type Status struct {
	CampaignID                  int64
	Campaign, State             string
	Deadline                    time.Time
	MembersAnswered, Members    int
	Stage1Answered, Stage1Total int
	Stage2Decided, Stage2Total  int
	Revoked, Escalations        int
	Overdue                     []Person
	Updated                     time.Time
}

// Count is a label with a number, such as an app and its removals.
type Count struct {
	Label string
	N     int
}

// Decision is one approver's verdict on a plan.
type Decision struct {
	By       Person
	Decision string // approve or reject
	At       time.Time
}

// Approval is the removal plan posted to the approvals channel.
type Approval struct {
	CampaignID int64
	Campaign   string
	Launcher   Person
	Operations map[string]int // Okta operations by kind
	Users      int
	Apps       int
	TopApps    []Count
	Conflicts  []string // removals not done because they would take kept access
	Manual     []string // removals a person must do (rule memberships, APP_GROUPs)
	Required   int      // approvals needed
	Approvals  []Decision
	// ReviewerFlags are the evidence's flags of likely rubber-stamping,
	// one line each, for the approvers to weigh.
	ReviewerFlags []string
	// State is closed (awaiting approval: buttons shown), approved or
	// rejected (no buttons; who decided is shown).
	State  string
	Button Ref // PlanRef of the campaign
}

// Pending is a review waiting for the App Home's viewer.
type Pending struct {
	CampaignID int64
	Campaign   string
	Role       string // member, reviewer or owner
	Open       int
	Deadline   time.Time
	Button     Ref // HomeRef with HomeMember or HomeReviewer
}

// CampaignRow is one running campaign on an admin's App Home.
type CampaignRow struct {
	CampaignID                  int64
	Campaign, State             string
	Stage1Answered, Stage1Total int
	Stage2Decided, Stage2Total  int
	Escalations, Overdue        int
	Deadline                    time.Time
	Remind, Close               Ref // HomeRef with HomeRemind, HomeClose
}

// Home is the App Home tab of one person.
type Home struct {
	Pending   []Pending
	Admin     bool
	Campaigns []CampaignRow
}

// Preview counts what a launch would create.
type Preview struct {
	Cases, Members, Reviewers, Apps int
	Flags                           map[string]int
}

// LaunchModal is the `/access-review start` modal.
type LaunchModal struct {
	Definitions []string
	Selected    string
	// Deadline, when set, preselects the date picker.
	Deadline time.Time
	Preview  *Preview
	Error    string
}

// DelegateModal asks a reviewer whom to hand a member's review to.
type DelegateModal struct {
	Member Person
	// Form is the reviewer form the modal was opened from; it travels as
	// the view's private_metadata and comes back with the submission.
	Form Ref
}
