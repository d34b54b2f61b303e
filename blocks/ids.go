// Package blocks turns attest's view models into Slack Block Kit surfaces.
//
// Every function here is pure: a view model in, slack-go values out, no I/O
// and no clock. Slack checks its limits only when a message is posted, and
// slack-go checks almost none of them, so the builders keep every surface
// inside the limits themselves (truncating user-supplied text with "…",
// paging long forms, dropping list items with a note) and Validate checks a
// finished surface against the same limits.
//
// Handlers route interactions by the block and action ids declared in this
// file and decode button values with the codec in codec.go and routes.go;
// they are part of the package's contract and must not change lightly.
package blocks

import "strconv"

// Answer values carried by the radio options of the forms. Outside tests
// rely on these exact strings.
const (
	ValueKeep   = "keep"
	ValueRevoke = "revoke"
	ValueUnsure = "unsure"
)

// Block ids that handlers dispatch on.
const (
	// BlockCasePrefix starts the block_id of an entitlement row: "case:<caseID>".
	BlockCasePrefix = "case:"
	// BlockComment is the comment input of a form page.
	BlockComment = "comment"
	// BlockActions holds a message's buttons.
	BlockActions = "actions"
	// BlockPendingPrefix starts the block_id of an App Home pending row.
	BlockPendingPrefix = "pending:"
	// BlockCampaignPrefix starts the block_id of an App Home admin row's buttons.
	BlockCampaignPrefix = "campaign:"
	// BlockDefinition is the launch modal's definition input.
	BlockDefinition = "definition"
	// BlockDeadline is the launch modal's deadline input.
	BlockDeadline = "deadline"
	// BlockDelegateTo is the delegate modal's user input.
	BlockDelegateTo = "delegate_to"
	// BlockSignOffReason is the decline modal's reason input.
	BlockSignOffReason = "sign_off_reason"
)

// Action ids that handlers dispatch on.
const (
	// ActionDecision is the radio buttons of an entitlement row.
	ActionDecision = "decision"
	// ActionComment is the comment text input of a form page.
	ActionComment = "comment"
	// ActionMemberSubmit submits a member's answers.
	ActionMemberSubmit = "member_submit"
	// ActionReviewerSubmit submits a reviewer's decisions.
	ActionReviewerSubmit = "reviewer_submit"
	// ActionConfirmMember keeps every member answer as the reviewer's decision.
	ActionConfirmMember = "confirm_member"
	// ActionDelegate opens the delegate modal.
	ActionDelegate = "delegate"
	// ActionEditAnswers reopens a submitted form.
	ActionEditAnswers = "edit_answers"
	// ActionPlanApprove approves a removal plan.
	ActionPlanApprove = "plan_approve"
	// ActionPlanReject rejects a removal plan.
	ActionPlanReject = "plan_reject"
	// ActionOpenReview opens a pending review from the App Home.
	ActionOpenReview = "open_review"
	// ActionCampaignRemind sends reminders for a campaign (App Home, admins).
	ActionCampaignRemind = "campaign_remind"
	// ActionCampaignClose closes a campaign (App Home, admins).
	ActionCampaignClose = "campaign_close"
	// ActionDefinition is the launch modal's definition select.
	ActionDefinition = "definition"
	// ActionDeadline is the launch modal's date picker.
	ActionDeadline = "deadline"
	// ActionUser is the delegate modal's user select.
	ActionUser = "user"
	// ActionSweepReview starts a campaign over a sweep's findings.
	ActionSweepReview = "sweep_review"
	// ActionSignOff signs off a campaign's evidence (its control owner).
	ActionSignOff = "sign_off"
	// ActionSignOffDecline opens the modal to decline the sign-off.
	ActionSignOffDecline = "sign_off_decline"
	// ActionSignOffReason is the decline modal's reason text input.
	ActionSignOffReason = "reason"
	// ActionOwnerSubmit submits an app owner's decisions on one form page.
	ActionOwnerSubmit = "owner_submit"
	// ActionOwnerKeepAll keeps everyone on an owner form page but those
	// marked Revoke.
	ActionOwnerKeepAll = "owner_keep_all"
)

// Callback ids of the modals.
const (
	// CallbackLaunch identifies the launch modal's view_submission.
	CallbackLaunch = "launch"
	// CallbackDelegate identifies the delegate modal's view_submission.
	CallbackDelegate = "delegate"
	// CallbackHome identifies the App Home view.
	CallbackHome = "home"
	// CallbackSignOffDecline identifies the decline modal's submission.
	CallbackSignOffDecline = "sign_off_decline"
)

// role says whose words an answer value is shown in.
type role int

const (
	roleMember role = iota
	roleReviewer
)

// answerChoice is one radio option of a form.
type answerChoice struct {
	value, text string
}

// choices returns the radio options a form offers, in display order.
func choices(r role) []answerChoice {
	if r == roleReviewer {
		return []answerChoice{{ValueKeep, "Keep"}, {ValueRevoke, "Revoke"}}
	}
	return []answerChoice{
		{ValueKeep, "Needed"},
		{ValueRevoke, "Not needed"},
		{ValueUnsure, "Not sure"},
	}
}

// answerWord returns how an answer value reads for r: "Needed" for a
// member's keep, "Keep" for a reviewer's. An empty value reads "no answer";
// an unknown one is shown escaped, so a handler bug is visible rather than
// hidden.
func answerWord(r role, value string) string {
	if value == "" {
		return "no answer"
	}
	for _, c := range choices(r) {
		if c.value == value {
			return c.text
		}
	}
	if value == ValueUnsure {
		return "Not sure"
	}
	return escTrunc(value, 30)
}

// validAnswer reports whether value is one of the options r offers.
func validAnswer(r role, value string) bool {
	for _, c := range choices(r) {
		if c.value == value {
			return true
		}
	}
	return false
}

// uniqueIDs hands out block_ids that are unique on one surface, because
// Slack rejects a surface with a repeated block_id.
type uniqueIDs map[string]int

// id returns base, or base with a ":n" suffix when base was already used.
func (u uniqueIDs) id(base string) string {
	n := u[base]
	u[base] = n + 1
	if n == 0 {
		return base
	}
	next := base + ":" + strconv.Itoa(n+1)
	for u[next] > 0 {
		n++
		next = base + ":" + strconv.Itoa(n+1)
	}
	u[next] = 1
	return next
}
