package handlers

// Which workspace (and, on Enterprise Grid, which org) attest is installed
// in, from auth.test, read once and kept: an interaction from another team
// is refused, and the team recorded as evidence is this verified one, never
// the payload's. An org-wide install (Access.Grid, slack.enterprise_id) is
// checked against the org's workspaces instead (access_team_grid.go).

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
)

// AuthTester asks Slack who the bot token belongs to (auth.test: team_id,
// enterprise_id on Enterprise Grid, user_id, bot_id). A GroupMembers that
// also implements it (slack.Client does) is used when Access.Auth is nil.
type AuthTester interface {
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
}

// Installed is the workspace and org the bot token was verified for.
type Installed struct {
	TeamID, EnterpriseID, BotUserID string
}

// errOtherTeam refuses an interaction from a team attest is not installed in.
var errOtherTeam = campaign.Errorf(campaign.EForbidden,
	"This request came from a Slack workspace attest is not installed in, so it was refused.")

// installed returns the verified identity, calling auth.test the first
// time (and again after a failure). ok is false when no AuthTester is
// available at all (a test double without one): then no team is checked.
func (a *Access) installed(ctx context.Context) (in Installed, ok bool, err error) {
	a.team.mu.Lock()
	defer a.team.mu.Unlock()
	if a.team.known {
		return a.team.in, true, nil
	}
	auth := a.Auth
	if auth == nil {
		auth, _ = a.Groups.(AuthTester)
	}
	if auth == nil {
		return Installed{}, false, nil
	}
	r, err := auth.AuthTestContext(ctx)
	if err != nil {
		return Installed{}, true, fmt.Errorf("slack auth.test: %w", err)
	}
	if err := a.Grid.matches(r); err != nil {
		a.Log.Error().Str("enterprise", r.EnterpriseID).Str("team", r.TeamID).Str("configured_enterprise", a.Grid.EnterpriseID).
			Msg("the bot token is not installed on the org slack.enterprise_id names; every request is refused until the configuration is fixed")
		return Installed{}, true, err
	}
	a.team.in = Installed{TeamID: r.TeamID, EnterpriseID: r.EnterpriseID, BotUserID: r.UserID}
	a.team.known = true
	a.Log.Info().Str("team", r.TeamID).Str("enterprise", r.EnterpriseID).Str("bot_user", r.UserID).
		Msg("Slack installation verified (auth.test)")
	return a.team.in, true, nil
}

// Verify reads auth.test now, so the installed team is known before the
// first interaction; it returns Slack's error.
func (a *Access) Verify(ctx context.Context) (Installed, error) {
	in, _, err := a.installed(ctx)
	return in, err
}

// installedTeam and enterprise are the verified ids, "" while unknown.
func (a *Access) installedTeam() string {
	a.team.mu.Lock()
	defer a.team.mu.Unlock()
	return a.team.in.TeamID
}

func (a *Access) enterprise() string {
	a.team.mu.Lock()
	defer a.team.mu.Unlock()
	return a.team.in.EnterpriseID
}

// CheckTeam refuses an interaction whose team is not the installed
// workspace or, on Enterprise Grid (auth.test returned an enterprise id),
// whose enterprise is not the installed org; there a click's team may be
// another workspace of the same org. enterpriseID "" means the caller
// did not say (Actor, as the App Home calls it): on Grid the team alone
// cannot be judged then and is accepted. It returns the verified team to
// record as evidence, errOtherTeam, or a transient error when auth.test
// could not be read.
func (a *Access) CheckTeam(ctx context.Context, teamID, enterpriseID string) (string, error) {
	in, ok, err := a.installed(ctx)
	switch {
	case !ok:
		return teamID, nil
	case err != nil && campaign.ErrorCode(err) == campaign.EForbidden:
		return "", err // slack.enterprise_id names another org
	case err != nil:
		return "", checkFailed(err)
	case a.Grid.OrgWide():
		return a.checkOrg(ctx, teamID, enterpriseID)
	case in.EnterpriseID != "" && enterpriseID != "":
		if enterpriseID != in.EnterpriseID {
			return "", errOtherTeam
		}
	case in.EnterpriseID != "":
		// a Grid payload without its enterprise: the org cannot be judged here
	case teamID != in.TeamID:
		return "", errOtherTeam
	}
	return orElse(in.TeamID, in.EnterpriseID), nil // an org-wide install may report no team
}
