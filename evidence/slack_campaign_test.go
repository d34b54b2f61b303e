package evidence_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slackdrive"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/store"
)

// The whole campaign of issue 12's "Done when", through the fake Slack
// over Socket Mode (the bot, the handlers and the outbox sender as serve
// runs them) and the fake Okta: launched by slash command, reviewer forms
// answered by clicks (one reviewer submits every form the moment it
// arrives; the others take minutes), closed, approved (with the Okta
// Verify step-up), executed against the fake Okta and read back, then
// signed off by the owner in Slack: a click on a message whose evidence
// changed is refused and a fresh message follows; the click on that one
// signs. The exported bundle verifies, a flipped byte fails naming the
// file, and the rubber-stamping flag names the fast reviewer.

const slackDefinition = `name: Quarterly
owner: %s
escalation: {after: 0d}
stages: {self_attestation: {enabled: false}, manager: {duration: 7d}}
`

// slackRig is the Slack side of attest, as the bot package's rig builds
// it, with the executor on the fake Okta and sign-off wired.
type slackRig struct {
	t       *testing.T
	ctx     context.Context
	slack   *slacktest.Server
	okta    *oktatest.Server
	st      *store.Store
	eng     *campaign.Engine
	exec    *campaign.Executor
	h       *handlers.Handler
	clk     *clock
	org     *oktatest.Org
	slackOf map[string]slacktest.User // by Okta id
}

const slackApprovals = "CAPPROVALS"

