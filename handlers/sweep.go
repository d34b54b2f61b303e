package handlers

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// SweepStore keeps sweeps, for the "Start review of these" button.
type SweepStore interface {
	SaveSweep(ctx context.Context, snapshotID int64, findings int, covered map[campaign.EntitlementKey]bool) (int64, error)
	Sweep(ctx context.Context, id int64) (map[campaign.EntitlementKey]bool, int64, error)
	ClaimSweepReview(ctx context.Context, id, campaignID int64) (bool, error)
}

// RunSweep sweeps the latest snapshot for stale access and posts the
// findings to the approvals channel with a CSV and a button that launches
// a review of exactly them. It returns the findings, or the store's error.
func (h *Handler) RunSweep(ctx context.Context, sweeps SweepStore, o campaign.SweepOptions) ([]campaign.Finding, error) {
	h.build()
	info, err := h.Campaign.LatestSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("sweep: latest snapshot: %w", err)
	}
	snap, err := h.Campaign.LoadSnapshot(ctx, info.ID)
	if err != nil {
		return nil, fmt.Errorf("sweep: load snapshot %d: %w", info.ID, err)
	}
	findings := campaign.Sweep(campaign.NewIndex(snap), h.out.now(), o)
	covered := campaign.Covered(findings)
	id, err := sweeps.SaveSweep(ctx, info.ID, len(findings), covered)
	if err != nil {
		return nil, fmt.Errorf("sweep: save: %w", err)
	}
	return findings, h.out.PostSweep(ctx, id, findings, len(covered))
}

// sweepRefusals say why a sweep review was refused.
var sweepRefusals = map[string]string{
	campaign.EForbidden: "You may not start this review.",
	campaign.EInvalid:   "These findings cannot be reviewed as they are.",
	campaign.ENotFound:  "This sweep is no longer kept; run a new one.",
}

// sweepAction launches the review of a sweep's findings (IAM admins).
func (x *Interactions) sweepAction(ctx context.Context, cb slack.InteractionCallback, ref blocks.Ref, actor campaign.Actor) error {
	if err := x.Access.requireAdmin(ctx, cb.User.ID, "start reviews"); err != nil {
		return err
	}
	if x.Sweeps == nil {
		return campaign.Errorf(campaign.EInvalid, "Sweeps are not kept by this installation.")
	}
	covered, launched, err := x.Sweeps.Sweep(ctx, ref.ID)
	if err != nil {
		return refuse(err, sweepRefusals)
	}
	if launched != 0 {
		return campaign.Errorf(campaign.EConflict, "Campaign %d already reviews this sweep.", launched)
	}
	c, err := x.Engine.LaunchSweep(ctx, covered, actor, nil)
	if err != nil {
		return refuse(err, sweepRefusals)
	}
	if _, err := x.Sweeps.ClaimSweepReview(ctx, ref.ID, c.ID); err != nil {
		return fmt.Errorf("claim sweep %d for campaign %d: %w", ref.ID, c.ID, err)
	}
	x.Out.PostStatus(ctx, c)
	return x.Out.SweepLaunched(ctx, ref.ID, len(covered),
		fmt.Sprintf("Review launched by %s: campaign %d (%d cases).", actor.String(), c.ID, len(covered)))
}
