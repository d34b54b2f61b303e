package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Close ends an open campaign by hand. Only the launcher, the
// definition's owner and IAM reviewers, and admins may; a campaign already
// closing or closed answers ErrConflict. Answers are fenced first (see
// fenceClose), so every answer is either in the plan or refused.
func (e *Engine) Close(ctx context.Context, id int64, actor Actor) (*Campaign, []PlanItem, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if actor, err = e.resolveAdmin(ctx, c, actor); err != nil {
		return nil, nil, err
	}
	if !c.State.Open() {
		return c, nil, fmt.Errorf("campaign %d is already %s: %w", c.ID, c.State, ErrConflict)
	}
	return e.close(ctx, c, actor, e.now(), "closed by "+actor.String())
}

// resolveAdmin identifies an actor who must administer the campaign. It
// returns ErrForbidden for someone not in the directory or without the
// right.
func (e *Engine) resolveAdmin(ctx context.Context, c *Campaign, actor Actor) (Actor, error) {
	if actor.Via == System.Via {
		return actor, nil
	}
	a, err := e.identify(ctx, c, actor)
	if err != nil {
		return actor, err
	}
	if !e.mayAdminister(ctx, c, a) {
		return a, fmt.Errorf("%s may not administer campaign %d (its launcher, owner, IAM reviewers and admins may): %w", a, c.ID, ErrForbidden)
	}
	return a, nil
}

// close computes every case's outcome, plans the remediation on the frozen
// snapshot, records certification history and moves the campaign to
// closed (or done, for report-only campaigns and empty plans).
func (e *Engine) close(ctx context.Context, c *Campaign, actor Actor, now time.Time, why string) (*Campaign, []PlanItem, error) {
	from := c.State
	c, err := e.fenceClose(ctx, c, actor, now, why)
	if err != nil {
		return c, nil, err
	}
	if st, ok := e.Store.(caseStreamer); ok {
		return e.closeStreamed(ctx, c, st, actor, now, why, from)
	}
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{})
	if err != nil {
		return c, nil, err
	}
	def := c.Definition
	owned, err := e.ownerOutcomes(ctx, c, cases) // stage 3's word, when it ran
	if err != nil {
		return c, nil, err
	}
	outcomes := make(map[int64]string, len(cases))
	var history []Certification
	counts := map[string]int{}
	for i := range cases {
		cs := &cases[i]
		cs.Outcome = Outcome(def, cs)
		owned[cs.ID].apply(cs)
		outcomes[cs.ID] = cs.Outcome
		counts[cs.Outcome]++
		if cert, ok := certification(cs, c, now); ok {
			history = append(history, cert)
		}
	}
	var plan []PlanItem
	if def.Remediation.Mode == ModeRevoke {
		snap, err := e.Store.LoadSnapshot(ctx, c.SnapshotID)
		if err != nil {
			return c, nil, fmt.Errorf("load reviewed snapshot %d: %w", c.SnapshotID, err)
		}
		plan = BuildPlan(NewIndex(snap), def, cases)
	}
	next, ev, ops := closedState(c, actor, now, why, from, counts, plan)
	return e.finishClose(ctx, c, next, plan, ops, why, now,
		e.Store.CloseCampaign(ctx, next, StateClosing, outcomes, plan, history, ev))
}

// closedState is the campaign closed with plan, the campaign.closed event
// that records it, and the plan's number of Okta operations.
func closedState(c *Campaign, actor Actor, now time.Time, why string, from State, counts map[string]int,
	plan []PlanItem) (*Campaign, Event, int) {
	ops := 0
	for i := range plan {
		if plan[i].IsOperation() {
			ops++
		}
	}
	next := *c
	next.State, next.ClosedAt, next.PlanDigest = StateClosed, now, PlanDigest(plan)
	detail := actor.stamp(map[string]any{"note": why, "outcomes": counts, "operations": ops, "plan_items": len(plan),
		"from": string(from), "plan_sha256": next.PlanDigest})
	return &next, Event{At: now, CampaignID: c.ID, Type: "campaign.closed", Actor: actor, Detail: detail}, ops
}

