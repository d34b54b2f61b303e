package handlers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"

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
