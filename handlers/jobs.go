package handlers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// maxLookups bounds users.lookupByEmail calls per refresh: the method is
// Tier 3 (about 50 a minute), so stragglers wait for the next refresh.
const maxLookups = 100

// RefreshUsers maps every Okta user of the latest snapshot to a Slack user
// by email: users.list in pages first, users.lookupByEmail for the rest.
// It returns the Okta users that could not be mapped, for the IAM team,
// or the store's or Slack's error.
func (h *Handler) RefreshUsers(ctx context.Context) (mapped int, unmapped []string, err error) {
	info, err := h.Campaign.LatestSnapshot(ctx)
	if err != nil {
		return 0, nil, err
	}
	snap, err := h.Campaign.LoadSnapshot(ctx, info.ID)
	if err != nil {
		return 0, nil, err
	}
	byEmail := map[string]slack.User{}
	p := h.API.GetUsersPaginated(slack.GetUsersOptionLimit(200))
	for {
		if p, err = p.Next(ctx); err != nil {
			if p.Done(err) {
				break
			}
			return 0, nil, fmt.Errorf("slack users.list: %w", err)
		}
		for _, u := range p.Users {
			if !u.Deleted && !u.IsBot && u.Profile.Email != "" {
				byEmail[strings.ToLower(u.Profile.Email)] = u
			}
		}
	}
	lookups := 0
	var out []slackrec.User
	for _, u := range snap.Users {
		if u.Inactive() {
			continue
		}
		var su slack.User
		found := false
		for _, e := range []string{u.Email, u.Login} {
			if x, ok := byEmail[strings.ToLower(e)]; ok && e != "" {
				su, found = x, true
				break
			}
		}
		if !found && u.Email != "" && lookups < maxLookups {
			lookups++
			if x, err := h.API.GetUserByEmailContext(ctx, u.Email); err == nil && x != nil && !x.Deleted {
				su, found = *x, true
			}
		}
		if !found {
			unmapped = append(unmapped, firstOf(u.Email, u.Login))
			continue
		}
		out = append(out, slackrec.User{OktaUserID: u.ID, Email: firstOf(u.Email, u.Login), SlackID: su.ID, TeamID: su.TeamID})
	}
	sort.Strings(unmapped)
	if err := h.Store.ReplaceSlackUsers(ctx, out); err != nil {
		return 0, unmapped, err
	}
	return len(out), unmapped, nil
}

func firstOf(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

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
