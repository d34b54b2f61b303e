package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackdrive"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/internal/storetest"
)

// thirdTeam is a workspace of the Grid org attest was not added to.
const thirdTeam = "T0FAKE3"

// newGridRig is the rig on an Enterprise Grid org with attest installed
// org-wide (slack.enterprise_id, workspaces from auth.teams.list): the
// org's people are spread over two workspaces, every third one in both,
// with org-wide W ids; a third workspace of the org has not added the app.
// The fake Slack reaches the bot over tr.
func newGridRig(t testing.TB, tr transport) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 60, Apps: 16, Groups: 16})
	st := storetest.WithOrg(t, org)
	manifest := loadManifest(t, tr)
	srv := slacktest.New(slacktest.WithManifest(manifest), slacktest.WithGrid(
		slacktest.Workspace{ID: slacktest.TeamID, Domain: slacktest.TeamDomain, Name: "One"},
		slacktest.Workspace{ID: slacktest.SecondTeamID, Domain: slacktest.SecondTeamDomain, Name: "Two"},
		slacktest.Workspace{ID: thirdTeam, Domain: "fake-three", Name: "Three", NotAdded: true}))
	srv.AddChannel(approvals, "iam-approvals")
	r := &rig{t: t, ctx: ctx, slack: srv, st: st, org: org, clock: &clock{now: org.Now}, slackOf: map[string]slacktest.User{}}
	st.Now = r.clock.Now
	for i, u := range org.Users {
		teams := [][]string{{slacktest.TeamID}, {slacktest.SecondTeamID}, {slacktest.TeamID, slacktest.SecondTeamID}}[i%3]
		su := slacktest.User{ID: fmt.Sprintf("W%05d", i), Name: strings.Split(u.Login, "@")[0], RealName: u.DisplayName(), Email: u.Email, Teams: teams}
		srv.AddUser(su)
		r.slackOf[u.ID] = su
	}
	r.admin, r.approver = r.slackOf[org.Users[1].ID], r.slackOf[org.Users[2].ID]
	def := fmt.Sprintf(rigDefinition, org.Users[1].Email)
	parsed, err := campaign.ParseDefinition("q.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	api := slack.New(slacktest.BotToken, slack.OptionAppLevelToken(slacktest.AppToken), slack.OptionAPIURL(srv.APIURL()))
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	r.eng = &campaign.Engine{Store: st, Now: r.clock.Now}
	r.h = &handlers.Handler{Engine: r.eng, Store: st, Campaign: st, API: api, Log: log, Now: r.clock.Now, Life: ctx,
		Settings: handlers.Settings{Command: "/access-review", ApprovalsChannel: approvals,
			Admins: []string{r.admin.ID}, Approvers: []string{r.approver.ID, r.admin.ID}, SignInWindowDays: 90,
			Grid: handlers.Grid{EnterpriseID: slacktest.EnterpriseID},
			Definitions: func() ([]campaign.DefinitionFile, error) {
				return []campaign.DefinitionFile{{Path: "campaigns/quarterly.yaml", YAML: def, Def: parsed}}, nil
			}}}
	r.eng.Notifier = r.h
	r.eng.OnNotifyError = func(n campaign.Notification, err error) { t.Errorf("notification %s to %s: %v", n.Kind, n.To, err) }
	r.eng.IsAdmin, r.eng.IsApprover = r.h.EngineChecks()
	if _, unmapped, err := r.h.RefreshUsers(ctx); err != nil || len(unmapped) > 0 && len(unmapped) == len(org.Users) {
		t.Fatalf("map users: %v (unmapped %v)", err, unmapped)
	}
	r.bot = &bot.Bot{API: api, Handler: r.h, Handled: st, Log: log}
	closeApp := serveBot(t, r.bot, srv, tr, manifest)
	sender := &bot.Sender{API: api, Store: st, Log: log, Rate: 500, PerChannel: time.Millisecond}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = r.bot.Run(ctx) }()
	go func() { defer wg.Done(); _ = sender.Run(ctx) }()
	t.Cleanup(func() { r.h.Wait(); cancel(); wg.Wait(); srv.Close(); closeApp() })
	if tr == socketMode {
		r.eventually("socket mode connects", func() bool { return r.bot.Connected() })
	}
	return r
}

// in returns u as seen from workspace team (the click's team.id).
func in(u slacktest.User, team string) slacktest.User {
	u.TeamID = team
	return u
}

// On an org-wide Grid install: the user map reads users.list once per
// workspace with its team_id (never the workspace attest is not in); the
// admin launches from the second workspace; a member's click from the
// second workspace decides their case although the form was sent from
// the first (the DM is the org's), recorded under the workspace the click
// came from; a click from another org, and one from a workspace attest
// was not added to, are refused and change nothing; the App Home opened
// in the second workspace is published. Over Socket Mode and over HTTP.
func TestGridClicksAcrossWorkspaces(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) { gridClicksAcrossWorkspaces(t, tr) })
	}
}

