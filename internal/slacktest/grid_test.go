package slacktest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// startGrid is a Grid org with two workspaces the app was added to, a
// third it was not added to, and users in one or both.
func startGrid(t *testing.T) (*Server, *slack.Client) {
	t.Helper()
	s := New(WithGrid(Workspace{ID: TeamID, Domain: TeamDomain, Name: "One"}, Workspace{ID: SecondTeamID, Domain: SecondTeamDomain, Name: "Two"},
		Workspace{ID: "T0FAKE3", Domain: "fake-three", Name: "Three", NotAdded: true}))
	t.Cleanup(s.Close)
	s.AddUser(User{ID: "W1", Name: "alice", Email: "alice@example.com", Teams: []string{TeamID, SecondTeamID}})
	s.AddUser(User{ID: "W2", Name: "bob", Email: "bob@example.com", Teams: []string{SecondTeamID}})
	s.AddUser(User{ID: "W3", Name: "carol", Email: "carol@example.com", Teams: []string{"T0FAKE3"}})
	s.AddUserGroup("S1", "iam", "W1")
	return s, s.Client()
}

// The org token: auth.test names the org, auth.teams.list the workspaces
// the app was added to (in pages), as Slack documents org-ready apps.
func TestGridAuth(t *testing.T) {
	s, api := startGrid(t)
	c := ctx(t)
	r, err := api.AuthTestContext(c)
	if err != nil || r.EnterpriseID != EnterpriseID || r.UserID != BotUserID {
		t.Fatalf("auth.test = %+v, %v", r, err)
	}
	teams, next, err := api.ListTeamsContext(c, slack.ListTeamsParameters{Limit: 1})
	if err != nil || len(teams) != 1 || teams[0].ID != TeamID || next == "" {
		t.Fatalf("first page = %+v, %q, %v", teams, next, err)
	}
	teams, next, err = api.ListTeamsContext(c, slack.ListTeamsParameters{Limit: 1, Cursor: next})
	if err != nil || len(teams) != 1 || teams[0].ID != SecondTeamID || next != "" {
		t.Fatalf("second page = %+v, %q, %v (the workspace the app was not added to must not be listed)", teams, next, err)
	}
	s.SetAdded("T0FAKE3", true)
	if teams, _, _ := api.ListTeamsContext(c, slack.ListTeamsParameters{}); len(teams) != 3 {
		t.Fatalf("after adding the app to a workspace: %+v", teams)
	}
	// A standalone workspace lists itself.
	_, one := start(t)
	if teams, _, err := one.ListTeamsContext(c, slack.ListTeamsParameters{}); err != nil || len(teams) != 1 || teams[0].ID != TeamID {
		t.Fatalf("standalone = %+v, %v", teams, err)
	}
}

// users.list with an org token needs team_id and lists that workspace's
// members; a user of two workspaces is in both lists with one id.
func TestGridUsersList(t *testing.T) {
	s, api := startGrid(t)
	c := ctx(t)
	ids := func(team string) ([]string, error) {
		var opts []slack.GetUsersOption
		if team != "" {
			opts = append(opts, slack.GetUsersOptionTeamID(team))
		}
		users, err := api.GetUsersContext(c, opts...)
		var out []string
		for _, u := range users {
			if !u.IsBot && u.ID != SlackbotID {
				out = append(out, u.ID)
				if u.Enterprise.EnterpriseID != EnterpriseID || !slices.Contains(u.Enterprise.Teams, team) {
					t.Errorf("%s: enterprise_user %+v", u.ID, u.Enterprise)
				}
			}
		}
		return out, err
	}
	tests := []struct {
		team    string
		want    []string
		wantErr string
	}{
		{TeamID, []string{"W1"}, ""},
		{SecondTeamID, []string{"W1", "W2"}, ""},
		{"", nil, "missing_argument"},
		{"T0FAKE3", nil, "team_access_not_granted"},
		{"T0ELSEWHERE", nil, "team_access_not_granted"},
	}
	for _, tc := range tests {
		got, err := ids(tc.team)
		if slackErr(t, err) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("users.list team %q = %v, %v; want %v, %q", tc.team, got, err, tc.want, tc.wantErr)
		}
	}
	calls := s.Calls("users.list")
	if len(calls) != len(tests) || calls[1].Form.Get("team_id") != SecondTeamID {
		t.Fatalf("recorded %d calls", len(calls))
	}
	if _, err := api.GetUserGroupMembersContext(c, "S1"); slackErr(t, err) != "missing_argument" {
		t.Errorf("usergroups.users.list without team_id: %v", err)
	}
	if m, err := api.GetUserGroupMembersContext(c, "S1", slack.GetUserGroupMembersOptionTeamID(TeamID)); err != nil || !slices.Equal(m, []string{"W1"}) {
		t.Errorf("usergroups.users.list = %v, %v", m, err)
	}
	// DMs work org-wide, without a team.
	if _, _, _, err := api.OpenConversationContext(c, &slack.OpenConversationParameters{Users: []string{"W2"}}); err != nil {
		t.Errorf("conversations.open: %v", err)
	}
}

