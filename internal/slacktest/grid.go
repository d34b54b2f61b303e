package slacktest

// Enterprise Grid: with WithGrid the fake is an org (EnterpriseID) with
// several workspaces, and the app is installed org-wide, as Slack
// documents org-ready apps:
//
//   - the bot token is an org token: auth.test names the org
//     (enterprise_id, is_enterprise_install: true) and auth.teams.list
//     the workspaces the app was added to;
//   - users.list, usergroups.list and usergroups.users.list need team_id
//     ("required if org token is used": missing_argument without it) and
//     answer team_access_not_granted for a workspace the app was not
//     added to; users.list lists that workspace's members, and a user in
//     two workspaces appears in both with the same id;
//   - DMs and posts (conversations.open, chat.postMessage) work org-wide;
//   - payloads carry the org: block_actions and view payloads "team"
//     with enterprise_id/enterprise_name, "enterprise", "user.team_id"
//     reporting the org id, "is_enterprise_install": true; slash commands
//     enterprise_id/enterprise_name; events enterprise_id and
//     authorizations with is_enterprise_install.

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// The fake Grid org and its second workspace (WithGrid without
// workspaces: TeamID and SecondTeamID).
const (
	EnterpriseID     = "E0FAKEORG"
	EnterpriseName   = "Fake Org"
	EnterpriseDomain = "fake-org"
	SecondTeamID     = "T0FAKE2"
	SecondTeamDomain = "fake-two"
)

// Workspace is one workspace of the Grid org.
type Workspace struct {
	ID, Domain, Name string
	// NotAdded is a workspace of the org the app was not added to:
	// auth.teams.list omits it and calls naming it are refused.
	NotAdded bool
}

// WithGrid makes the fake an Enterprise Grid org with the app installed
// org-wide, over the given workspaces (default: TeamID and SecondTeamID,
// both with the app added). Users belong to the workspaces in User.Teams.
func WithGrid(workspaces ...Workspace) Option {
	return func(c *config) {
		if len(workspaces) == 0 {
			workspaces = []Workspace{{ID: TeamID, Domain: TeamDomain, Name: "Fake Workspace"},
				{ID: SecondTeamID, Domain: SecondTeamDomain, Name: "Fake Workspace Two"}}
		}
		c.grid = slices.Clone(workspaces)
	}
}

// Grid reports whether the fake is an Enterprise Grid org (WithGrid).
func (s *Server) Grid() bool { return s.cfg.grid != nil }

// SetAdded adds the app to an org workspace (added true) or removes it,
// as an org admin does in the admin dashboard.
func (s *Server) SetAdded(teamID string, added bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.st.workspaces {
		if w.ID == teamID {
			s.st.workspaces[i].NotAdded = !added
		}
	}
}

// workspace finds an org workspace by id.
func (st *state) workspace(id string) (Workspace, bool) {
	i := slices.IndexFunc(st.workspaces, func(w Workspace) bool { return w.ID == id })
	if i < 0 {
		return Workspace{}, false
	}
	return st.workspaces[i], true
}

// gridTeam checks the team_id an org token must send: it returns the
// workspace, or the error Slack answers.
func (s *Server) gridTeam(r *request) (string, *apiError) {
	id := r.str("team_id")
	if id == "" {
		return "", fail("missing_argument", "[ERROR] team_id is required when an org token is used")
	}
	if w, ok := s.st.workspace(id); !ok || w.NotAdded {
		return "", fail("team_access_not_granted")
	}
	return id, nil
}

// userTeams are the workspaces a user belongs to: Teams, else TeamID.
func userTeams(u User) []string {
	if len(u.Teams) > 0 {
		return u.Teams
	}
	return []string{u.TeamID}
}

// inTeam reports whether u is listed in workspace team; Slackbot and the
// bot user are in every workspace.
func inTeam(u User, team string) bool {
	if u.ID == SlackbotID || u.ID == BotUserID {
		return true
	}
	return slices.Contains(userTeams(u), team)
}