func gridClicksAcrossWorkspaces(t *testing.T, tr transport) {
	r := newGridRig(t, tr)
	var teams []string
	for _, c := range r.slack.Calls("users.list") {
		teams = append(teams, c.Form.Get("team_id"))
	}
	if slices.Sort(teams); !slices.Equal(slices.Compact(teams), []string{slacktest.TeamID, slacktest.SecondTeamID}) {
		t.Fatalf("users.list called for teams %q, want each of the org's workspaces attest is in", teams)
	}

	id := r.slack.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "start quarterly", UserID: r.admin.ID,
		UserName: r.admin.Name, ChannelID: approvals, TeamID: slacktest.SecondTeamID})
	if _, ok := r.slack.WaitAck(id, patience); !ok {
		t.Fatal("no ack for the launch")
	}
	r.eventually("campaign launched from the second workspace", func() bool {
		cs, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
		return len(cs) > 0
	})
	cases, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	members := map[string]bool{}
	var order []string
	for _, c := range cases {
		if !members[c.UserID] && c.UserID != r.org.Users[1].ID {
			members[c.UserID] = true
			order = append(order, c.UserID)
		}
	}
	if len(order) < 3 {
		t.Fatalf("%d members", len(order))
	}
	m, foreign, stranger := order[0], order[1], order[2]
	for _, who := range order[:3] {
		r.eventually("member form delivered", func() bool { return len(r.dm(who)) > 0 })
	}

	// Refused: another org, and a workspace of this org attest is not in.
	for _, tc := range []struct {
		who  string
		edit func(p map[string]any)
		user slacktest.User
	}{
		{foreign, func(p map[string]any) { slacktest.ForeignOrg(p, "E0ELSEWHERE", "T0ELSEWHERE") }, r.slackOf[foreign]},
		{stranger, func(map[string]any) {}, in(r.slackOf[stranger], thirdTeam)},
	} {
		form := r.dm(tc.who)[0]
		ids := slackdrive.CaseBlocks(form)
		p, err := r.slack.BlockActions(tc.user, form.Channel, form.TS, []slacktest.Action{{ActionID: "member_submit"}},
			map[string]map[string]slacktest.StateValue{ids[0]: {"decision": {Type: "radio_buttons", SelectedOption: &slacktest.SelectOption{Text: "revoke", Value: "revoke"}}}})
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(p)
		if _, ok := r.slack.WaitAck(r.slack.SendInteraction(p), patience); !ok {
			t.Fatal("no ack")
		}
		r.eventually("refusal shown to "+tc.user.ID, func() bool {
			return slices.ContainsFunc(r.ephemeralTo(tc.user.ID), func(s string) bool { return strings.Contains(s, "not installed in") })
		})
		if got, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: tc.who}); slices.ContainsFunc(got, func(c campaign.CaseRecord) bool { return c.MemberDecision != "" }) {
			t.Fatalf("a refused click was recorded: %+v", got)
		}
	}

	// Accepted: m answers from the second workspace.
	form := r.dm(m)[0]
	choices := map[string]string{}
	for _, id := range slackdrive.CaseBlocks(form) {
		choices[id] = "keep"
	}
	r.click(in(r.slackOf[m], slacktest.SecondTeamID), form, "member_submit", choices)
	r.eventually("m's answers recorded", func() bool {
		got, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: m})
		return !slices.ContainsFunc(got, func(c campaign.CaseRecord) bool { return c.MemberDecision != "keep" })
	})
	r.eventually("m's form replaced by the answers", func() bool {
		msgs := r.dm(m)
		return len(msgs) > 0 && msgs[0].Edited > 0 && strings.Contains(string(msgs[0].Blocks), "Edit answers")
	})
	events, err := r.st.Events(r.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	answered := 0
	for _, e := range events {
		if e.Actor.SlackUserID == r.slackOf[m].ID && e.CaseID != 0 {
			answered++
			if e.Actor.SlackTeamID != slacktest.SecondTeamID {
				t.Errorf("event %s recorded team %q, want the workspace of the click", e.Type, e.Actor.SlackTeamID)
			}
		}
	}
	if answered == 0 {
		t.Fatal("no answer event recorded for m")
	}
	for _, e := range events {
		if e.Type == "campaign.launched" && e.Actor.SlackTeamID != slacktest.SecondTeamID {
			t.Errorf("launch recorded team %q", e.Actor.SlackTeamID)
		}
	}

	// The App Home opened in the second workspace (an event naming the org
	// and its org-wide authorization) is published: the admin's, with the
	// running campaign's controls.
	homes := func() (n int) {
		for _, v := range r.slack.Views() {
			if v.Method == "views.publish" && v.UserID == r.admin.ID && strings.Contains(string(v.JSON), "Close campaign") {
				n++
			}
		}
		return n
	}
	before := homes()
	r.slack.SendEventIn(slacktest.SecondTeamID, map[string]any{"type": "app_home_opened", "user": r.admin.ID, "tab": "home"})
	r.eventually("the admin's App Home published", func() bool { return homes() > before })
}