// Payloads carry the org as Slack sends them on Grid: the workspace of
// the click in team.id with enterprise_id, the enterprise, user.team_id
// reporting the org, is_enterprise_install; slash commands and events
// their enterprise fields.
func TestGridPayloads(t *testing.T) {
	s, api := startGrid(t)
	c := ctx(t)
	_, ts, err := api.PostMessageContext(c, "W1", slack.MsgOptionBlocks(slack.NewActionBlock("b", slack.NewButtonBlockElement("go", "v", plain("Go")))))
	if err != nil {
		t.Fatal(err)
	}
	dm, _ := s.DMChannel("W1")
	p, err := s.BlockActions(User{ID: "W1", Name: "alice", TeamID: SecondTeamID}, dm, ts, []Action{{ActionID: "go"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	b, _ := json.Marshal(p)
	if err := json.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Team.ID != SecondTeamID || cb.Team.Domain != SecondTeamDomain || cb.Enterprise.ID != EnterpriseID ||
		!cb.IsEnterpriseInstall || cb.User.TeamID != EnterpriseID {
		t.Fatalf("block_actions: team %+v, enterprise %+v, install %v, user %+v", cb.Team, cb.Enterprise, cb.IsEnterpriseInstall, cb.User)
	}
	ForeignOrg(p, "E0ELSE", "T0ELSE")
	b, _ = json.Marshal(p)
	_ = json.Unmarshal(b, &cb)
	if cb.Team.ID != "T0ELSE" || cb.Enterprise.ID != "E0ELSE" {
		t.Fatalf("foreign: %+v %+v", cb.Team, cb.Enterprise)
	}

	s.SendSlashCommand(SlashCommand{Command: "/x", UserID: "W2", TeamID: SecondTeamID})
	s.SendEventIn(SecondTeamID, map[string]any{"type": "app_home_opened", "user": "W2", "tab": "home"})
	envs := s.Envelopes()
	var cmd map[string]string
	_ = json.Unmarshal(envs[0].Payload, &cmd)
	if cmd["team_id"] != SecondTeamID || cmd["team_domain"] != SecondTeamDomain || cmd["enterprise_id"] != EnterpriseID ||
		cmd["enterprise_name"] != EnterpriseName || cmd["is_enterprise_install"] != "true" {
		t.Fatalf("slash command fields %v", cmd)
	}
	var ev slackevents.EventsAPICallbackEvent
	if err := json.Unmarshal(envs[1].Payload, &ev); err != nil {
		t.Fatal(err)
	}
	var auths struct {
		Authorizations []struct {
			EnterpriseID        string `json:"enterprise_id"`
			TeamID              string `json:"team_id"`
			IsEnterpriseInstall bool   `json:"is_enterprise_install"`
		} `json:"authorizations"`
	}
	_ = json.Unmarshal(envs[1].Payload, &auths)
	if ev.TeamID != SecondTeamID || ev.EnterpriseID != EnterpriseID || len(auths.Authorizations) != 1 ||
		!auths.Authorizations[0].IsEnterpriseInstall || auths.Authorizations[0].EnterpriseID != EnterpriseID {
		t.Fatalf("event wrapper %+v, authorizations %+v", ev, auths)
	}
}
