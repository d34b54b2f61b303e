package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AnswerRequest is one decision on one case. The case is named by CaseID,
// or by the member (User: email, login or id) and the entitlement
// (Entitlement: label or id).
type AnswerRequest struct {
	CampaignID  int64
	Actor       Actor
	CaseID      int64
	User        string
	Entitlement string
	Decision    string // keep, revoke, unsure (unsure only for members)
	Comment     string
	AcceptUntil time.Time // only with keep: access is due again then

	again bool // a reviewer's decision retried once across a stage change
}

// Answer records a decision after checking, on the server, that the actor
// may make it: in stage 1 only the member answers their own cases, and may
// change them until the stage ends; in stage 2 only the case's current
// reviewer (for cases without one, those mayDecideForIAM names) decides,
// and never on their own access. A case whose member's account is
// suspended or deprovisioned has no member stage: its reviewer decides it
// from stage 1 on. The answer is written only while its stage is open,
// checked in the transaction that writes it: a late answer is refused
// with ErrConflict ("this campaign's stage N has ended; your answer was
// not recorded") and changes nothing. Anyone else gets ErrForbidden.
func (e *Engine) Answer(ctx context.Context, req AnswerRequest) (*CaseRecord, error) {
	c, err := e.Store.GetCampaign(ctx, req.CampaignID)
	if err != nil {
		return nil, err
	}
	actor := req.Actor
	if actor.UserID == "" {
		// A name (the CLI): who it is decides what the request may see.
		if actor, err = e.identify(ctx, c, actor); err != nil {
			return nil, err
		}
	}
	now := e.now()
	// Apply any stage change that is due, so a late answer meets the
	// state the clock says, not the state the last tick left.
	if c, err = e.catchUp(ctx, c, now); err != nil {
		return nil, err
	}
	cs, err := e.findCase(ctx, c, req)
	if err != nil {
		return nil, err
	}
	if c.State == StateStage2 && cs.ReviewerID != "" && actor.UserID != cs.UserID && actor.UserID != cs.ReviewerID {
		// Refused on the id claimed, before asking the directory: a
		// refusal needs no proof of who clicked, a grant does.
		return nil, notYours(fmt.Errorf("%s's case for %s is assigned to another reviewer: %w", cs.UserID, cs.Label, ErrForbidden))
	}
	if actor, err = e.identify(ctx, c, actor); err != nil {
		return nil, err
	}
	// The stage the answer belongs to: the member's own answer is stage
	// 1's, any other decision stage 2's (or stage 1's, for a case with no
	// member stage, which goes straight to its reviewer).
	own := actor.UserID == cs.UserID
	switch {
	case own && c.State != StateStage1 && (!c.Definition.Stages.SelfAttestation.On() || !cs.MemberStage()):
		return nil, fmt.Errorf("nobody confirms their own access (%s): %w", cs.Label, ErrForbidden)
	case own && c.State != StateStage1:
		// Late, and no longer theirs to answer: both a conflict and forbidden.
		return nil, stageEnded(c, own, fmt.Errorf("campaign %d is %s; after self-attestation only reviewers decide: %w",
			c.ID, c.State, ErrForbidden))
	case !own && c.State == StateStage3:
		return e.ownerAnswer(ctx, c, cs, actor, req) // an app owner's word, from the CLI
	case !own && !c.State.Open():
		return nil, stageEnded(c, own, nil)
	case c.State == StateStage2 && !now.Before(c.Deadline):
		return nil, stageEnded(c, own, fmt.Errorf("campaign %d passed its deadline %s", c.ID, c.Deadline.Format(time.RFC3339)))
	case own && !cs.MemberStage():
		return nil, fmt.Errorf("%s's account was suspended or deprovisioned at launch: their answer is not expected: %w", cs.UserID, ErrConflict)
	case !own && c.State == StateStage1 && cs.MemberStage():
		return nil, fmt.Errorf("only %s answers for their own access in self-attestation: %w", cs.UserID, ErrForbidden)
	}
	decision := strings.ToLower(strings.TrimSpace(req.Decision))
	comment := strings.TrimSpace(req.Comment)
	if err := e.checkDecision(c, cs, decision, comment, req.AcceptUntil, now); err != nil {
		return nil, err
	}
	prevReviewer := cs.ReviewerID
	detail := map[string]any{"user": cs.UserID, "kind": cs.Kind, "entitlement": cs.EntitlementID, "label": cs.Label,
		"decision": decision, "stage": string(c.State)}
	if comment != "" {
		detail["comment"] = comment
	}
	if own {
		if decision != DecisionKeep && decision != DecisionRevoke && decision != DecisionUnsure {
			return nil, fmt.Errorf("decision %q: use keep, revoke or unsure: %w", req.Decision, ErrInvalid)
		}
		if cs.MemberDecision != "" {
			detail["previous"] = cs.MemberDecision
		}
		cs.MemberDecision, cs.MemberComment, cs.MemberAt = decision, comment, now
	} else {
		if err := e.mayReview(ctx, c, cs, actor); err != nil {
			return nil, err
		}
		if decision != DecisionKeep && decision != DecisionRevoke {
			return nil, fmt.Errorf("decision %q: a reviewer decides keep or revoke: %w", req.Decision, ErrInvalid)
		}
		if !cs.NeedsReviewer(c.Definition) {
			return nil, fmt.Errorf("%s answered revoke for %s: it goes to the removal list without confirmation: %w",
				cs.UserID, cs.Label, ErrConflict)
		}
		if cs.ReviewerDecision != "" {
			detail["previous"] = cs.ReviewerDecision
		}
		cs.ReviewerDecision, cs.ReviewerComment, cs.ReviewerAt, cs.DecidedBy = decision, comment, now, actor.String()
		cs.AcceptUntil = time.Time{}
		if decision == DecisionKeep && !req.AcceptUntil.IsZero() {
			cs.AcceptUntil = req.AcceptUntil.UTC()
			detail["accept_until"] = cs.AcceptUntil.Format(time.RFC3339)
		}
	}
	ev := Event{At: now, CampaignID: c.ID, CaseID: cs.ID, Type: "case.answered", Actor: actor, Detail: actor.stamp(detail)}
	err = e.Store.UpdateCases(ctx, []CaseUpdate{{Case: cs, ExpectReviewer: prevReviewer, ExpectState: c.State}}, []Event{ev})
	if errors.Is(err, ErrStageEnded) {
		if !own && c.State == StateStage1 && !req.again {
			// A reviewer's decision taken in stage 1 (a case with no
			// member stage) stays valid in stage 2: try once more.
			req.again = true
			return e.Answer(ctx, req)
		}
		return nil, stageEnded(c, own, err)
	}
	if err != nil {
		return nil, err
	}
	if c.State == StateStage1 && own {
		// The stage ends early once every member has answered.
		if err := e.maybeEndStage1(ctx, c, now, cs.UserID); err != nil {
			return cs, err
		}
	}
	if err := e.closeIfDecided(ctx, c, actor); err != nil {
		return cs, err
	}
	return cs, nil
}

