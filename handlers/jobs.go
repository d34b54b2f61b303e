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

// RefreshUsers maps every active Okta user of the latest snapshot to a
// Slack user by email: users.list in pages first, users.lookupByEmail for
// the rest. A Slack user must resolve to exactly one Okta user, so when
// several Okta users match one Slack account (a shared email, or one's
// login being another's email) none of them is mapped: each is listed as
// unmapped with the reason, their cases go to their managers as any
// unmapped user's do, and the Slack user is refused as ambiguous rather
// than guessed. It returns the Okta users that could not be mapped, for
// the IAM team, or the store's or Slack's error. Its first success opens
// the gate interactions wait on (MarkMapped).
func (h *Handler) RefreshUsers(ctx context.Context) (mapped int, unmapped []string, err error) {
	h.build()
	info, err := h.Campaign.LatestSnapshot(ctx)
	if err != nil {
		return 0, nil, err
	}
	snap, err := h.Campaign.LoadSnapshot(ctx, info.ID)
	if err != nil {
		return 0, nil, err
	}
	dir, err := h.slackDirectory(ctx)
	if err != nil {
		return 0, nil, err
	}
	lookups := 0
	bySlack := map[string][]slackrec.User{} // Slack id -> the Okta users matching it
	var order []string
	for _, u := range snap.Users {
		if u.Inactive() {
			continue
		}
		su, found, why := dir.match(u)
		if !found && why == "" && u.Email != "" && lookups < maxLookups {
			lookups++
			if x, err := h.API.GetUserByEmailContext(ctx, u.Email); err == nil && x != nil && !x.Deleted {
				su, found = *x, true
				if !h.access.reachable(su) {
					found, why = false, " (in no Slack workspace attest is added to)"
				}
			}
		}
		if !found {
			unmapped = append(unmapped, firstOf(u.Email, u.Login)+why)
			continue
		}
		if len(bySlack[su.ID]) == 0 {
			order = append(order, su.ID)
		}
		bySlack[su.ID] = append(bySlack[su.ID], slackrec.User{OktaUserID: u.ID, Email: firstOf(u.Email, u.Login), SlackID: su.ID, TeamID: su.TeamID})
	}
	out := make([]slackrec.User, 0, len(order))
	ambiguous := map[string]bool{}
	for _, id := range order {
		users := bySlack[id]
		if len(users) == 1 {
			out = append(out, users[0])
			continue
		}
		ambiguous[id] = true
		for _, u := range users {
			unmapped = append(unmapped, fmt.Sprintf("%s (%d active Okta users match the same Slack account; none is mapped)", u.Email, len(users)))
		}
		h.Log.Warn().Str("slack_user", id).Int("okta_users", len(users)).
			Msg("several Okta users match one Slack account; none is mapped and the Slack user is refused until the email is unique")
	}
	sort.Strings(unmapped)
	if err := h.Store.ReplaceSlackUsers(ctx, out); err != nil {
		return 0, unmapped, err
	}
	if _, err := h.access.Verify(ctx); err != nil { // the installed team, known before the first click
		h.Log.Warn().Err(err).Msg("slack auth.test failed; the installed team is read again at the next interaction")
	}
	h.access.SetAmbiguous(ambiguous)
	h.access.SetUserHandles(dir.byName)
	h.warnUnlinkedListed(out)
	h.access.MarkMapped()
	return len(out), unmapped, nil
}

// AwaitUserMap makes interactions that arrive before the first successful
// RefreshUsers wait for it (bounded by Access.MapWait), instead of telling
// an admin their account is not linked; serve calls it at start.
func (h *Handler) AwaitUserMap() {
	h.build()
	h.access.AwaitMap()
}

// MarkMapped opens the gate AwaitUserMap set, as RefreshUsers does on its
// first success (for a caller that knows the map exists).
func (h *Handler) MarkMapped() {
	h.build()
	h.access.MarkMapped()
}

// slackUsers is the workspace's people from users.list: by lower-cased
// email (with the emails two accounts carry) and by user name.
type slackUsers struct {
	byEmail map[string]slack.User
	shared  map[string]bool
	byName  map[string]string
	seen    map[string]bool // user ids read
}

// slackDirectory reads users.list in pages: once on one workspace; on an
// Enterprise Grid org-wide install once per workspace of the org with its
// team_id, a user of several workspaces counted once (Grid user ids are
// the org's).
func (h *Handler) slackDirectory(ctx context.Context) (*slackUsers, error) {
	d := &slackUsers{byEmail: map[string]slack.User{}, shared: map[string]bool{}, byName: map[string]string{}, seen: map[string]bool{}}
	teams, err := h.access.mapTeams(ctx)
	if err != nil {
		return nil, fmt.Errorf("map Slack users: %w", err)
	}
	if teams == nil {
		return d, d.read(ctx, h.API.GetUsersPaginated(slack.GetUsersOptionLimit(200)), "")
	}
	for _, team := range teams {
		if err := d.read(ctx, h.API.GetUsersPaginated(slack.GetUsersOptionLimit(200), slack.GetUsersOptionTeamID(team)), team); err != nil {
			return nil, err
		}
	}
	h.Log.Info().Int("workspaces", len(teams)).Int("slack_users", len(d.seen)).Msg("Slack users read from the org's workspaces")
	return d, nil
}

// read adds the users of every page of p (users.list in team, "" for the
// token's workspace).
func (d *slackUsers) read(ctx context.Context, p slack.UserPagination, team string) error {
	var err error
	for {
		if p, err = p.Next(ctx); err != nil {
			if p.Done(err) {
				return nil
			}
			if team != "" {
				return fmt.Errorf("slack users.list (team %s): %w", team, err)
			}
			return fmt.Errorf("slack users.list: %w", err)
		}
		for _, u := range p.Users {
			if u.Deleted || u.IsBot || d.seen[u.ID] {
				continue
			}
			d.seen[u.ID] = true
			if u.Name != "" {
				d.byName[strings.ToLower(u.Name)] = u.ID
			}
			if u.Profile.Email == "" {
				continue
			}
			e := strings.ToLower(u.Profile.Email)
			if old, ok := d.byEmail[e]; ok && old.ID != u.ID {
				d.shared[e] = true
			}
			d.byEmail[e] = u
		}
	}
}

// match finds an Okta user's Slack account by email, then login; why
// (" (reason)") says why an account found is not used.
func (d *slackUsers) match(u campaign.User) (slack.User, bool, string) {
	for _, e := range []string{u.Email, u.Login} {
		k := strings.ToLower(e)
		if e == "" {
			continue
		}
		if d.shared[k] {
			return slack.User{}, false, " (several Slack accounts carry this email; none is mapped)"
		}
		if x, ok := d.byEmail[k]; ok {
			return x, true, ""
		}
	}
	return slack.User{}, false, ""
}

// warnUnlinkedListed logs each admin or approver listed by user id whose
// Slack account maps to no Okta user: attest acts on Okta identities, so
// everything they send would be refused.
func (h *Handler) warnUnlinkedListed(mapped []slackrec.User) {
	linked := make(map[string]bool, len(mapped))
	for _, u := range mapped {
		linked[u.SlackID] = true
	}
	for _, x := range append(append([]string{}, h.Settings.Admins...), h.Settings.Approvers...) {
		x = strings.TrimSpace(x)
		if isSlackID(x) && x[0] != 'S' && !linked[x] {
			h.Log.Error().Str("slack_user", x).Msg("a configured Slack admin or approver matches no Okta user by email; " +
				"attest acts on Okta identities, so every command they send is refused")
		}
	}
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
