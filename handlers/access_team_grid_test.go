package handlers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
)

// gridOrg is a fake Grid org: attest added to TeamID and SecondTeamID,
// not to T0FAKE3; Alice in both workspaces (one W id), Bob in the second,
// Carol only in the third; the IAM user group holds Alice.
func gridOrg(t *testing.T) *slacktest.Server {
	t.Helper()
	s := slacktest.New(slacktest.WithGrid(
		slacktest.Workspace{ID: slacktest.TeamID, Domain: slacktest.TeamDomain, Name: "One"},
		slacktest.Workspace{ID: slacktest.SecondTeamID, Domain: slacktest.SecondTeamDomain, Name: "Two"},
		slacktest.Workspace{ID: "T0FAKE3", Domain: "fake-three", Name: "Three", NotAdded: true}))
	t.Cleanup(s.Close)
	s.AddUser(slacktest.User{ID: "WALICE", Name: "alice", Email: "alice@example.com", Teams: []string{slacktest.TeamID, slacktest.SecondTeamID}})
	s.AddUser(slacktest.User{ID: "WBOB", Name: "bob", Email: "bob@example.com", Teams: []string{slacktest.SecondTeamID}})
	s.AddUser(slacktest.User{ID: "WCAROL", Name: "carol", Email: "carol@example.com", Teams: []string{"T0FAKE3"}})
	s.AddUserGroup("S0IAM", "iam", "WALICE")
	return s
}

// usersListTeams is the team_id of every users.list call, in order.
func usersListTeams(s *slacktest.Server) []string {
	var out []string
	for _, c := range s.Calls("users.list") {
		out = append(out, c.Form.Get("team_id"))
	}
	return out
}

// On an org-wide install the map reads users.list once per workspace
// attest is in, with its team_id (from auth.teams.list, or slack.team_ids
// without asking), maps a user of two workspaces once, and leaves out
// someone only in a workspace attest is not in.
func TestGridUserMap(t *testing.T) {
	tests := []struct {
		name      string
		grid      Grid
		teams     []string // users.list's team_id, in order
		listCalls int      // auth.teams.list calls
		mapped    []string
	}{
		{"workspaces from auth.teams.list", Grid{EnterpriseID: slacktest.EnterpriseID}, []string{slacktest.TeamID, slacktest.SecondTeamID}, 1,
			[]string{"WALICE", "WBOB"}},
		{"workspaces from slack.team_ids", Grid{EnterpriseID: slacktest.EnterpriseID, TeamIDs: []string{slacktest.SecondTeamID}},
			[]string{slacktest.SecondTeamID}, 0, []string{"WALICE", "WBOB"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := gridOrg(t)
			st := &mapStore{}
			h := &Handler{Store: st, Campaign: &snapshotOnly{users: []campaign.User{active("00uA", "alice", "alice@example.com"),
				active("00uB", "bob", "bob@example.com"), active("00uC", "carol", "carol@example.com")}},
				API: s.Client(), Log: zerolog.Nop(), Settings: Settings{Grid: tc.grid}}
			n, unmapped, err := h.RefreshUsers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := usersListTeams(s); !slices.Equal(got, tc.teams) {
				t.Errorf("users.list teams %q, want %q", got, tc.teams)
			}
			if got := len(s.Calls("auth.teams.list")); got != tc.listCalls {
				t.Errorf("auth.teams.list called %d times, want %d", got, tc.listCalls)
			}
			var ids []string
			for _, u := range st.all {
				ids = append(ids, u.SlackID)
			}
			slices.Sort(ids)
			if n != len(tc.mapped) || !slices.Equal(ids, tc.mapped) {
				t.Errorf("mapped %d: %q, want %q (a user of two workspaces once)", n, ids, tc.mapped)
			}
			// Carol is only in a workspace attest is not in: users.lookupByEmail
			// finds her org-wide, but she would never see attest there, so she
			// is listed as unmapped, saying why (her cases go to her manager).
			if !slices.Equal(unmapped, []string{"carol@example.com (in no Slack workspace attest is added to)"}) {
				t.Errorf("unmapped %q", unmapped)
			}
		})
	}
}