// checkDecision applies the definition's rules on comments and expiry.
func (e *Engine) checkDecision(c *Campaign, cs *CaseRecord, decision, comment string, acceptUntil, now time.Time) error {
	for _, lvl := range c.Definition.Decisions.RequireCommentFor {
		if cs.Risk != "" && strings.EqualFold(lvl, cs.Risk) && comment == "" {
			return fmt.Errorf("%s is rated %s: a decision on it needs a comment: %w", cs.Label, cs.Risk, ErrInvalid)
		}
	}
	if !acceptUntil.IsZero() {
		if decision != DecisionKeep {
			return fmt.Errorf("accept-until goes with keep only: %w", ErrInvalid)
		}
		if !acceptUntil.After(now) {
			return fmt.Errorf("accept-until %s is not in the future: %w", acceptUntil.Format("2006-01-02"), ErrInvalid)
		}
	}
	return nil
}

// mayReview checks that the actor may decide the case as its reviewer:
// its current reviewer, or for the IAM team's cases (no reviewer) those
// mayDecideForIAM names; never on their own access.
func (e *Engine) mayReview(ctx context.Context, c *Campaign, cs *CaseRecord, actor Actor) error {
	if actor.UserID == cs.UserID {
		return &Error{Code: EForbidden, Message: "nobody confirms their own access",
			Err: fmt.Errorf("nobody confirms their own access (%s): %w", cs.Label, ErrForbidden)}
	}
	if cs.ReviewerID == "" {
		if e.mayDecideForIAM(ctx, c, actor) {
			return nil
		}
		return notYours(fmt.Errorf("%s's case for %s is the IAM team's to decide: %w", cs.UserID, cs.Label, ErrForbidden))
	}
	if actor.UserID != cs.ReviewerID {
		return notYours(fmt.Errorf("%s's case for %s is assigned to another reviewer: %w", cs.UserID, cs.Label, ErrForbidden))
	}
	return nil
}

