package handlers

// Enterprise Grid, org-wide install (slack.enterprise_id). The bot token
// is the org's: it reaches every workspace an org admin added the app
// to, which auth.teams.list lists (or slack.team_ids names). users.list
// and the user group methods need a team_id with it; DMs and posts do
// not. A request is accepted from any of those workspaces, or from the
// org itself, and refused from another org or from a workspace attest
// was not added to; the workspace recorded as evidence is the one the
// request came from, once it is checked to be one of the org's.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
)

// Grid is an org-wide install on an Enterprise Grid org; the zero value
// is an install on one workspace.
type Grid struct {
	// EnterpriseID is the org (E…): slack.enterprise_id.
	EnterpriseID string
	// TeamIDs are the workspaces attest works in (slack.team_ids); nil:
	// every workspace the app was added to, read with auth.teams.list.
	TeamIDs []string
}

// OrgWide reports whether the install is org-wide.
func (g Grid) OrgWide() bool { return g.EnterpriseID != "" }

// TeamLister lists the workspaces a token reaches (auth.teams.list); a
// GroupMembers that implements it (slack.Client does) is used when
// Access.Teams is nil.
type TeamLister interface {
	ListTeamsContext(ctx context.Context, params slack.ListTeamsParameters) ([]slack.Team, string, error)
}

// relistEvery bounds how often a request from a workspace not yet known
// makes attest read auth.teams.list again (an org admin may just have
// added the app there).
const relistEvery = time.Minute

// errNotAdded refuses a request from a workspace the org-wide app is not
// added to (or that slack.team_ids leaves out).
var errNotAdded = campaign.Errorf(campaign.EForbidden,
	"This request came from a Slack workspace attest is not installed in, so it was refused; "+
		"an org admin can add attest to this workspace from the org's admin dashboard.")

// msgWrongOrg is what people read while slack.enterprise_id names another
// org than the bot token's.
const msgWrongOrg = "attest is configured for another Slack Enterprise Grid org than the one it is installed in, " +
	"so it refused this request; the IAM team must correct slack.enterprise_id."

// errOrgUnlisted is a user group read on an org-wide install before the
// org's workspaces could be read: without a team_id the org token would be
// refused, so the read is not made and counts as a passing failure.
var errOrgUnlisted = errors.New("the workspaces of the Enterprise Grid org could not be read yet (auth.teams.list), so no team_id can be sent")

// orgWorkspaces is what auth.teams.list last said.
type orgWorkspaces struct {
	mu   sync.Mutex
	ids  []string
	read time.Time // zero: never read
}

// matches checks auth.test's answer against slack.enterprise_id: a
// forbidden *campaign.Error naming both orgs when they differ.
func (g Grid) matches(r *slack.AuthTestResponse) error {
	if !g.OrgWide() || r.EnterpriseID == g.EnterpriseID {
		return nil
	}
	got := r.EnterpriseID
	if got == "" {
		got = "no Enterprise Grid org (team " + r.TeamID + ")"
	}
	return &campaign.Error{Code: campaign.EForbidden, Message: msgWrongOrg,
		Err: fmt.Errorf("slack.enterprise_id is %s but the bot token is installed on %s (auth.test); "+
			"set slack.enterprise_id to the org the app is installed on, or remove it for an install on one workspace",
			g.EnterpriseID, got)}
}

