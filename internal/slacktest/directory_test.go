package slacktest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/slack-go/slack"
)

func TestUsersListPaging(t *testing.T) {
	s, api := start(t)
	for i := range 5 {
		s.AddUser(User{ID: fmt.Sprintf("U1%02d", i), Name: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("u%d@example.com", i)})
	}
	s.AddUser(User{ID: "U900", Name: "gone", Deleted: true})
	s.AddUser(User{ID: "U901", Name: "helper-bot", IsBot: true})
	c := ctx(t)

	tests := []struct {
		name      string
		opts      []Option
		limit     int
		wantCalls int
		wantUsers int
	}{
		// Slackbot, the bot user, alice, bob, 5 users, a deleted user and a bot.
		{"pages of 3", nil, 3, 4, 11},
		{"one page", nil, 200, 1, 11},
		{"without built-in users", []Option{WithoutBuiltinUsers()}, 4, 3, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, api := s, api
			if tt.opts != nil {
				srv, api = start(t, tt.opts...)
				for i := range 5 {
					srv.AddUser(User{ID: fmt.Sprintf("U1%02d", i), Name: fmt.Sprintf("user%d", i)})
				}
				srv.AddUser(User{ID: "U900", Name: "gone", Deleted: true})
				srv.AddUser(User{ID: "U901", Name: "helper-bot", IsBot: true})
			}
			before := len(srv.Calls("users.list"))
			users, err := api.GetUsersContext(c, slack.GetUsersOptionLimit(tt.limit))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(srv.Calls("users.list")) - before; got != tt.wantCalls {
				t.Errorf("%d users.list calls, want %d", got, tt.wantCalls)
			}
			if len(users) != tt.wantUsers {
				t.Fatalf("%d users, want %d", len(users), tt.wantUsers)
			}
			deleted := slices.IndexFunc(users, func(u slack.User) bool { return u.ID == "U900" })
			bot := slices.IndexFunc(users, func(u slack.User) bool { return u.ID == "U901" })
			if deleted < 0 || !users[deleted].Deleted || bot < 0 || !users[bot].IsBot {
				t.Errorf("deleted users and bots must be listed: %v %v", deleted, bot)
			}
		})
	}

	t.Run("a bad cursor", func(t *testing.T) {
		_, err := api.GetUsersPaginated(slack.GetUsersOptionCursor("bm9wZQ==")).Next(c)
		if got := slackErr(t, err); got != "invalid_cursor" {
			t.Errorf("error %q", got)
		}
	})
}

func TestUserLookups(t *testing.T) {
	_, api := start(t)
	c := ctx(t)
	tests := []struct {
		name    string
		call    func() (*slack.User, error)
		wantID  string
		wantErr string
	}{
		{"by email", func() (*slack.User, error) { return api.GetUserByEmailContext(c, "alice@example.com") }, "U1", ""},
		{"by email, other case", func() (*slack.User, error) { return api.GetUserByEmailContext(c, "BOB@example.com") }, "U2", ""},
		{"unknown email", func() (*slack.User, error) { return api.GetUserByEmailContext(c, "eve@example.com") }, "", "users_not_found"},
		{"info", func() (*slack.User, error) { return api.GetUserInfoContext(c, "U1") }, "U1", ""},
		{"info of Slackbot", func() (*slack.User, error) { return api.GetUserInfoContext(c, SlackbotID) }, SlackbotID, ""},
		{"info of unknown", func() (*slack.User, error) { return api.GetUserInfoContext(c, "U404") }, "", "user_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.call()
			if got := slackErr(t, err); got != tt.wantErr {
				t.Fatalf("error %q, want %q", got, tt.wantErr)
			}
			if err == nil && u.ID != tt.wantID {
				t.Errorf("user %q, want %q", u.ID, tt.wantID)
			}
		})
	}
	u, _ := api.GetUserInfoContext(c, "U1")
	if u.Profile.Email != "alice@example.com" || u.RealName != "Alice Archer" || u.TeamID != TeamID || u.Profile.FirstName != "Alice" {
		t.Errorf("user: %+v", u)
	}
}

func TestUserGroups(t *testing.T) {
	s, api := start(t)
	s.AddUserGroup("S1", "approvers", "U1", "U2")
	s.AddUserGroup("S2", "auditors")
	c := ctx(t)

	tests := []struct {
		name    string
		group   string
		want    []string
		wantErr string
	}{
		{"members", "S1", []string{"U1", "U2"}, ""},
		{"empty group", "S2", []string{}, ""},
		{"unknown group", "S404", []string{}, "no_such_subteam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := api.GetUserGroupMembersContext(c, tt.group)
			if code := slackErr(t, err); code != tt.wantErr {
				t.Fatalf("error %q, want %q", code, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("members %v, want %v", got, tt.want)
			}
		})
	}
	groups, err := api.GetUserGroupsContext(c, slack.GetUserGroupsOptionIncludeUsers(true))
	if err != nil || len(groups) != 2 || groups[0].Handle != "approvers" || groups[0].UserCount != 2 || len(groups[0].Users) != 2 {
		t.Errorf("groups: %+v %v", groups, err)
	}
	if groups, _ := api.GetUserGroupsContext(c); len(groups) != 2 || groups[0].Users != nil {
		t.Errorf("members listed without include_users: %+v", groups)
	}
}

func TestAuth(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	resp, err := api.AuthTestContext(c)
	if err != nil || resp.UserID != BotUserID || resp.BotID != BotID || resp.TeamID != TeamID {
		t.Fatalf("auth.test: %+v %v", resp, err)
	}
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"wrong token", "xoxb-wrong", "invalid_auth"},
		{"app token on a bot method", AppToken, "not_allowed_token_type"},
		{"no token", "", "not_authed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := slack.New(tt.token, slack.OptionAPIURL(s.APIURL()))
			_, err := bad.AuthTestContext(c)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
		})
	}
	if got := s.Calls("auth.test"); len(got) != 4 || got[1].Token != "xoxb-wrong" || got[1].Error != "invalid_auth" {
		t.Errorf("calls: %+v", got)
	}
}