// notYours is a refusal to decide a case whose sentence names nobody.
func notYours(cause error) error {
	return &Error{Code: EForbidden, Message: "this decision is not yours to make", Err: cause}
}

// findCase looks the case up by id, or by member and entitlement.
func (e *Engine) findCase(ctx context.Context, c *Campaign, req AnswerRequest) (*CaseRecord, error) {
	q := CaseQuery{ID: req.CaseID}
	if req.CaseID == 0 {
		u, err := e.member(ctx, c, req.User)
		if err != nil {
			return nil, err
		}
		q.UserID = u.ID
	}
	list, err := e.Store.Cases(ctx, c.ID, q)
	if err != nil {
		return nil, err
	}
	var found []CaseRecord
	for _, cs := range list {
		if req.CaseID != 0 || strings.EqualFold(cs.Label, req.Entitlement) || cs.EntitlementID == req.Entitlement {
			found = append(found, cs)
		}
	}
	switch len(found) {
	case 0:
		if req.CaseID != 0 {
			return nil, fmt.Errorf("campaign %d has no case %d: %w", c.ID, req.CaseID, ErrNotFound)
		}
		return nil, fmt.Errorf("campaign %d has no case for %s and %q: %w", c.ID, req.User, req.Entitlement, ErrNotFound)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("%q names %d entitlements of %s; use the case id: %w", req.Entitlement, len(found), req.User, ErrInvalid)
}

// DelegateRequest hands a member's stage-2 review to someone else.
type DelegateRequest struct {
	CampaignID int64
	Actor      Actor
	Member     string // email, login or id of the member under review
	To         string // email, login or id of the new reviewer
}

// Delegate moves the actor's open cases of one member to another reviewer,
// recorded. Nobody delegates to themselves or to the member under review.
func (e *Engine) Delegate(ctx context.Context, req DelegateRequest) (int, error) {
	c, err := e.Store.GetCampaign(ctx, req.CampaignID)
	if err != nil {
		return 0, err
	}
	if c, err = e.catchUp(ctx, c, e.now()); err != nil {
		return 0, err
	}
	if !c.State.Open() || c.State == StateStage3 { // owners do not delegate
		return 0, fmt.Errorf("campaign %d is %s: %w", c.ID, c.State, ErrConflict)
	}
	actor, err := e.identify(ctx, c, req.Actor)
	if err != nil {
		return 0, err
	}
	member, err := e.member(ctx, c, req.Member)
	if err != nil {
		return 0, err
	}
	// The new reviewer must be someone who can act now.
	to, err := e.identify(ctx, c, Actor{Email: req.To, Via: "delegate"})
	if err != nil {
		return 0, fmt.Errorf("delegate to %s: %w", req.To, err)
	}
	switch {
	case to.UserID == actor.UserID:
		return 0, fmt.Errorf("you cannot delegate to yourself: %w", ErrInvalid)
	case to.UserID == member.ID:
		return 0, fmt.Errorf("%s cannot review their own access: %w", req.To, ErrInvalid)
	}
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{UserID: member.ID, ReviewerID: &actor.UserID})
	if err != nil {
		return 0, err
	}
	now := e.now()
	var ups []CaseUpdate
	for i := range cases {
		if cases[i].ReviewerDecision != "" {
			continue
		}
		cases[i].ReviewerID, cases[i].DelegatedBy = to.UserID, actor.UserID
		ups = append(ups, CaseUpdate{Case: &cases[i], ExpectReviewer: actor.UserID, ExpectState: c.State})
	}
	if len(ups) == 0 {
		return 0, fmt.Errorf("you have no open cases of %s to delegate: %w", req.Member, ErrForbidden)
	}
	key := DelegationKey(c.ID, to.UserID, ups[0].Case.ID, now)
	ev := Event{At: now, CampaignID: c.ID, Type: DelegatedType, Actor: actor,
		Detail: actor.stamp(map[string]any{"member": member.ID, "to": to.UserID, "cases": len(ups), noticeDetail: key})}
	if err := e.Store.UpdateCases(ctx, ups, []Event{ev}); err != nil {
		if errors.Is(err, ErrStageEnded) {
			return 0, &Error{Code: EConflict, Message: "this campaign's review has ended; nothing was delegated", Err: err}
		}
		return 0, err
	}
	// The delegation is done: a notice not queued or not recorded now is
	// handed again by the leader's tick (resumeNotices).
	_, _ = e.announceMove(ctx, c, Notification{Kind: NoteDelegated, To: to.UserID, CampaignID: c.ID, Campaign: c.Name,
		Deadline: c.Deadline, Open: len(ups), Members: []string{member.ID}, Text: actor.String() + " delegated a review to you", Key: key},
		DelegationQueuedType, now, false)
	return len(ups), nil
}

