package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ApprovalStatus is where a closed campaign's plan stands: what the Slack
// approval message shows as "Approved of Required".
type ApprovalStatus struct {
	// Required is how many approvals the plan needs: the definition's
	// number, plus one for critical access, plus one past the blast
	// radius (RequiredApprovals).
	Required int
	// Approved counts the approvals that count now: one per Okta user,
	// given to this plan (its digest), by someone who still may approve
	// and did not launch the campaign.
	Approved int
	// Counted are those approvals; Rejections the rejections.
	Counted, Rejections []Approval
	// PlanDigest is the digest of the stored plan.
	PlanDigest string
}

// ApprovalStatus returns the true required count and the approvals that
// count so far for a campaign's plan, checking every approver's rights as
// they are now. It returns ErrNotFound for an unknown campaign.
func (e *Engine) ApprovalStatus(ctx context.Context, id int64) (*ApprovalStatus, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	plan, err := e.Store.Plan(ctx, id)
	if err != nil {
		return nil, err
	}
	all, err := e.Store.Approvals(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.approvalStatus(ctx, c, plan, all)
}

// approvalStatus counts the approvals that stand: bound to the plan's
// digest (or, for a campaign closed before digests, unbound), one per Okta
// user, each approver still an active user, still an approver and not
// the launcher. Rights are checked now, so an approver removed from the
// list since their click no longer counts.
func (e *Engine) approvalStatus(ctx context.Context, c *Campaign, plan []PlanItem, all []Approval) (*ApprovalStatus, error) {
	st := &ApprovalStatus{PlanDigest: PlanDigest(plan)}
	var err error
	if st.Required, err = e.requiredFor(ctx, c, plan); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, a := range all {
		if a.Decision != "approve" {
			st.Rejections = append(st.Rejections, a)
			continue
		}
		if a.PlanDigest != st.PlanDigest && !(a.PlanDigest == "" && c.PlanDigest == "") {
			continue
		}
		who := Actor{UserID: a.ApproverID, Email: a.Approver, SlackUserID: a.SlackUserID, Via: a.Via}
		if who.Via == "" || who.Via == System.Via {
			who.Via = "approval"
		}
		if who, err = e.identify(ctx, c, who); err != nil {
			continue // no longer an active user of the directory
		}
		if seen[who.UserID] || !e.mayApprove(ctx, c, who) {
			continue
		}
		if owner, err := e.isOwner(ctx, c, who); err != nil || owner {
			continue
		}
		seen[who.UserID] = true
		st.Counted = append(st.Counted, a)
	}
	st.Approved = len(st.Counted)
	return st, nil
}

// Approve records an approver's approval of a closed campaign's plan,
// bound to the plan's digest; once the approvals that count (see
// ApprovalStatus) reach the required number, the campaign moves to
// approved. Only approvers may approve, never the launcher; with StepUp
// set the Okta Verify push must be accepted first; a second approval by
// the same person changes nothing. It returns the campaign and the count
// of approvals that stand.
func (e *Engine) Approve(ctx context.Context, id int64, actor Actor) (*Campaign, int, error) {
	return e.decidePlan(ctx, id, actor, "approve")
}

// Reject records a rejection (same rights and step-up as Approve): the
// plan is not carried out.
func (e *Engine) Reject(ctx context.Context, id int64, actor Actor) (*Campaign, int, error) {
	return e.decidePlan(ctx, id, actor, "reject")
}

func (e *Engine) decidePlan(ctx context.Context, id int64, actor Actor, decision string) (*Campaign, int, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if actor, err = e.identify(ctx, c, actor); err != nil {
		return c, 0, err
	}
	if c.State != StateClosed {
		return c, 0, fmt.Errorf("campaign %d is %s; only a closed campaign's plan can be decided: %w", c.ID, c.State, ErrConflict)
	}
	if !e.mayApprove(ctx, c, actor) {
		return c, 0, fmt.Errorf("%s is not an approver of campaign %d: %w", actor, c.ID, ErrForbidden)
	}
	if owner, err := e.isOwner(ctx, c, actor); err != nil {
		return c, 0, err
	} else if owner {
		return c, 0, fmt.Errorf("%s launched campaign %d and may not %s its plan: %w", actor, c.ID, decision, ErrForbidden)
	}
	if err := e.stepUp(ctx, c.ID, actor, map[string]string{"approve": "the approval", "reject": "the rejection"}[decision]); err != nil {
		return c, 0, err
	}
	plan, err := e.Store.Plan(ctx, c.ID)
	if err != nil {
		return c, 0, err
	}
	digest := PlanDigest(plan)
	if c.PlanDigest != "" && digest != c.PlanDigest {
		return c, 0, fmt.Errorf("the stored plan of campaign %d (sha256 %s) is not the plan it closed with (sha256 %s): %w",
			c.ID, digest, c.PlanDigest, ErrConflict)
	}
	now := e.now()
	all, err := e.Store.AddApproval(ctx, c.ID, Approval{Approver: actor.String(), ApproverID: actor.UserID, SlackUserID: actor.SlackUserID,
		Via: actor.Via, Decision: decision, At: now, PlanDigest: digest},
		Event{At: now, CampaignID: c.ID, Type: "plan." + decision + "d", Actor: actor, Detail: actor.stamp(map[string]any{"plan_sha256": digest})})
	if err != nil {
		return c, 0, err
	}
	st, err := e.approvalStatus(ctx, c, plan, all)
	if err != nil {
		return c, 0, err
	}
	next := *c
	switch {
	case decision == "reject":
		next.State = StateRejected
	case st.Approved >= st.Required:
		next.State = StateApproved
	default:
		return c, st.Approved, nil
	}
	err = e.Store.MoveCampaign(ctx, &next, StateClosed, Event{At: now, CampaignID: c.ID, Type: "campaign." + string(next.State),
		Actor: actor, Detail: actor.stamp(map[string]any{"approvals": st.Approved, "required": st.Required, "plan_sha256": digest})})
	if errors.Is(err, ErrConflict) {
		cur, _ := e.Store.GetCampaign(ctx, c.ID)
		return cur, st.Approved, nil
	}
	if err != nil {
		return c, st.Approved, err
	}
	kind := NoteApproved
	if next.State == StateRejected {
		kind = NoteRejected
	}
	e.notify(ctx, Notification{Kind: kind, CampaignID: c.ID, Campaign: c.Name, Text: actor.String()})
	return &next, st.Approved, nil
}

// stepUp asks for the Okta Verify push when StepUp is set; a refusal is
// recorded and returned as ErrForbidden.
func (e *Engine) stepUp(ctx context.Context, campaignID int64, actor Actor, what string) error {
	if e.StepUp == nil {
		return nil
	}
	if err := e.StepUp(ctx, actor); err != nil {
		_ = e.Store.AppendEvent(ctx, Event{At: e.now(), CampaignID: campaignID, Type: "plan.step_up_failed", Actor: actor,
			Detail: actor.stamp(map[string]any{"error": err.Error(), "for": what})})
		if !errors.Is(err, ErrForbidden) {
			err = fmt.Errorf("%w: %w", err, ErrForbidden)
		}
		return fmt.Errorf("%s needs the Okta Verify push accepted: %w", what, err)
	}
	return nil
}

// RequiredApprovals is how many approvals a closed campaign's plan needs:
// the definition's number, plus one when the plan removes critical
// access, plus one when its blast radius is large.
func (e *Engine) RequiredApprovals(ctx context.Context, c *Campaign) (int, error) {
	plan, err := e.Store.Plan(ctx, c.ID)
	if err != nil {
		return 0, err
	}
	return e.requiredFor(ctx, c, plan)
}

func (e *Engine) requiredFor(ctx context.Context, c *Campaign, plan []PlanItem) (int, error) {
	required := c.Definition.Approval.Required
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

// CheckApprovedPlan is the executor's check that the plan it is about to
// carry out is the plan that was closed and approved: the stored plan's
// digest must be the campaign's, and every approval bound to a digest
// must be bound to this one. It returns ErrForbidden, naming both
// digests, when they differ, and the store's error.
func CheckApprovedPlan(ctx context.Context, st Store, c *Campaign, plan []PlanItem) error {
	digest := PlanDigest(plan)
	if c.PlanDigest != "" && digest != c.PlanDigest {
		return fmt.Errorf("campaign %d: the stored plan (sha256 %s) is not the plan that was closed and approved (sha256 %s): %w",
			c.ID, digest, c.PlanDigest, ErrForbidden)
	}
	approvals, err := st.Approvals(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, a := range approvals {
		if a.Decision == "approve" && a.PlanDigest != "" && a.PlanDigest != digest {
			return fmt.Errorf("campaign %d: %s approved the plan sha256 %s, not this plan (sha256 %s): %w",
				c.ID, a.Approver, a.PlanDigest, digest, ErrForbidden)
		}
	}
	return nil
}

// RetryFailed puts a campaign's failed operations back in the queue. Only
// its approvers may, after the Okta Verify push when StepUp is set.
func (e *Engine) RetryFailed(ctx context.Context, id int64, actor Actor) (int, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return 0, err
	}
	if actor, err = e.identify(ctx, c, actor); err != nil {
		return 0, err
	}
	if !e.mayApprove(ctx, c, actor) {
		return 0, fmt.Errorf("%s is not an approver of campaign %d: %w", actor, c.ID, ErrForbidden)
	}
	if c.State != StateRemediating && c.State != StateDone {
		// Failed operations exist only once a plan runs; the store's
		// requeue touches failed operations only, so this read cannot
		// race anything that matters.
		return 0, fmt.Errorf("campaign %d is %s: only a plan being carried out, or carried out, has failed operations to retry: %w",
			c.ID, c.State, ErrConflict)
	}
	ops, ok := e.Store.(OperationStore)
	if !ok {
		return 0, fmt.Errorf("this store keeps no operations: %w", ErrInvalid)
	}
	if err := e.stepUp(ctx, c.ID, actor, "the retry"); err != nil {
		return 0, err
	}
	return ops.RetryFailed(ctx, id, Event{At: e.now(), CampaignID: id, Type: "operation.retry_requested", Actor: actor,
		Detail: actor.stamp(nil)})
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