// finishClose follows the store's close (err its result): a campaign
// with nothing to remove is done at once, and people are told.
func (e *Engine) finishClose(ctx context.Context, c, closed *Campaign, plan []PlanItem, ops int, why string, now time.Time,
	err error) (*Campaign, []PlanItem, error) {
	if err != nil {
		if errors.Is(err, ErrConflict) {
			if cur, gerr := e.Store.GetCampaign(ctx, c.ID); gerr == nil {
				return cur, nil, fmt.Errorf("campaign %d is already %s: %w", c.ID, cur.State, ErrConflict)
			}
		}
		return c, nil, err
	}
	def := c.Definition
	next := *closed
	if def.Remediation.Mode == ModeReportOnly || ops == 0 {
		done := next
		done.State = StateDone
		reason := "report-only campaign: nothing is removed"
		if def.Remediation.Mode == ModeRevoke {
			reason = "nothing to remove"
		}
		if err := e.Store.MoveCampaign(ctx, &done, StateClosed, Event{At: now, CampaignID: c.ID, Type: "campaign.done",
			Actor: System, Detail: map[string]any{"note": reason}}); err != nil {
			return &next, plan, err
		}
		next = done
	}
	if err := e.announceClosed(ctx, &next, Notification{Kind: NoteClosed, CampaignID: c.ID, Campaign: c.Name, Open: ops,
		Text: fmt.Sprintf("%s: %d removals planned, %d items to handle by hand", why, ops, len(plan)-ops)}, now, false); err != nil {
		e.reportNotify(Notification{Kind: NoteClosed, CampaignID: c.ID}, err)
	}
	if next.State == StateDone && next.OwnerID != "" {
		// Nothing to remove: the control owner signs off at once.
		e.notify(ctx, Notification{Kind: NoteSignOff, To: next.OwnerID, CampaignID: c.ID, Campaign: c.Name,
			Key: fmt.Sprintf("signoff:%d", c.ID)})
	}
	return &next, plan, nil
}

// Outcome decides a case at close: a member's revoke goes straight to
// removal unless managers confirm those too; otherwise the reviewer's word
// counts (or the member's, when there is no manager stage); undecided cases
// follow the definition's no-decision rule.
func Outcome(def *Definition, cs *CaseRecord) string {
	if cs.MemberDecision == DecisionRevoke && !def.Stages.ConfirmMemberRevokes {
		return OutcomeRevokedByMember
	}
	switch cs.ReviewerDecision {
	case DecisionKeep:
		return OutcomeKept
	case DecisionRevoke:
		return OutcomeRevoked
	}
	if !def.Stages.Manager.On() {
		switch cs.MemberDecision {
		case DecisionKeep:
			return OutcomeKept
		case DecisionRevoke:
			return OutcomeRevoked
		}
	}
	if def.Remediation.NoDecision == DecisionRevoke {
		return OutcomeNoDecisionRevoked
	}
	return OutcomeNoDecisionKept
}

// certification is the history record of a decided case.
func certification(cs *CaseRecord, c *Campaign, now time.Time) (Certification, bool) {
	by := cs.DecidedBy
	switch cs.Outcome {
	case OutcomeKept, OutcomeRevoked:
		if by == "" {
			by = cs.UserID
		}
	case OutcomeRevokedByMember:
		by = cs.UserID
	default:
		return Certification{}, false
	}
	return Certification{EntitlementKey: EntitlementKey{cs.UserID, cs.Kind, cs.EntitlementID}, CertifiedAt: now,
		Outcome: cs.Outcome, DecidedBy: by, CampaignID: c.ID, AcceptUntil: cs.AcceptUntil}, true
}

// Cancel stops a campaign before its plan is approved (never while it is
// closing): a compare-and-swap of its state, in the transaction that
// records it.
func (e *Engine) Cancel(ctx context.Context, id int64, actor Actor, reason string) (*Campaign, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor, err = e.resolveAdmin(ctx, c, actor); err != nil {
		return nil, err
	}
	if !CanMove(c.State, StateCancelled) {
		return c, fmt.Errorf("campaign %d is %s and can no longer be cancelled: %w", c.ID, c.State, ErrConflict)
	}
	next := *c
	next.State = StateCancelled
	if err := e.Store.MoveCampaign(ctx, &next, c.State, Event{At: e.now(), CampaignID: c.ID, Type: "campaign.cancelled",
		Actor: actor, Detail: actor.stamp(map[string]any{"note": reason})}); err != nil {
		return c, err
	}
	e.notify(ctx, Notification{Kind: NoteCancelled, CampaignID: c.ID, Campaign: c.Name, Text: reason})
	return &next, nil
}
