package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// rawCall posts a form to a Web API method with the bot token and
// returns the decoded answer.
func rawCall(t *testing.T, s *Server, method string, form url.Values) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.APIURL()+method, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+BotToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s answered %s", method, raw)
	}
	return out
}

func TestScopesRefuseWhatTheTokenLacks(t *testing.T) {
	s, api := start(t, WithScopes("chat:write", "im:write"))
	s.AddPrivateChannel("G1", "iam-private")
	c := ctx(t)
	if _, _, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("chat:write granted, post refused: %v", err)
	}
	if _, _, _, err := api.OpenConversationContext(c, &slack.OpenConversationParameters{Users: []string{"U1"}}); err != nil {
		t.Fatalf("im:write granted, conversations.open refused: %v", err)
	}
	dm, _ := s.DMChannel("U1")
	tests := []struct {
		name, method string
		form         url.Values
		needed       string
	}{
		{"users.list", "users.list", url.Values{}, "users:read"},
		{"users.info", "users.info", url.Values{"user": {"U1"}}, "users:read"},
		{"lookup by email", "users.lookupByEmail", url.Values{"email": {"alice@example.com"}}, "users:read.email"},
		{"user group members", "usergroups.users.list", url.Values{"usergroup": {"S1"}}, "usergroups:read"},
		{"history of a DM", "conversations.history", url.Values{"channel": {dm}}, "im:history"},
		{"history of a public channel", "conversations.history", url.Values{"channel": {"C1"}}, "channels:history"},
		{"history of a private channel", "conversations.history", url.Values{"channel": {"G1"}}, "groups:history"},
		{"upload", "files.getUploadURLExternal", url.Values{"filename": {"a.csv"}, "length": {"3"}}, "files:write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawCall(t, s, tt.method, tt.form)
			if got["ok"] != false || got["error"] != "missing_scope" || got["needed"] != tt.needed || got["provided"] != "chat:write,im:write" {
				t.Fatalf("%s = %v; want missing_scope needing %s, providing chat:write,im:write", tt.method, got, tt.needed)
			}
		})
	}
	// Views need no scope.
	if got := rawCall(t, s, "views.publish", url.Values{"user_id": {"U1"}, "view": {`{"type":"home","blocks":[]}`}}); got["ok"] != true {
		t.Fatalf("views.publish = %v", got)
	}
	// slack-go surfaces the refusal as a Slack error.
	if _, err := api.GetUsersContext(c); slackErr(t, err) != "missing_scope" {
		t.Fatalf("users.list through slack-go: %v", err)
	}
}

// Without users:read.email, users.list and users.info hide emails, as
// Slack does: attest maps Okta users to Slack users by email.
func TestEmailsNeedTheirScope(t *testing.T) {
	for _, tt := range []struct {
		scopes []string
		want   string
	}{{[]string{"users:read"}, ""}, {[]string{"users:read", "users:read.email"}, "alice@example.com"}} {
		_, api := start(t, WithScopes(tt.scopes...))
		u, err := api.GetUserInfoContext(ctx(t), "U1")
		if err != nil {
			t.Fatal(err)
		}
		users, err := api.GetUsersContext(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(users, func(x slack.User) bool { return x.ID == "U1" })
		if u.Profile.Email != tt.want || users[i].Profile.Email != tt.want {
			t.Errorf("with %v: email %q (info) and %q (list), want %q", tt.scopes, u.Profile.Email, users[i].Profile.Email, tt.want)
		}
	}
}

func TestDefaultGrantsEveryKnownScope(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	if _, err := api.GetUsersContext(c); err != nil {
		t.Fatal(err)
	}
	if _, err := api.GetConversationHistoryContext(c, &slack.GetConversationHistoryParameters{ChannelID: "C1"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Counts()["users.list"]; got != 1 {
		t.Fatalf("users.list calls = %d", got)
	}
}

// The manifests that ship (Socket Mode, and HTTP with request URLs) are
// what a real workspace grants: they load, their settings are the ones
// attest needs, and they grant the same scopes and events.
func TestShippedManifest(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy")
	if _, err := os.Stat(filepath.Join(dir, "slack-app-manifest.yaml")); err != nil {
		t.Skip("no shipped manifest here")
	}
	var socket Manifest
	for _, tc := range []struct {
		file string
		http bool
	}{{"slack-app-manifest.yaml", false}, {"slack-app-manifest-http.yaml", true}} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := LoadManifest(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.SocketMode == tc.http || !m.Interactivity || !m.HomeTab || !m.MessagesTab {
				t.Fatalf("manifest settings = %+v; attest needs socket mode %v, interactivity, the Home and Messages tabs", m, !tc.http)
			}
			// attest never reads what people write to it: the Messages tab only
			// shows its messages.
			if !m.MessagesTabReadOnly || slices.Contains(m.BotEvents, "message.im") {
				t.Fatalf("messages tab read-only = %v, events %v; want read-only without message.im", m.MessagesTabReadOnly, m.BotEvents)
			}
			if !slices.Contains(m.Commands, "/access-review") {
				t.Fatalf("commands = %v", m.Commands)
			}
			// Org-ready, so an Enterprise Grid org can install it org-wide; this
			// changes nothing on a standalone workspace.
			if !m.OrgDeploy {
				t.Errorf("settings.org_deploy_enabled is false; attest must be org-ready for Enterprise Grid")
			}
			for _, sc := range m.BotScopes {
				if !slices.Contains(KnownScopes(), sc) && sc != "commands" {
					t.Errorf("manifest grants %q, which no method attest calls needs", sc)
				}
			}
			if !tc.http {
				socket = m
				if len(m.CommandURLs) > 0 || m.InteractivityURL != "" || m.EventsURL != "" {
					t.Errorf("the Socket Mode manifest sets request URLs: %+v", m)
				}
				return
			}
			// Slack calls request URLs over public HTTPS only.
			for what, u := range map[string]string{"slash command url": m.CommandURLs["/access-review"],
				"interactivity request_url": m.InteractivityURL, "event_subscriptions request_url": m.EventsURL} {
				if !strings.HasPrefix(u, "https://") {
					t.Errorf("%s = %q, want an https:// URL", what, u)
				}
			}
			if !slices.Equal(m.BotScopes, socket.BotScopes) || !slices.Equal(m.BotEvents, socket.BotEvents) || !slices.Equal(m.Commands, socket.Commands) {
				t.Errorf("the HTTP manifest grants %v, events %v, commands %v; the Socket Mode one %v, %v, %v",
					m.BotScopes, m.BotEvents, m.Commands, socket.BotScopes, socket.BotEvents, socket.Commands)
			}
		})
	}
}

func TestManifestWithoutMessagesTabRefusesDMs(t *testing.T) {
	_, api := start(t, WithManifest(Manifest{BotScopes: []string{"chat:write"}}))
	if _, _, err := api.PostMessageContext(ctx(t), "U1", slack.MsgOptionText("hi", false)); slackErr(t, err) != "messages_tab_disabled" {
		t.Fatalf("post to a DM with the Messages tab off: %v", err)
	}
}