func newSlackRig(t *testing.T) *slackRig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 60, Apps: 16, Groups: 16})
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"), store.WithAuditKey([]byte(auditKey)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap := org.Snapshot()
	if _, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap)); err != nil {
		t.Fatal(err)
	}
	oktaSrv := oktatest.NewServer(org, oktatest.WithWindow(time.Second))
	t.Cleanup(oktaSrv.Close)
	oc, err := okta.New(ctx, okta.Options{OrgURL: oktaSrv.URL, Token: oktaSrv.Token, Concurrency: 4, MaxRetries: 3, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := slacktest.LoadManifest(filepath.Join("..", "deploy", "slack-app-manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: org.Now}
	// One fake clock for the engine, the store (form deliveries) and the
	// fake Slack (action_ts of every click), so decision times are exact.
	srv := slacktest.New(slacktest.WithManifest(manifest), slacktest.WithClock(clk.Now))
	srv.AddChannel(slackApprovals, "iam-approvals")
	r := &slackRig{t: t, ctx: ctx, slack: srv, okta: oktaSrv, st: st, clk: clk, org: org, slackOf: map[string]slacktest.User{}}
	st.Now = r.clk.Now
	for i, u := range org.Users {
		su := slacktest.User{ID: fmt.Sprintf("U%05d", i), Name: strings.Split(u.Login, "@")[0], RealName: u.DisplayName(), Email: u.Email}
		srv.AddUser(su)
		r.slackOf[u.ID] = su
	}
	admin, approver := r.slackOf[org.Users[1].ID], r.slackOf[org.Users[2].ID]
	def := fmt.Sprintf(slackDefinition, org.Users[1].Email)
	parsed, err := campaign.ParseDefinition("q.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	api := slack.New(slacktest.BotToken, slack.OptionAppLevelToken(slacktest.AppToken), slack.OptionAPIURL(srv.APIURL()))
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	signOffs := &evidence.SignOffs{Store: st, Now: r.clk.Now, Thresholds: evidence.Thresholds{FastDecisionSeconds: 2, FastDecisionsMax: 5}}
	r.eng = &campaign.Engine{Store: st, Now: r.clk.Now, SignOffs: signOffs, Flags: signOffs,
		StepUp: func(ctx context.Context, a campaign.Actor) error {
			return oc.StepUp(ctx, a.UserID, 20*time.Second, 10*time.Millisecond)
		}}
	r.h = &handlers.Handler{Engine: r.eng, Store: st, Campaign: st, API: api, Log: log, Now: r.clk.Now, Life: ctx,
		Settings: handlers.Settings{Command: "/access-review", ApprovalsChannel: slackApprovals,
			Admins: []string{admin.ID}, Approvers: []string{approver.ID}, SignInWindowDays: 90,
			Definitions: func() ([]campaign.DefinitionFile, error) {
				return []campaign.DefinitionFile{{Path: "campaigns/quarterly.yaml", YAML: def, Def: parsed}}, nil
			}}}
	r.eng.Notifier = r.h
	r.eng.OnNotifyError = func(n campaign.Notification, err error) { t.Errorf("notification %s to %s: %v", n.Kind, n.To, err) }
	r.eng.IsAdmin, r.eng.IsApprover = r.h.EngineChecks()
	if _, _, err := r.h.RefreshUsers(ctx); err != nil {
		t.Fatalf("map users: %v", err)
	}
	r.exec = &campaign.Executor{Store: st, Ops: st, Okta: oc, Notifier: r.h, Now: r.clk.Now, Worker: "test:1", Workers: 2}
	b := &bot.Bot{API: api, Handler: r.h, Handled: st, Log: log, Client: socketmode.New(api)}
	sender := &bot.Sender{API: api, Store: st, Log: log, Rate: 500, PerChannel: time.Millisecond}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = b.Run(ctx) }()
	go func() { defer wg.Done(); _ = sender.Run(ctx) }()
	t.Cleanup(func() { r.h.Wait(); cancel(); wg.Wait(); srv.Close() })
	r.eventually("socket mode connects", b.Connected)
	return r
}

// eventually polls cond every 10 ms for up to a minute: a safety net for
// a loaded machine, never a measure of time.
func (r *slackRig) eventually(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slash sends a command and returns its answer: the text of its ack, or,
// when the answer took longer than the ack may wait (a loaded machine),
// the DM that brings it.
func (r *slackRig) slash(user slacktest.User, text string) string {
	r.t.Helper()
	reply, err := slackdrive.Slash(r.slack, slacktest.SlashCommand{Command: "/access-review", Text: text, UserID: user.ID, UserName: user.Name,
		ChannelID: slackApprovals}, time.Minute)
	if err != nil {
		r.t.Fatal(err)
	}
	return reply
}

func (r *slackRig) dm(oktaID string) []slacktest.Message {
	ch, ok := r.slack.DMChannel(r.slackOf[oktaID].ID)
	if !ok {
		return nil
	}
	return r.slack.Messages(ch)
}

// click presses a button of a message, with radio choices by block id.
func (r *slackRig) click(user slacktest.User, m slacktest.Message, actionID string, choices map[string]string) {
	r.t.Helper()
	if err := slackdrive.Click(r.slack, user, m, actionID, choices, time.Minute); err != nil {
		r.t.Fatal(err)
	}
}

// withButton keeps the messages that carry a button with actionID.
func withButton(msgs []slacktest.Message, actionID string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range msgs {
		if strings.Contains(string(m.Blocks), `"action_id":"`+actionID+`"`) {
			out = append(out, m)
		}
	}
	return out
}

// runToSignOff runs the campaign through Slack up to the sign-off message
// DMed to its owner, and returns the rig, the fast reviewer's Okta id and
// that message.
func runToSignOff(t *testing.T) (*slackRig, string, slacktest.Message) {
	r := newSlackRig(t)
	owner, approver := r.org.Users[1], r.org.Users[2]
	r.okta.SetPushAnswer(owner.ID, "SUCCESS")
	r.okta.SetPushAnswer(approver.ID, "SUCCESS")
	if got := r.slash(r.slackOf[owner.ID], "start quarterly"); !strings.Contains(got, "Launched campaign 1") {
		t.Fatalf("start: %q", got)
	}
	cases, err := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	if err != nil || len(cases) == 0 {
		t.Fatalf("cases: %d, %v", len(cases), err)
	}
	// Reviewers and their cases; the one with the most is the fast one.
	byReviewer := map[string]map[string]bool{}
	for _, c := range cases {
		if c.ReviewerID == "" {
			continue // the IAM team's: left to the no-decision rule
		}
		if byReviewer[c.ReviewerID] == nil {
			byReviewer[c.ReviewerID] = map[string]bool{}
		}
		byReviewer[c.ReviewerID][fmt.Sprintf("case:%d", c.ID)] = true
	}
	reviewers := make([]string, 0, len(byReviewer))
	for id := range byReviewer {
		reviewers = append(reviewers, id)
	}
	slices.SortFunc(reviewers, func(a, b string) int {
		if d := len(byReviewer[b]) - len(byReviewer[a]); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	fast := reviewers[0]
	if len(byReviewer[fast]) <= 5 || len(reviewers) < 2 {
		t.Fatalf("the synthetic org's busiest reviewer has %d cases, %d reviewers: too few", len(byReviewer[fast]), len(reviewers))
	}
	// Every reviewer's forms reach Slack.
	forms := map[string][]slacktest.Message{}
	r.eventually("every reviewer form delivered", func() bool {
		for _, rv := range reviewers {
			seen := map[string]bool{}
			var fs []slacktest.Message
			for _, m := range withButton(r.dm(rv), "reviewer_submit") {
				fs = append(fs, m)
				for _, id := range slackdrive.CaseBlocks(m) {
					seen[id] = true
				}
			}
			if len(seen) < len(byReviewer[rv]) {
				return false
			}
			forms[rv] = fs
		}
		return true
	})
	// The fast reviewer keeps everything the moment the forms arrive;
	// the others read for two minutes a form and revoke its first case.
	for _, rv := range reviewers {
		for _, f := range forms[rv] {
			choices := map[string]string{}
			for i, id := range slackdrive.CaseBlocks(f) {
				choices[id] = "keep"
				if rv != fast && i == 0 {
					choices[id] = "revoke"
				}
			}
			if rv != fast {
				r.clk.Advance(2 * time.Minute)
			}
			r.click(r.slackOf[rv], f, "reviewer_submit", choices)
		}
	}
	r.eventually("every reviewer decision recorded", func() bool {
		cs, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
		for _, c := range cs {
			if c.ReviewerID != "" && c.ReviewerDecision == "" {
				return false
			}
		}
		return true
	})

	r.clk.Advance(time.Hour)
	if got := r.slash(r.slackOf[owner.ID], "close 1"); !strings.Contains(got, "is closed") {
		t.Fatalf("close: %q", got)
	}
	r.eventually("plan posted", func() bool { return len(withButton(r.slack.Messages(slackApprovals), "plan_approve")) > 0 })
	// The approvers see the fast reviewer flagged, and only them.
	approval := string(withButton(r.slack.Messages(slackApprovals), "plan_approve")[0].Blocks)
	fastUser, err := r.st.FindUser(r.ctx, 1, fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(approval, "reviewer flag") || !strings.Contains(approval, fastUser.Email+" (stage2): fast decisions") {
		t.Fatalf("the approval message does not flag the fast reviewer %s: %s", fastUser.Email, approval)
	}
	for _, rv := range reviewers[1:] {
		if u, err := r.st.FindUser(r.ctx, 1, rv); err == nil && strings.Contains(approval, u.Email+" (stage2): fast") {
			t.Fatalf("the approval message flags %s, who took minutes a form", u.Email)
		}
	}
	r.clk.Advance(time.Hour)
	r.click(r.slackOf[approver.ID], withButton(r.slack.Messages(slackApprovals), "plan_approve")[0], "plan_approve", nil)
	r.eventually("approved", func() bool { c, _ := r.st.GetCampaign(r.ctx, 1); return c.State == campaign.StateApproved })

	// Execution against the fake Okta, read back; then the owner's DM.
	r.clk.Advance(10 * time.Minute)
	if err := r.exec.Start(r.ctx, 1); err != nil {
		t.Fatal(err)
	}
	sum, err := r.exec.Run(r.ctx, 1)
	if err != nil || !sum.Done || sum.Operations == 0 || sum.ByResult[campaign.ResultRemoved] == 0 {
		t.Fatalf("run: %+v, %v; want removals done", sum, err)
	}
	var signMsg slacktest.Message
	r.eventually("sign-off message DMed to the owner", func() bool {
		ms := withButton(r.dm(owner.ID), "sign_off")
		if len(ms) == 0 {
			return false
		}
		signMsg = ms[0]
		return true
	})
	return r, fast, signMsg
}

func TestWholeCampaignThroughSlackExportsVerifiableEvidence(t *testing.T) {
	r, fast, signMsg := runToSignOff(t)
	owner, approver := r.org.Users[1], r.org.Users[2]
	body := string(signMsg.Blocks)
	for _, want := range []string{"Summary", "Evidence digest", "sign_off_decline", "removals"} {
		if !strings.Contains(body, want) {
			t.Fatalf("sign-off message lacks %q: %s", want, body)
		}
	}
	shown, err := evidence.EvidenceDigest(r.ctx, r.st, 1)
	if err != nil || !strings.Contains(body, shown) {
		t.Fatalf("the message does not show the evidence digest %s (%v)", shown, err)
	}

	// Someone else's click signs nothing.
	r.click(r.slackOf[approver.ID], signMsg, "sign_off", nil)
	r.eventually("non-owner refused", func() bool {
		for _, e := range r.slack.Ephemerals() {
			if e.User == r.slackOf[approver.ID].ID && strings.Contains(e.Text, "control owner") {
				return true
			}
		}
		return false
	})
	// Something is recorded after the message was posted: the owner's
	// click on it is refused and a fresh message with the new digest
	// follows.
	if err := r.st.AppendEvent(r.ctx, campaign.Event{At: r.clk.Now(), CampaignID: 1, Type: "ticket.updated", Actor: campaign.System,
		Detail: map[string]any{"note": "a late ticket state"}}); err != nil {
		t.Fatal(err)
	}
	r.click(r.slackOf[owner.ID], signMsg, "sign_off", nil)
	var fresh slacktest.Message
	r.eventually("a fresh sign-off message", func() bool {
		for _, m := range withButton(r.dm(owner.ID), "sign_off") {
			if m.TS != signMsg.TS {
				fresh = m
				return true
			}
		}
		return false
	})
	if evs, _ := r.st.Events(r.ctx, 1); slices.ContainsFunc(evs, func(e campaign.Event) bool { return e.Type == campaign.EventSignedOff }) {
		t.Fatal("a sign-off bound to a stale digest was recorded")
	}
	current, _ := evidence.EvidenceDigest(r.ctx, r.st, 1)
	if current == shown || !strings.Contains(string(fresh.Blocks), current) {
		t.Fatalf("the fresh message does not show the new digest %s", current)
	}
	pushes := r.okta.PushesSent()
	r.clk.Advance(time.Hour)
	r.click(r.slackOf[owner.ID], fresh, "sign_off", nil)
	r.eventually("signed off and the message updated", func() bool {
		for _, m := range r.dm(owner.ID) {
			if m.TS == fresh.TS {
				return m.Edited > 0 && strings.Contains(string(m.Blocks), "Signed off") && !strings.Contains(string(m.Blocks), `"sign_off"`)
			}
		}
		return false
	})
	if r.okta.PushesSent() <= pushes {
		t.Fatal("the sign-off did not ask for the Okta Verify push")
	}

	// The bundle.
	dir := filepath.Join(t.TempDir(), "bundle")
	o := signedOptions()
	o.Now = r.clk.Now
	o.Thresholds = evidence.Thresholds{FastDecisionSeconds: 2, FastDecisionsMax: 5}
	if _, err := evidence.Export(r.ctx, r.st, 1, dir, o); err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(dir, evidence.VerifyOptions{AuditKey: []byte(auditKey)})
	if err != nil || !rep.OK {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
	var ap evidence.ApprovalsFile
	readJSON(t, filepath.Join(dir, evidence.FileApprovals), &ap)
	if len(ap.SignOffs) != 1 || ap.SignOffs[0].Via != "slack" || ap.SignOffs[0].ByID != owner.ID || ap.SignOffs[0].EvidenceSHA256 != current {
		t.Fatalf("sign-offs = %+v; want the owner's, from Slack, bound to %s", ap.SignOffs, current)
	}
	var an evidence.AnalyticsFile
	readJSON(t, filepath.Join(dir, evidence.FileAnalytics), &an)
	flagged := map[string]bool{}
	for _, f := range an.Flags {
		if strings.Contains(f.Flag, "fast") {
			flagged[f.Reviewer] = true
		}
	}
	var fastRow *evidence.ReviewerStats
	for i := range an.Reviewers {
		if an.Reviewers[i].ReviewerID == fast {
			fastRow = &an.Reviewers[i]
		}
	}
	if fastRow == nil || !flagged[fastRow.Reviewer] || len(flagged) != 1 || fastRow.FastDecisions <= 5 {
		t.Fatalf("fast flags %v, fast reviewer %s row %+v; want the fast reviewer alone flagged", flagged, fast, fastRow)
	}
	// A flipped byte anywhere fails, naming the file.
	for _, name := range append(slices.Clone(evidence.Files), evidence.FileManifest) {
		t.Run("flip "+name, func(t *testing.T) {
			copyDir := filepath.Join(t.TempDir(), "b")
			if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(copyDir, name)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw[len(raw)/2] ^= 0x01
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			rep, _ := evidence.Verify(copyDir, evidence.VerifyOptions{AuditKey: []byte(auditKey)})
			if rep == nil || rep.OK || !slices.ContainsFunc(rep.Problems, func(p evidence.Problem) bool { return p.File == name }) {
				t.Fatalf("a flipped byte in %s: %v", name, rep)
			}
		})
	}
}

// The owner declines in Slack: "Decline…" opens the modal; an empty reason
// is refused in the modal; a reason records the decline, bound to the
// digest shown, and the message says so without buttons.
func TestSignOffDeclineThroughSlack(t *testing.T) {
	r, _, signMsg := runToSignOff(t)
	owner := r.slackOf[r.org.Users[1].ID]
	views := len(r.slack.Views())
	r.click(owner, signMsg, "sign_off_decline", nil)
	var viewID string
	r.eventually("the decline modal opens", func() bool {
		vs := r.slack.Views()
		if len(vs) > views && vs[len(vs)-1].Method == "views.open" && strings.Contains(string(vs[len(vs)-1].JSON), "sign_off_decline") {
			viewID = vs[len(vs)-1].ViewID
			return true
		}
		return false
	})
	submit := func(reason string) slacktest.Ack {
		t.Helper()
		p, err := r.slack.ViewSubmission(owner, viewID, map[string]map[string]slacktest.StateValue{
			"sign_off_reason": {"reason": {Type: "plain_text_input", Value: reason}}})
		if err != nil {
			t.Fatal(err)
		}
		ack, ok := r.slack.WaitAck(r.slack.SendInteraction(p), time.Minute)
		if !ok {
			t.Fatal("no ack for the decline")
		}
		return ack
	}
	if ack := submit("  "); !strings.Contains(string(ack.Payload), "Say why") {
		t.Fatalf("empty reason: ack %s, want the modal's error", ack.Payload)
	}
	submit("The AWS removals still have open tickets")
	r.eventually("the decline recorded and the message updated", func() bool {
		for _, m := range r.dm(r.org.Users[1].ID) {
			if m.TS == signMsg.TS {
				return m.Edited > 0 && strings.Contains(string(m.Blocks), "Not signed") && !strings.Contains(string(m.Blocks), `"sign_off"`)
			}
		}
		return false
	})
	evs, err := r.st.Events(r.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var declined *campaign.Event
	for i := range evs {
		if evs[i].Type == campaign.EventSignOffDeclined {
			declined = &evs[i]
		}
		if evs[i].Type == campaign.EventSignedOff {
			t.Fatal("a decline recorded a sign-off")
		}
	}
	digest, _ := evidence.EvidenceDigest(r.ctx, r.st, 1)
	if declined == nil || declined.Detail["reason"] != "The AWS removals still have open tickets" || declined.Detail["evidence_sha256"] != digest ||
		declined.Actor.UserID != r.org.Users[1].ID || !strings.Contains(string(signMsg.Blocks), digest) {
		t.Fatalf("decline = %+v, want the owner's, with the reason, bound to %s", declined, digest)
	}
}