// workspaces returns the workspaces attest works in: slack.team_ids, else
// auth.teams.list, read on first use and again when refresh is set. It
// fails when Slack cannot be asked, or when the app was added to no
// workspace yet (it never answers there until an org admin does).
func (a *Access) workspaces(ctx context.Context, refresh bool) ([]string, error) {
	if len(a.Grid.TeamIDs) > 0 {
		return a.Grid.TeamIDs, nil
	}
	a.org.mu.Lock()
	ids, read := a.org.ids, a.org.read
	a.org.mu.Unlock()
	if !read.IsZero() && !refresh {
		return ids, nil
	}
	lister := a.Teams
	if lister == nil {
		lister, _ = a.Groups.(TeamLister)
	}
	if lister == nil {
		return nil, fmt.Errorf("this Slack client cannot list the org's workspaces (auth.teams.list); set slack.team_ids")
	}
	var list []string
	cursor := ""
	for {
		teams, next, err := lister.ListTeamsContext(ctx, slack.ListTeamsParameters{Limit: 200, Cursor: cursor})
		if err != nil {
			return ids, fmt.Errorf("slack auth.teams.list: %w", err)
		}
		for _, t := range teams {
			if !slices.Contains(list, t.ID) {
				list = append(list, t.ID)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("the org-wide app is added to no workspace of %s yet (auth.teams.list is empty): "+
			"an org admin adds it to workspaces from the org's admin dashboard (Integrations > Installed apps > attest > Add to more workspaces)",
			a.Grid.EnterpriseID)
	}
	a.org.mu.Lock()
	changed := !slices.Equal(a.org.ids, list)
	a.org.ids, a.org.read = list, a.now()
	a.org.mu.Unlock()
	if changed {
		a.Log.Info().Str("enterprise", a.Grid.EnterpriseID).Strs("workspaces", list).Msg("Enterprise Grid workspaces attest is added to (auth.teams.list)")
	}
	return list, nil
}

// listedLongAgo reports whether auth.teams.list was last read more than
// relistEvery ago.
func (a *Access) listedLongAgo() bool {
	a.org.mu.Lock()
	defer a.org.mu.Unlock()
	return a.now().Sub(a.org.read) > relistEvery
}

// checkOrg is CheckTeam on an org-wide install. A request naming another
// org is refused; one naming the org itself (no workspace, or the org id
// as its team, as Grid reports user.team_id) is accepted; one from a
// workspace is accepted when attest works there, after reading
// auth.teams.list again if the workspace is new to it. It returns the
// workspace (or org) to record.
func (a *Access) checkOrg(ctx context.Context, teamID, enterpriseID string) (string, error) {
	org := a.Grid.EnterpriseID
	log := a.Log.Warn().Str("team", teamID).Str("enterprise", enterpriseID).Str("installed_enterprise", org)
	switch {
	case enterpriseID != "" && enterpriseID != org:
		log.Msg("a request from another Enterprise Grid org refused; nothing was changed")
		return "", errOtherTeam
	case teamID == org, teamID == "" && enterpriseID == org:
		return org, nil
	case teamID == "":
		log.Msg("a request naming neither a workspace nor the org refused; nothing was changed")
		return "", errOtherTeam
	}
	ws, err := a.workspaces(ctx, false)
	if err != nil {
		return "", checkFailed(err)
	}
	if !slices.Contains(ws, teamID) && len(a.Grid.TeamIDs) == 0 && a.listedLongAgo() {
		if fresh, err := a.workspaces(ctx, true); err == nil {
			ws = fresh
		}
	}
	if !slices.Contains(ws, teamID) {
		log.Strs("workspaces", ws).Msg("a request from a workspace attest is not added to refused; nothing was changed")
		return "", errNotAdded
	}
	return teamID, nil
}

// mapTeams returns the workspaces the user map reads users.list in: nil
// on one workspace (users.list takes no team_id there); on an org-wide
// install the org's workspaces, read afresh, after auth.test confirmed
// the org.
func (a *Access) mapTeams(ctx context.Context) ([]string, error) {
	if !a.Grid.OrgWide() {
		return nil, nil
	}
	if _, _, err := a.installed(ctx); err != nil {
		return nil, err
	}
	return a.workspaces(ctx, true)
}

// groupTeam is the team_id of user group reads: on an org-wide install
// the first of the org's workspaces (slack.team_ids' first, else
// auth.teams.list's), else the installed team ("" while unknown).
func (a *Access) groupTeam() string {
	if !a.Grid.OrgWide() {
		return a.installedTeam()
	}
	if len(a.Grid.TeamIDs) > 0 {
		return a.Grid.TeamIDs[0]
	}
	a.org.mu.Lock()
	defer a.org.mu.Unlock()
	if len(a.org.ids) > 0 {
		return a.org.ids[0]
	}
	return ""
}

// knowTeams reads what user group reads need before the first of them:
// auth.test, and on an org-wide install the org's workspaces. Failures
// show where they matter (CheckTeam, the group read).
func (a *Access) knowTeams(ctx context.Context) {
	if _, _, err := a.installed(ctx); err != nil || !a.Grid.OrgWide() {
		return
	}
	_, _ = a.workspaces(ctx, false)
}

// reachable reports whether attest works in a workspace u belongs to:
// always on one workspace; on an org-wide install, whether one of u's
// workspaces (enterprise_user.teams, team_id) is one of the org's
// workspaces last read. users.lookupByEmail finds anyone in the org, also
// people only in workspaces attest is not in, who would never see it.
func (a *Access) reachable(u slack.User) bool {
	if !a.Grid.OrgWide() {
		return true
	}
	ws := a.Grid.TeamIDs
	if len(ws) == 0 {
		a.org.mu.Lock()
		ws = a.org.ids
		a.org.mu.Unlock()
	}
	return slices.ContainsFunc(append([]string{u.TeamID}, u.Enterprise.Teams...), func(t string) bool { return slices.Contains(ws, t) })
}
