package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Close ends an open campaign by hand. Only the owner, the IAM reviewers
// and admins may; a campaign already closed answers ErrConflict.
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

// resolveAdmin resolves an actor who must administer the campaign.
func (e *Engine) resolveAdmin(ctx context.Context, c *Campaign, actor Actor) (Actor, error) {
	if actor.Via == System.Via {
		return actor, nil
	}
	a, err := e.resolve(ctx, c, actor)
	if err != nil && !inList(actor, e.Admins) {
		return actor, err
	}
	if err != nil {
		a = actor
	}
	if !e.mayAdminister(ctx, c, a) {
		return a, fmt.Errorf("%s may not administer campaign %d (its owner, IAM reviewers and admins may): %w", a, c.ID, ErrForbidden)
	}
	return a, nil
}

// close computes every case's outcome, plans the remediation on the frozen
// snapshot, records certification history and moves the campaign to
// closed (or done, for report-only campaigns and empty plans).
func (e *Engine) close(ctx context.Context, c *Campaign, actor Actor, now time.Time, why string) (*Campaign, []PlanItem, error) {
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{})
	if err != nil {
		return c, nil, err
	}
	def := c.Definition
	outcomes := make(map[int64]string, len(cases))
	var history []Certification
	counts := map[string]int{}
	for i := range cases {
		cs := &cases[i]
		cs.Outcome = Outcome(def, cs)
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
	ops := 0
	for i := range plan {
		if plan[i].IsOperation() {
			ops++
		}
	}
	from := c.State
	next := *c
	next.State, next.ClosedAt = StateClosed, now
	detail := map[string]any{"note": why, "outcomes": counts, "operations": ops, "plan_items": len(plan), "from": string(from)}
	if err := e.Store.CloseCampaign(ctx, &next, from, outcomes, plan, history,
		Event{At: now, CampaignID: c.ID, Type: "campaign.closed", Actor: actor, Detail: detail}); err != nil {
		if errors.Is(err, ErrConflict) {
			cur, gerr := e.Store.GetCampaign(ctx, c.ID)
			if gerr == nil && !cur.State.Open() {
				return cur, nil, fmt.Errorf("campaign %d is already %s: %w", c.ID, cur.State, ErrConflict)
			}
		}
		return c, nil, err
	}
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
	e.notify(ctx, Notification{Kind: NoteClosed, CampaignID: c.ID, Campaign: c.Name, Open: ops,
		Text: fmt.Sprintf("%s: %d removals planned, %d items to handle by hand", why, ops, len(plan)-ops)})
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

// Approve records an approver's approval of a closed campaign's plan; once
// the definition's number of approvals is reached the campaign moves to
// approved. Only configured approvers may approve, never the launcher; a
// second approval by the same person changes nothing.
func (e *Engine) Approve(ctx context.Context, id int64, actor Actor) (*Campaign, int, error) {
	return e.decidePlan(ctx, id, actor, "approve")
}

// Reject records a rejection: the plan is not carried out.
func (e *Engine) Reject(ctx context.Context, id int64, actor Actor) (*Campaign, int, error) {
	return e.decidePlan(ctx, id, actor, "reject")
}

func (e *Engine) decidePlan(ctx context.Context, id int64, actor Actor, decision string) (*Campaign, int, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if c.State != StateClosed {
		return c, 0, fmt.Errorf("campaign %d is %s; only a closed campaign's plan can be decided: %w", c.ID, c.State, ErrConflict)
	}
	if a, err := e.resolve(ctx, c, actor); err == nil {
		actor = a
	} else if !inList(actor, e.Approvers) {
		return c, 0, err
	}
	if !e.mayApprove(ctx, c, actor) {
		return c, 0, fmt.Errorf("%s is not an approver of campaign %d: %w", actor, c.ID, ErrForbidden)
	}
	if strings.EqualFold(actor.Email, c.Owner) {
		return c, 0, fmt.Errorf("%s launched campaign %d and may not %s its plan: %w", actor, c.ID, decision, ErrForbidden)
	}
	if decision == "approve" && e.StepUp != nil {
		if err := e.StepUp(ctx, actor); err != nil {
			_ = e.Store.AppendEvent(ctx, Event{At: e.now(), CampaignID: c.ID, Type: "plan.step_up_failed", Actor: actor,
				Detail: map[string]any{"error": err.Error()}})
			return c, 0, fmt.Errorf("the approval needs the Okta Verify push accepted: %w", err)
		}
	}
	now := e.now()
	all, err := e.Store.AddApproval(ctx, c.ID, Approval{Approver: actor.String(), Decision: decision, At: now},
		Event{At: now, CampaignID: c.ID, Type: "plan." + decision + "d", Actor: actor})
	if err != nil {
		return c, 0, err
	}
	approvals := 0
	for _, a := range all {
		if a.Decision == "approve" {
			approvals++
		}
	}
	required, err := e.RequiredApprovals(ctx, c)
	if err != nil {
		return c, approvals, err
	}
	next := *c
	switch {
	case decision == "reject":
		next.State = StateRejected
	case approvals >= required:
		next.State = StateApproved
	default:
		return c, approvals, nil
	}
	err = e.Store.MoveCampaign(ctx, &next, StateClosed, Event{At: now, CampaignID: c.ID, Type: "campaign." + string(next.State),
		Actor: actor, Detail: map[string]any{"approvals": approvals, "required": required}})
	if errors.Is(err, ErrConflict) {
		cur, _ := e.Store.GetCampaign(ctx, c.ID)
		return cur, approvals, nil
	}
	if err != nil {
		return c, approvals, err
	}
	kind := NoteApproved
	if next.State == StateRejected {
		kind = NoteRejected
	}
	e.notify(ctx, Notification{Kind: kind, CampaignID: c.ID, Campaign: c.Name, Text: actor.String()})
	return &next, approvals, nil
}

// Cancel stops a campaign before its plan is approved.
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
		Actor: actor, Detail: map[string]any{"note": reason}}); err != nil {
		return c, err
	}
	e.notify(ctx, Notification{Kind: NoteCancelled, CampaignID: c.ID, Campaign: c.Name, Text: reason})
	return &next, nil
}