// enterpriseUser is the enterprise_user object Grid adds to a user.
func enterpriseUser(u User) map[string]any {
	return map[string]any{"id": u.ID, "enterprise_id": EnterpriseID, "enterprise_name": EnterpriseName,
		"is_admin": false, "is_owner": false, "is_primary_owner": false, "teams": userTeams(u)}
}

// authTeamsList answers auth.teams.list: the workspaces the token can
// reach (on Grid, those the org-wide app was added to), in pages.
func (s *Server) authTeamsList(r *request) (map[string]any, *apiError) {
	var all []Workspace
	if s.Grid() {
		for _, w := range s.st.workspaces {
			if !w.NotAdded {
				all = append(all, w)
			}
		}
	} else {
		all = []Workspace{{ID: TeamID, Domain: TeamDomain, Name: "Fake Workspace"}}
	}
	limit, _ := strconv.Atoi(r.str("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start := 0
	if c := r.str("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		id, ok := strings.CutPrefix(string(raw), "team:")
		start = slices.IndexFunc(all, func(w Workspace) bool { return w.ID == id })
		if err != nil || !ok || start < 0 {
			return nil, fail("invalid_cursor")
		}
	}
	end := min(start+limit, len(all))
	teams := make([]map[string]any, 0, end-start)
	for _, w := range all[start:end] {
		teams = append(teams, map[string]any{"id": w.ID, "name": w.Name})
	}
	next := ""
	if end < len(all) {
		next = base64.StdEncoding.EncodeToString([]byte("team:" + all[end].ID))
	}
	return map[string]any{"teams": teams, "response_metadata": map[string]any{"next_cursor": next}}, nil
}

// gridAuthTest is auth.test for the org token: the org as the team.
func (s *Server) gridAuthTest() map[string]any {
	return map[string]any{
		"url": "https://" + EnterpriseDomain + ".enterprise.slack.com/", "team": EnterpriseName, "user": "attest",
		"team_id": EnterpriseID, "enterprise_id": EnterpriseID, "user_id": BotUserID, "bot_id": BotID,
		"is_enterprise_install": true,
	}
}

// teamRef is a payload's "team" object for a click in workspace team.
func (s *Server) teamRef(team string) map[string]any {
	if !s.Grid() {
		return map[string]any{"id": TeamID, "domain": TeamDomain}
	}
	domain := ""
	if w, ok := s.st.workspace(team); ok {
		domain = w.Domain
	}
	return map[string]any{"id": team, "domain": domain, "enterprise_id": EnterpriseID, "enterprise_name": EnterpriseName}
}

// orgFields sets the Grid fields of an interaction payload: the team of
// the user's workspace, the enterprise, is_enterprise_install, and
// user.team_id, which on Grid reports the org id.
func (s *Server) orgFields(out map[string]any, user User) {
	team := user.TeamID
	if team == "" {
		team = TeamID
	}
	out["team"] = s.teamRef(team)
	if !s.Grid() {
		out["enterprise"], out["is_enterprise_install"] = nil, false
		return
	}
	out["enterprise"] = map[string]any{"id": EnterpriseID, "name": EnterpriseName}
	out["is_enterprise_install"] = true
	if u, ok := out["user"].(map[string]any); ok {
		u["team_id"] = EnterpriseID
	}
}

// ForeignOrg rewrites an interaction payload (BlockActions,
// ViewSubmission) as if it came from workspace team of another Grid org
// enterprise: a request attest must refuse.
func ForeignOrg(payload map[string]any, enterprise, team string) {
	payload["team"] = map[string]any{"id": team, "domain": "elsewhere", "enterprise_id": enterprise, "enterprise_name": "Elsewhere"}
	payload["enterprise"] = map[string]any{"id": enterprise, "name": "Elsewhere"}
	payload["is_enterprise_install"] = true
	if u, ok := payload["user"].(map[string]any); ok {
		u["team_id"] = enterprise
	}
}