// ConfirmMember is the reviewer's bulk shortcut "confirm all as answered by
// the member": each open stage-2 case of the member that the member
// answered keep or revoke gets that decision from the reviewer. Cases the
// member left open or marked unsure stay open. Refused when the definition
// disables bulk decisions, and for any case the actor may not review.
func (e *Engine) ConfirmMember(ctx context.Context, campaignID int64, actor Actor, member string) (int, error) {
	c, err := e.Store.GetCampaign(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	if c.Definition.Decisions.DisableBulk {
		return 0, fmt.Errorf("campaign %d requires a decision per case; bulk confirmation is disabled: %w", c.ID, ErrForbidden)
	}
	now := e.now()
	if c, err = e.catchUp(ctx, c, now); err != nil {
		return 0, err
	}
	if c.State != StateStage2 {
		return 0, fmt.Errorf("campaign %d is %s; members' answers are confirmed in stage 2: %w", c.ID, c.State, ErrConflict)
	}
	if actor, err = e.identify(ctx, c, actor); err != nil {
		return 0, err
	}
	m, err := e.member(ctx, c, member)
	if err != nil {
		return 0, err
	}
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{UserID: m.ID})
	if err != nil {
		return 0, err
	}
	var ups []CaseUpdate
	var events []Event
	for i := range cases {
		cs := &cases[i]
		if cs.ReviewerDecision != "" || !cs.NeedsReviewer(c.Definition) ||
			(cs.MemberDecision != DecisionKeep && cs.MemberDecision != DecisionRevoke) {
			continue
		}
		if err := e.mayReview(ctx, c, cs, actor); err != nil {
			return 0, err
		}
		if err := e.checkDecision(c, cs, cs.MemberDecision, "", time.Time{}, now); err != nil {
			return 0, fmt.Errorf("%w (decide %s on its own)", err, cs.Label)
		}
		cs.ReviewerDecision, cs.ReviewerAt, cs.DecidedBy = cs.MemberDecision, now, actor.String()
		ups = append(ups, CaseUpdate{Case: cs, ExpectReviewer: cs.ReviewerID, ExpectState: StateStage2})
		events = append(events, Event{At: now, CampaignID: c.ID, CaseID: cs.ID, Type: "case.answered", Actor: actor,
			Detail: actor.stamp(map[string]any{"user": cs.UserID, "label": cs.Label, "decision": cs.ReviewerDecision, "bulk": true,
				"stage": string(c.State)})})
	}
	if len(ups) == 0 {
		return 0, nil
	}
	if err := e.Store.UpdateCases(ctx, ups, events); err != nil {
		if errors.Is(err, ErrStageEnded) {
			return 0, stageEnded(c, false, err)
		}
		return 0, err
	}
	return len(ups), nil
}
