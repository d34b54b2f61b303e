package blocks

import (
	"fmt"
	"strconv"
	"strings"
)

// Action is a decoded block action: which control was used and, for a
// button, the Ref its value carries.
type Action struct {
	// ID is the action id, one of the Action* constants.
	ID string
	// Selection is true for a choice inside a form or modal (a radio
	// button, the comment box, the date picker, the definition select):
	// it carries no Ref and changes nothing until the form is submitted.
	Selection bool
	// Ref is a button's decoded value (zero for a selection).
	Ref Ref
}

// route is what one action id accepts.
type route struct {
	selection bool
	kinds     []RefKind
	roles     []string // RefHome only
}

// routes lists every action id attest emits and the values each carries.
// An action id that is not here, or a value of another kind, is refused.
var routes = map[string]route{
	ActionDecision:       {selection: true},
	ActionComment:        {selection: true},
	ActionDeadline:       {selection: true},
	ActionDefinition:     {selection: true},
	ActionUser:           {selection: true},
	ActionMemberSubmit:   {kinds: []RefKind{RefMemberForm}},
	ActionReviewerSubmit: {kinds: []RefKind{RefReviewerForm}},
	ActionConfirmMember:  {kinds: []RefKind{RefReviewerForm}},
	ActionDelegate:       {kinds: []RefKind{RefReviewerForm}},
	ActionEditAnswers:    {kinds: []RefKind{RefMemberForm, RefReviewerForm, RefOwnerForm}},
	ActionOwnerSubmit:    {kinds: []RefKind{RefOwnerForm}},
	ActionOwnerKeepAll:   {kinds: []RefKind{RefOwnerForm}},
	ActionPlanApprove:    {kinds: []RefKind{RefPlan}},
	ActionPlanReject:     {kinds: []RefKind{RefPlan}},
	ActionSweepReview:    {kinds: []RefKind{RefSweep}},
	ActionOpenReview:     {kinds: []RefKind{RefHome}, roles: []string{HomeMember, HomeReviewer, HomeOwner}},
	ActionCampaignRemind: {kinds: []RefKind{RefHome}, roles: []string{HomeRemind}},
	ActionCampaignClose:  {kinds: []RefKind{RefHome}, roles: []string{HomeClose}},
	ActionSignOff:        {kinds: []RefKind{RefSignOff}},
	ActionSignOffDecline: {kinds: []RefKind{RefSignOff}},
	ActionSignOffReason:  {selection: true},
}

// ParseAction decodes one block action. It returns an ErrBadValue error
// for an action id attest does not emit, for a button value ParseRef
// refuses, and for a value that belongs to another action (a plan's value
// on a form's button). A selection's value is not decoded here: the
// handler reads it from the submitted state.
func ParseAction(actionID, value string) (Action, error) {
	rt, ok := routes[actionID]
	if !ok {
		return Action{}, fmt.Errorf("action id %q: %w", cutRunes(actionID, 40), ErrBadValue)
	}
	if rt.selection {
		return Action{ID: actionID, Selection: true}, nil
	}
	ref, err := ParseRef(value)
	if err != nil {
		return Action{}, fmt.Errorf("value of %s: %w", actionID, err)
	}
	if !contains(rt.kinds, ref.Kind) || ref.Kind == RefHome && !contains(rt.roles, ref.Role) {
		return Action{}, fmt.Errorf("a %s value on %s: %w", ref.Kind, actionID, ErrBadValue)
	}
	return Action{ID: actionID, Ref: ref}, nil
}

// ParseFormMetadata decodes the private_metadata of the delegate modal,
// which carries the reviewer form it was opened from.
func ParseFormMetadata(s string) (Ref, error) {
	ref, err := ParseRef(s)
	if err != nil {
		return Ref{}, err
	}
	if ref.Kind != RefReviewerForm {
		return Ref{}, fmt.Errorf("a %s value as delegate metadata: %w", ref.Kind, ErrBadValue)
	}
	return ref, nil
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// CaseBlockID returns the block_id of the entitlement row for a case.
func CaseBlockID(caseID int64) string {
	return BlockCasePrefix + strconv.FormatInt(caseID, 10)
}

// ParseCaseBlockID returns the case id in a block_id made by CaseBlockID;
// ok is false for any other block_id, so handlers can drop unknown ids.
func ParseCaseBlockID(blockID string) (caseID int64, ok bool) {
	rest, found := strings.CutPrefix(blockID, BlockCasePrefix)
	if !found {
		return 0, false
	}
	if rest == "0" {
		return 0, true
	}
	return parseCanonical(rest)
}

// PendingBlockID returns the block_id of an App Home pending row; it only
// keeps the tab's block ids unique and is never dispatched on.
func PendingBlockID(campaignID int64, role string) string {
	return BlockPendingPrefix + strconv.FormatInt(campaignID, 10) + ":" + roleKey(role)
}

// CampaignBlockID returns the block_id of an App Home admin row's buttons.
func CampaignBlockID(campaignID int64) string {
	return BlockCampaignPrefix + strconv.FormatInt(campaignID, 10)
}

// roleKey keeps a block_id free of whatever a handler put in Role.
func roleKey(role string) string {
	if role == "reviewer" || role == "owner" {
		return role
	}
	return "member"
}

// ParseSignOffMetadata decodes the private_metadata of the decline modal,
// which carries the sign-off message's value (campaign and digest shown).
func ParseSignOffMetadata(s string) (Ref, error) {
	ref, err := ParseRef(s)
	if err != nil {
		return Ref{}, err
	}
	if ref.Kind != RefSignOff {
		return Ref{}, fmt.Errorf("a %s value as sign-off metadata: %w", ref.Kind, ErrBadValue)
	}
	return ref, nil
}