// RequiredApprovals is how many approvals a closed campaign's plan needs:
// the definition's number, plus one when the plan's blast radius is large.
func (e *Engine) RequiredApprovals(ctx context.Context, c *Campaign) (int, error) {
	required := c.Definition.Approval.Required
	plan, err := e.Store.Plan(ctx, c.ID)
	if err != nil {
		return 0, err
	}
	if critical, err := e.removesCritical(ctx, c.ID, plan); err != nil {
		return 0, err
	} else if critical {
		required++ // removing critical access takes one more pair of eyes
	}
	if e.MaxOperations <= 0 && e.MaxGroupShare <= 0 {
		return required, nil
	}
	why, err := BlastRadius(ctx, e.Store, c, plan, e.MaxOperations, e.MaxGroupShare)
	if err != nil {
		return 0, err
	}
	if why != "" {
		required++
	}
	return required, nil
}

// RetryFailed puts a campaign's failed operations back in the queue. Only
// its approvers may.
func (e *Engine) RetryFailed(ctx context.Context, id int64, actor Actor) (int, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return 0, err
	}
	if a, err := e.resolve(ctx, c, actor); err == nil {
		actor = a
	}
	if !e.mayApprove(ctx, c, actor) {
		return 0, fmt.Errorf("%s is not an approver of campaign %d: %w", actor, c.ID, ErrForbidden)
	}
	ops, ok := e.Store.(OperationStore)
	if !ok {
		return 0, fmt.Errorf("this store keeps no operations: %w", ErrInvalid)
	}
	return ops.RetryFailed(ctx, id, Event{At: e.now(), CampaignID: id, Type: "operation.retry_requested", Actor: actor})
}

// removesCritical reports whether a plan's operations serve a case rated
// critical.
func (e *Engine) removesCritical(ctx context.Context, id int64, plan []PlanItem) (bool, error) {
	want := map[int64]bool{}
	for _, p := range plan {
		if p.IsOperation() {
			for _, c := range p.CaseIDs {
				want[c] = true
			}
		}
	}
	if len(want) == 0 {
		return false, nil
	}
	cases, err := e.Store.Cases(ctx, id, CaseQuery{})
	if err != nil {
		return false, err
	}
	for i := range cases {
		if want[cases[i].ID] && strings.EqualFold(cases[i].Risk, "critical") {
			return true, nil
		}
	}
	return false, nil
}
