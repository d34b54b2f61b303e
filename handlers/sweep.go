package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// SweepStore keeps sweeps, for the "Start review of these" button.
type SweepStore interface {
	SaveSweep(ctx context.Context, snapshotID int64, findings int, covered map[campaign.EntitlementKey]bool) (int64, error)
	Sweep(ctx context.Context, id int64) (map[campaign.EntitlementKey]bool, int64, error)
	ClaimSweepReview(ctx context.Context, id, campaignID int64) (bool, error)
}

// RunSweep sweeps the latest snapshot for stale access and posts the
// findings to the approvals channel with a CSV and a button that launches
// a review of exactly them. It returns the findings.
func (h *Handler) RunSweep(ctx context.Context, sweeps SweepStore, o campaign.SweepOptions) ([]campaign.Finding, error) {
	info, err := h.Campaign.LatestSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := h.Campaign.LoadSnapshot(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	findings := campaign.Sweep(campaign.NewIndex(snap), h.now(), o)
	covered := campaign.Covered(findings)
	id, err := sweeps.SaveSweep(ctx, info.ID, len(findings), covered)
	if err != nil {
		return nil, err
	}
	v := blocks.Sweep{Counts: map[string]int{}, Entitlements: len(covered), ButtonValue: "s:" + strconv.FormatInt(id, 10) + ":-:1"}
	for _, f := range findings {
		v.Counts[f.Kind]++
		if len(v.Examples) < 10 {
			who := f.Email
			if who == "" {
				who = f.Label
			}
			v.Examples = append(v.Examples, fmt.Sprintf("%s — %s: %s", f.Kind, who, f.Detail))
		}
	}
	raw, err := json.Marshal(blocks.SweepBlocks(v))
	if err != nil {
		return nil, err
	}
	var csvBuf bytes.Buffer
	if err := campaign.WriteFindingsCSV(&csvBuf, findings); err != nil {
		return nil, err
	}
	ref := "sweep:" + strconv.FormatInt(id, 10)
	_, err = h.Store.Enqueue(ctx,
		slackrec.OutboxItem{Key: "post:" + ref, Kind: slackrec.KindPost, Target: h.Settings.ApprovalsChannel, Ref: ref,
			Payload: slackrec.Payload{Text: blocks.Fallback(fmt.Sprintf("Stale-access sweep: %d findings", len(findings))), Blocks: raw}},
		slackrec.OutboxItem{Key: "upload:" + ref, Kind: slackrec.KindUpload, Target: h.Settings.ApprovalsChannel, ThreadRef: ref,
			Payload: slackrec.Payload{FileName: fmt.Sprintf("attest-sweep-%d.csv", id), Title: "Stale-access findings", File: csvBuf.Bytes()}})
	return findings, err
}

// sweepAction launches the review of a sweep's findings (IAM admins).
func (h *Handler) sweepAction(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, actor campaign.Actor) error {
	sweeps, ok := h.Store.(SweepStore)
	if !ok {
		return fmt.Errorf("sweeps are not kept: %w", campaign.ErrInvalid)
	}
	if ok, err := h.IsAdmin(ctx, cb.User.ID); err != nil || !ok {
		return fmt.Errorf("only IAM admins may start reviews: %w", campaign.ErrForbidden)
	}
	_, id, _, _, ok := parseButton(act.Value)
	if !ok {
		return fmt.Errorf("this button is not one of attest's sweeps: %w", campaign.ErrInvalid)
	}
	covered, launched, err := sweeps.Sweep(ctx, id)
	if err != nil {
		return err
	}
	if launched != 0 {
		return fmt.Errorf("campaign %d already reviews this sweep: %w", launched, campaign.ErrConflict)
	}
	c, err := h.Engine.LaunchSweep(ctx, covered, actor, nil)
	if err != nil {
		return err
	}
	if _, err := sweeps.ClaimSweepReview(ctx, id, c.ID); err != nil {
		return err
	}
	h.postStatus(ctx, c)
	ref := "sweep:" + strconv.FormatInt(id, 10)
	return h.updateMessage(ctx, h.Settings.ApprovalsChannel, ref, "launched", "Stale-access sweep: review launched",
		blocks.SweepBlocks(blocks.Sweep{Counts: map[string]int{}, Entitlements: len(covered),
			Launched: fmt.Sprintf("Review launched by %s: campaign %d (%d cases).", actor.String(), c.ID, len(covered))}))
}