// On a standalone workspace users.list is called as before: no team_id,
// no auth.teams.list.
func TestWorkspaceUserMapUnchanged(t *testing.T) {
	s := slacktest.New()
	t.Cleanup(s.Close)
	s.AddUser(slacktest.User{ID: "UALICE", Name: "alice", Email: "alice@example.com"})
	st := &mapStore{}
	h := &Handler{Store: st, Campaign: &snapshotOnly{users: []campaign.User{active("00uA", "alice", "alice@example.com")}},
		API: s.Client(), Log: zerolog.Nop()}
	if n, _, err := h.RefreshUsers(context.Background()); err != nil || n != 1 {
		t.Fatalf("RefreshUsers = %d, %v", n, err)
	}
	if got := usersListTeams(s); !slices.Equal(got, []string{""}) || len(s.Calls("auth.teams.list")) != 0 {
		t.Fatalf("users.list teams %q, auth.teams.list %d calls", got, len(s.Calls("auth.teams.list")))
	}
}

// gridClock is a settable clock for Access.Now.
type gridClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *gridClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *gridClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Requests on an org-wide install: from any workspace attest is in, or
// naming the org itself, accepted and recorded under that workspace; from
// another org, from a workspace attest is not in (or slack.team_ids
// leaves out), refused; a workspace the app was just added to is found by
// reading auth.teams.list again.
func TestGridCheckTeam(t *testing.T) {
	s := gridOrg(t)
	clock := &gridClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	a := &Access{Users: &fakeUsers{}, Groups: s.Client(), Grid: Grid{EnterpriseID: slacktest.EnterpriseID}, Log: zerolog.Nop(), Now: clock.Now}
	configured := &Access{Users: &fakeUsers{}, Groups: s.Client(), Log: zerolog.Nop(),
		Grid: Grid{EnterpriseID: slacktest.EnterpriseID, TeamIDs: []string{slacktest.TeamID}}}
	ctx := context.Background()
	tests := []struct {
		name             string
		access           *Access
		team, enterprise string
		want             string // "" = refused
	}{
		{"first workspace", a, slacktest.TeamID, slacktest.EnterpriseID, slacktest.TeamID},
		{"second workspace", a, slacktest.SecondTeamID, slacktest.EnterpriseID, slacktest.SecondTeamID},
		{"second workspace, no enterprise in the payload (App Home)", a, slacktest.SecondTeamID, "", slacktest.SecondTeamID},
		{"the org as the team (user.team_id on Grid)", a, slacktest.EnterpriseID, "", slacktest.EnterpriseID},
		{"no team, the org", a, "", slacktest.EnterpriseID, slacktest.EnterpriseID},
		{"another org", a, slacktest.SecondTeamID, "E0ELSEWHERE", ""},
		{"a workspace of another org", a, "T0ELSEWHERE", "E0ELSEWHERE", ""},
		{"a workspace attest is not added to", a, "T0FAKE3", slacktest.EnterpriseID, ""},
		{"nothing named", a, "", "", ""},
		{"slack.team_ids leaves the second workspace out", configured, slacktest.SecondTeamID, slacktest.EnterpriseID, ""},
		{"slack.team_ids names the first", configured, slacktest.TeamID, slacktest.EnterpriseID, slacktest.TeamID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.access.CheckTeam(ctx, tc.team, tc.enterprise)
			if tc.want == "" {
				if err == nil || campaign.ErrorCode(err) != campaign.EForbidden || !strings.Contains(campaign.ErrorMessage(err), "not installed in") {
					t.Fatalf("CheckTeam = %q, %v; want a refusal", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CheckTeam = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if n := len(s.Calls("auth.teams.list")); n != 1 {
		t.Fatalf("auth.teams.list read %d times within a minute, want once", n)
	}

	// An org admin adds attest to the third workspace: a minute on, a
	// request from it makes attest read the list again and is accepted.
	s.SetAdded("T0FAKE3", true)
	clock.Advance(relistEvery + time.Second)
	if got, err := a.CheckTeam(ctx, "T0FAKE3", slacktest.EnterpriseID); err != nil || got != "T0FAKE3" {
		t.Fatalf("after the app was added: %q, %v", got, err)
	}
	if _, err := configured.CheckTeam(ctx, "T0FAKE3", slacktest.EnterpriseID); err == nil {
		t.Fatal("slack.team_ids is the whole list, yet another workspace was accepted")
	}
}

// slack.enterprise_id naming another org than the token's: every request
// is refused saying the configuration is wrong, and the user map fails
// naming the key, before any users.list.
func TestGridWrongOrg(t *testing.T) {
	s := gridOrg(t)
	h := &Handler{Store: &mapStore{}, Campaign: &snapshotOnly{users: []campaign.User{active("00uA", "alice", "alice@example.com")}},
		API: s.Client(), Log: zerolog.Nop(), Settings: Settings{Grid: Grid{EnterpriseID: "E0ELSEWHERE"}}}
	_, _, err := h.RefreshUsers(context.Background())
	if err == nil || !strings.Contains(err.Error(), "slack.enterprise_id is E0ELSEWHERE") || !strings.Contains(err.Error(), slacktest.EnterpriseID) {
		t.Fatalf("RefreshUsers = %v", err)
	}
	if n := len(s.Calls("users.list")); n != 0 {
		t.Fatalf("users.list called %d times", n)
	}
	_, err = h.Inbound().Access.CheckTeam(context.Background(), slacktest.TeamID, slacktest.EnterpriseID)
	if campaign.ErrorCode(err) != campaign.EForbidden || !strings.Contains(campaign.ErrorMessage(err), "slack.enterprise_id") {
		t.Fatalf("CheckTeam = %v", err)
	}
}

// User group reads carry a workspace's team_id on an org-wide install
// (the org token needs one), so a user group admin is recognised.
func TestGridUserGroupAdmin(t *testing.T) {
	s := gridOrg(t)
	a := &Access{Users: &fakeUsers{}, Groups: s.Client(), Grid: Grid{EnterpriseID: slacktest.EnterpriseID}, Log: zerolog.Nop(),
		Admins: []string{"S0IAM"}}
	ok, err := a.IsAdmin(context.Background(), "WALICE")
	if err != nil || !ok {
		t.Fatalf("IsAdmin = %v, %v", ok, err)
	}
	calls := s.Calls("usergroups.users.list")
	if len(calls) != 1 || calls[0].Form.Get("team_id") != slacktest.TeamID {
		t.Fatalf("usergroups.users.list calls %+v", calls)
	}
}

// When the org's workspaces cannot be read (auth.teams.list fails), a
// user group check is not sent without a team_id (the org token would be
// refused, and the admin told they are not one): it could not be made,
// and says so.
func TestGridUserGroupBeforeWorkspaces(t *testing.T) {
	s := gridOrg(t)
	s.FailHTTP("auth.teams.list", 503, 1)
	a := &Access{Users: &fakeUsers{}, Groups: s.Client(), Grid: Grid{EnterpriseID: slacktest.EnterpriseID}, Log: zerolog.Nop(),
		Admins: []string{"S0IAM"}}
	ok, err := a.IsAdmin(context.Background(), "WALICE")
	if ok || !errors.Is(err, errCheckFailed) {
		t.Fatalf("IsAdmin = %v, %v; want the check to fail as not made", ok, err)
	}
	if n := len(s.Calls("usergroups.users.list")); n != 0 {
		t.Fatalf("usergroups.users.list called %d times without a team", n)
	}
	// Slack answers again: the next check lists the workspaces and passes.
	if ok, err := a.IsAdmin(context.Background(), "WALICE"); !ok || err != nil {
		t.Fatalf("IsAdmin after recovery = %v, %v", ok, err)
	}
}
