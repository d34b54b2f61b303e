package campaign

import (
	"context"
	"errors"
	"fmt"
)

// LaunchSweepReview launches the review of a stale-access sweep's findings
// ("Start review of these") at most once per sweep, whoever clicks and
// however often. The sweep is claimed for the new campaign, by
// compare-and-swap, right after the campaign's draft exists and before
// any case is written or anyone is told; a launch that fails releases the
// claim. The loser of two concurrent clicks gets ErrConflict with the
// sentence "a review of this sweep was already started (campaign N)", and
// nothing is launched for them (their draft, if any, is cancelled). A
// claim held by a launch that died (its campaign cancelled, or a draft
// older than closeLease) is taken over.
//
// Only admins (Admins, or IsAdmin) may; the actor must be an active user
// of the directory (ErrForbidden). ErrNotFound for an unknown sweep,
// ErrInvalid when it found nothing or the store keeps no sweeps.
func (e *Engine) LaunchSweepReview(ctx context.Context, sweepID int64, actor Actor, iamReviewers []string) (*Campaign, error) {
	st, ok := e.Store.(SweepReviewStore)
	if !ok {
		return nil, fmt.Errorf("this store keeps no sweeps: %w", ErrInvalid)
	}
	actor, err := e.identify(ctx, nil, actor)
	if err != nil {
		return nil, err
	}
	if !e.listed(ctx, nil, actor, e.Admins) && !(e.IsAdmin != nil && e.IsAdmin(ctx, actor)) {
		return nil, forbidden("only IAM admins may start the review of a sweep")
	}
	covered, current, err := st.Sweep(ctx, sweepID)
	if err != nil {
		return nil, err
	}
	if len(covered) == 0 {
		return nil, fmt.Errorf("the sweep found nothing to review: %w", ErrInvalid)
	}
	expect := int64(0)
	if current != 0 {
		if !e.claimDied(ctx, current) {
			return nil, sweepTaken(current)
		}
		expect = current // take over a dead launch's claim
	}
	var claimed int64
	claim := func(ctx context.Context, id int64) error {
		now, swapped, err := st.SwapSweepReview(ctx, sweepID, expect, id)
		switch {
		case err != nil:
			return err
		case !swapped:
			return sweepTaken(now)
		}
		claimed = id
		return nil
	}
	def := &Definition{Name: "Stale-access review " + e.now().Format("2006-01-02"), Owner: actor.String(),
		Description: "Launched from a stale-access sweep: exactly the access it found."}
	def.Scope.Apps.IncludeCompanyWide, def.Scope.Apps.IncludeInactive = true, true
	def.Escalation.IAMReviewers = iamReviewers
	def.setDefaults()
	yaml := "name: " + def.Name + "\nowner: " + def.Owner + "\nscope: {apps: {include_company_wide: true, include_inactive: true}}\n"
	c, err := e.Launch(ctx, LaunchRequest{Definition: def, YAML: yaml, Owner: actor, Trigger: "sweep", Only: covered, claim: claim})
	if err != nil && claimed != 0 {
		if _, _, rerr := st.SwapSweepReview(context.WithoutCancel(ctx), sweepID, claimed, 0); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release the claim on sweep %d: %w", sweepID, rerr))
		}
	}
	return c, err
}

// sweepTaken is the refusal of a second review of one sweep.
func sweepTaken(campaignID int64) error {
	return &Error{Code: EConflict, Message: fmt.Sprintf("a review of this sweep was already started (campaign %d)", campaignID)}
}

// claimDied reports whether the campaign holding a sweep's claim will
// never open: cancelled (its launch failed), gone, or a draft left by a
// process that died more than closeLease ago.
func (e *Engine) claimDied(ctx context.Context, campaignID int64) bool {
	c, err := e.Store.GetCampaign(ctx, campaignID)
	switch {
	case errors.Is(err, ErrNotFound):
		return true
	case err != nil:
		return false
	}
	return c.State == StateCancelled || c.State == StateDraft && e.now().Sub(c.CreatedAt) >= closeLease
}
