package bot_test

import (
	"slices"
	"testing"

	"github.com/attestbot/attest/internal/slacktest"
)

// attestCalls is every Web API method attest calls with the bot token,
// with the kinds of conversation it calls it on and who calls it. Keep it
// in step with the code: a method missing here is still enforced by the
// fake Slack in every test that calls it.
var attestCalls = []struct {
	method string
	kinds  []string
	by     string
}{
	{"chat.postMessage", []string{"public", "private", "im"}, "bot.Sender (outbox posts), bot.Bot (failure DMs)"},
	{"chat.update", []string{"public", "private", "im"}, "bot.Sender (form and approval updates)"},
	{"chat.postEphemeral", []string{"public", "private", "im"}, "bot.Sender (replies to clicks), bot.Bot (failures)"},
	{"files.getUploadURLExternal", nil, "bot.Sender (CSV uploads)"},
	{"files.completeUploadExternal", []string{"public", "private"}, "bot.Sender (CSV uploads)"},
	{"conversations.open", []string{"im"}, "bot.Sender.Recover (a DM not cached yet)"},
	{"conversations.history", []string{"public", "private", "im"}, "bot.Sender.Recover (was it posted before the crash?)"},
	{"views.open", nil, "handlers (launch and delegate modals)"},
	{"views.update", nil, "handlers (launch preview), bot.Bot (late modal verdicts)"},
	{"views.publish", nil, "handlers (App Home)"},
	{"users.list", nil, "handlers.RefreshUsers (Okta-Slack map by email)"},
	{"users.lookupByEmail", nil, "handlers (one user's Slack account)"},
	{"usergroups.users.list", nil, "handlers (admins and approvers named by user group)"},
	{"usergroups.list", nil, "handlers (@handles of user groups in the admin and approver lists)"},
	{"auth.test", nil, "handlers.RefreshUsers (the installed team, checked against clicks)"},
	{"auth.teams.list", nil, "handlers (the workspaces of an org-wide Enterprise Grid install)"},
}

// The manifests that ship (Socket Mode and HTTP) grant a scope for every
// method attest calls, on every kind of conversation it calls it on (the
// restart recovery's history reads included), and nothing attest does not
// use.
func TestShippedManifestGrantsEveryMethod(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) { manifestGrantsEveryMethod(t, loadManifest(t, tr)) })
	}
}

func manifestGrantsEveryMethod(t *testing.T, m slacktest.Manifest) {
	used := map[string]bool{"commands": true} // the slash command
	for _, c := range attestCalls {
		kinds := c.kinds
		if len(kinds) == 0 {
			kinds = []string{""}
		}
		for _, kind := range kinds {
			needed := slacktest.MethodScopes(c.method, kind)
			for _, sc := range needed {
				used[sc] = true
			}
			if len(needed) > 0 && !slices.ContainsFunc(needed, func(sc string) bool { return slices.Contains(m.BotScopes, sc) }) {
				t.Errorf("%s on a %s conversation (%s) needs one of %v; the manifest grants %v", c.method, kind, c.by, needed, m.BotScopes)
			}
		}
	}
	for _, sc := range m.BotScopes {
		if !used[sc] {
			t.Errorf("the manifest grants %s, which no call of attest needs", sc)
		}
	}
}
