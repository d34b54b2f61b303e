// Package replicatest runs attest as an operator would run several
// replicas: three `attest serve` processes of the real binary on one
// PostgreSQL schema, one fake Slack and one fake Okta, and kills them with
// SIGKILL in the middle of their work. It needs ATTEST_TEST_DATABASE_URL
// (skipped without it, failed under CI=true). On failure each replica's
// last log lines are printed; ATTEST_REPLICA_LOGS=DIR keeps the whole
// logs there.
package replicatest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/syncbuf"

	"github.com/jackc/pgx/v5"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/pgtest"
	"github.com/attestbot/attest/internal/slackdrive"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/store"
)

// auditKey keys the audit chain every replica writes.
const auditKey = "6f1c0d9a3b7e4f2a8c5d1e0b9a7f3c2d6e4b1a0f9c8d7e6f5a4b3c2d1e0f9a8b"

const approvals = "CAPPROVALS"

// claimLease is serve.claim_lease: how long a dead replica's claims on
// outbox messages and removals hold before a survivor takes them over.
const claimLease = 4 * time.Second

// TestReplicasSurviveKills runs a whole campaign through Slack on three
// replicas: launched by an admin's slash command, member forms answered
// by clicks, managers confirming, the plan approved in the approvals
// channel, the removals executed in the fake Okta. The leader is killed
// (SIGKILL) while the member forms go out, and the replica that leads
// next while the removals run. Every form is delivered exactly once,
// every answer is kept, every planned removal is done exactly once, the
// audit chain verifies and leadership moves within 30 s of each kill.
func TestReplicasSurviveKills(t *testing.T) {
	dbURL := pgtest.URL(t)
	bin := buildAttest(t)
	w := newWorld(t, dbURL, bin)
	ctx := context.Background()

	for i := range 3 {
		w.start(i)
	}
	w.eventually("three replicas ready, one leading", time.Minute, func() bool {
		n, leaders := 0, 0
		for _, r := range w.replicas {
			if msg, ok := r.ready(); ok {
				n++
				if strings.HasSuffix(msg, ", leader") {
					leaders++
				}
			}
		}
		return n == 3 && leaders == 1 && w.slack.Connections() == 3
	})
	first := w.leader()

	// Launch; the member forms go out slowly (the fake Slack's rate limit
	// on chat.postMessage): the leader dies once some of them were posted.
	if got := w.slash(w.admin, "start quarterly"); !strings.Contains(got, "Launched campaign 1") {
		t.Fatalf("admin start: %q", got)
	}
	st := w.openStore(ctx)
	var cases []campaign.CaseRecord
	members := map[string][]campaign.CaseRecord{}
	w.eventually("every member form queued", time.Minute, func() bool {
		c, err := st.GetCampaign(ctx, 1)
		if err != nil || c.State != campaign.StateStage1 {
			return false
		}
		cases, err = st.Cases(ctx, 1, campaign.CaseQuery{})
		if err != nil {
			return false
		}
		clear(members)
		for _, cs := range cases {
			members[cs.UserID] = append(members[cs.UserID], cs)
		}
		// Member forms are queued as "post:m:<campaign>:<member>:<page>:v1".
		p, err := st.OutboxProgress(ctx, "post:m:1:")
		return err == nil && len(members) > 0 && total(p) >= len(members)
	})
	if len(members) < 30 {
		t.Fatalf("%d members in the campaign: too few to catch a fan-out in flight", len(members))
	}
	memberForms := func() int { return len(w.forms("member_submit")) }
	w.eventually("some member forms posted", time.Minute, func() bool { return memberForms() >= 5 })
	posted := memberForms()
	if posted >= len(members) {
		t.Fatalf("all %d member forms were posted before the leader could be killed: slow the fake Slack down", posted)
	}
	killedAt := w.kill(first)
	// The messages it had claimed and not yet sent (or sent without
	// recording it) are taken over by the survivors after the lease.
	inFlight := w.count(ctx, `SELECT count(*) FROM outbox WHERE state = 'sending' AND claimed_by ~ $1`, w.workerPattern(first))
	t.Logf("killed the leader %s with %d of %d member forms posted and %d messages claimed by it", w.replicas[first].name, posted, len(members), inFlight)
	if inFlight == 0 {
		t.Fatal("the killed leader held no outbox claim: the test did not kill it during the fan-out")
	}
	second := w.newLeader(killedAt, first)

	// Every member gets exactly one form (a page per 10 cases or so), each
	// case on exactly one form; nothing posted twice.
	w.eventually("every member form posted", 2*time.Minute, func() bool { return w.casesOnForms("member_submit") >= len(cases) })
	w.onFormsOnce(cases, "member_submit", func(campaign.CaseRecord) bool { return true })

	// Members answer: each revokes the first access whose removal is an
	// Okta write (not a removal by hand) and keeps the rest.
	removable := removableCases(ctx, t, st, cases)
	revoked := map[string]int64{} // by member: the case they revoke
	for _, cs := range cases {
		if removable[cs.ID] && revoked[cs.UserID] == 0 {
			revoked[cs.UserID] = cs.ID
		}
	}
	if len(revoked) < 20 {
		t.Fatalf("%d members have an access whose removal is an Okta write: too few removals to catch in flight", len(revoked))
	}
	want := map[int64]string{}
	w.waitConnections(2)
	for _, f := range w.forms("member_submit") {
		choices := map[string]string{}
		for _, id := range slackdrive.CaseBlocks(f) {
			choices[id] = "keep"
			cs := w.caseOf(cases, id)
			if cs.ID == revoked[cs.UserID] {
				choices[id] = "revoke"
			}
			want[cs.ID] = choices[id]
		}
		w.click(w.userOfDM(f.Channel), f, "member_submit", choices)
	}
	w.eventually("every member answer recorded and stage 2 started", time.Minute, func() bool {
		c, err := st.GetCampaign(ctx, 1)
		if err != nil || c.State != campaign.StateStage2 {
			return false
		}
		cases, err = st.Cases(ctx, 1, campaign.CaseQuery{})
		return err == nil && answered(cases, func(c campaign.CaseRecord) string { return c.MemberDecision }) == len(cases)
	})
	for _, cs := range cases {
		if cs.MemberDecision != want[cs.ID] {
			t.Errorf("case %d: member decision %q, clicked %q", cs.ID, cs.MemberDecision, want[cs.ID])
		}
	}

	// Managers get one form per member; each revokes the last access of
	// forms with three cases or more and keeps the others.
	def := &campaign.Definition{}
	reviewed := func(c campaign.CaseRecord) bool { return c.ReviewerID != "" && c.NeedsReviewer(def) }
	toReview := 0
	for _, cs := range cases {
		if reviewed(cs) {
			toReview++
		}
	}
	if toReview == 0 {
		t.Fatal("no case for managers to confirm")
	}
	w.eventually("every manager form posted", 2*time.Minute, func() bool { return w.casesOnForms("reviewer_submit") >= toReview })
	w.onFormsOnce(cases, "reviewer_submit", reviewed)
	wantReviewer := map[int64]string{}
	for _, f := range w.forms("reviewer_submit") {
		ids := slackdrive.CaseBlocks(f)
		choices := map[string]string{}
		for i, id := range ids {
			choices[id] = "keep"
			if len(ids) >= 3 && i == len(ids)-1 {
				choices[id] = "revoke"
			}
			if cs := w.caseOf(cases, id); reviewed(cs) {
				wantReviewer[cs.ID] = choices[id]
			}
		}
		w.click(w.userOfDM(f.Channel), f, "reviewer_submit", choices)
	}
	w.eventually("every manager answer recorded", time.Minute, func() bool {
		cases, _ = st.Cases(ctx, 1, campaign.CaseQuery{})
		n := 0
		for _, cs := range cases {
			if wantReviewer[cs.ID] != "" && cs.ReviewerDecision != "" {
				n++
			}
		}
		return n == len(wantReviewer)
	})
	for _, cs := range cases {
		if clicked, ok := wantReviewer[cs.ID]; ok && cs.ReviewerDecision != clicked {
			t.Errorf("case %d: manager decision %q, clicked %q", cs.ID, cs.ReviewerDecision, clicked)
		}
	}

	// Close, approve; the removals run on the leader, slowly (the fake
	// Okta's latency): the replica leading now dies half-way.
	if got := w.slash(w.admin, "close 1"); !strings.Contains(got, "posted for approval") {
		t.Fatalf("close: %q", got)
	}
	w.eventually("plan posted", time.Minute, func() bool { return len(formsIn(w.slack.Messages(approvals), "plan_approve")) > 0 })
	approval := formsIn(w.slack.Messages(approvals), "plan_approve")[0]
	w.click(w.approver, approval, "plan_approve", nil)
	plan, err := st.Plan(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	planned := 0
	for _, p := range plan {
		if p.IsOperation() {
			planned++
		}
	}
	if planned < 10 {
		t.Fatalf("the plan has %d Okta operations: too few to catch removals in flight", planned)
	}
	w.eventually("a quarter of the removals done", time.Minute, func() bool { return w.okta.Deletes() >= planned/4 })
	done := w.okta.Deletes()
	if done >= planned {
		t.Fatalf("all %d removals were done before the leader could be killed: slow the fake Okta down", done)
	}
	killedAt = w.kill(second)
	done = w.okta.Deletes()
	running := w.count(ctx, `SELECT count(*) FROM operations WHERE state = 'running' AND claimed_by ~ $1`, w.workerPattern(second))
	t.Logf("killed the leader %s with %d of %d removals done and %d running on it", w.replicas[second].name, done, planned, running)
	if running == 0 {
		t.Fatal("the killed leader ran no removal: the test did not kill it during the removals")
	}
	w.newLeader(killedAt, first, second)

	// The last replica goes on with the removals within seconds (a new
	// leader ticks at once and runs the executor every half lease; the
	// dead one's removals in flight when it died may still land, at most
	// one each, so more than those must),
	// settles the dead one's running removals (reading Okta first) once
	// their lease passed, and finishes the run.
	w.eventually("removals resumed by the new leader", 30*time.Second, func() bool { return w.okta.Deletes() > done+running })
	t.Logf("removals resumed %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	w.eventually("remediation finished", 2*time.Minute, func() bool {
		c, err := st.GetCampaign(ctx, 1)
		return err == nil && c.State == campaign.StateDone
	})
	t.Logf("remediation finished %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	// Slack spread the envelopes over the replicas' connections: more
	// than one replica handled clicks.
	conns := map[int]bool{}
	for _, a := range w.slack.Acks() {
		conns[a.Conn] = true
	}
	if len(conns) < 2 {
		t.Errorf("envelopes were acked on %d Socket Mode connection(s); want the replicas' several", len(conns))
	}
	w.checkRemovals(ctx, st, planned)
	w.checkNoDoublePosts()
	w.verifyAudit()
}

// removableCases returns the cases whose revocation the plan carries out
// as an Okta write (a direct assignment, a membership no rule manages),
// read as the campaign would plan it.
func removableCases(ctx context.Context, t *testing.T, st *store.Store, cases []campaign.CaseRecord) map[int64]bool {
	t.Helper()
	c, err := st.GetCampaign(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := st.LoadSnapshot(ctx, c.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	index := campaign.NewIndex(snap)
	out := map[int64]bool{}
	for _, cs := range cases {
		cs.Outcome = campaign.OutcomeRevoked
		for _, p := range campaign.BuildPlan(index, c.Definition, []campaign.CaseRecord{cs}) {
			if p.IsOperation() {
				out[cs.ID] = true
			}
		}
	}
	return out
}

// world is the fakes, the database and the replicas.
type world struct {
	t        *testing.T
	dir, bin string
	dbURL    string
	env      []string
	slack    *slacktest.Server
	okta     *oktatest.Server
	org      *oktatest.Org
	slackOf  map[string]slacktest.User // by Okta id
	dmUser   map[string]slacktest.User // by DM channel, filled as found
	admin    slacktest.User
	approver slacktest.User
	replicas []*replica
}

// newWorld starts the fakes and writes the configuration and the
// definition. The fake Slack takes about 10 messages a second, so the
// fan-out lasts seconds; the fake Okta answers each call after 100 ms, so
// removals do too.
func newWorld(t *testing.T, dbURL, bin string) *world {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 90, Apps: 16, Groups: 16})
	w := &world{t: t, dir: t.TempDir(), bin: bin, dbURL: dbURL, org: org, slackOf: map[string]slacktest.User{}, dmUser: map[string]slacktest.User{}}
	w.okta = oktatest.NewServer(org, oktatest.WithWindow(time.Second), oktatest.WithLatency(100*time.Millisecond))
	t.Cleanup(w.okta.Close)
	w.slack = slacktest.New(slacktest.WithRateLimit("chat.postMessage", 10))
	t.Cleanup(w.slack.Close)
	w.slack.AddChannel(approvals, "iam-approvals")
	for i, u := range org.Users {
		su := slacktest.User{ID: fmt.Sprintf("U%05d", i), Name: strings.Split(u.Login, "@")[0], RealName: u.DisplayName(), Email: u.Email}
		w.slack.AddUser(su)
		w.slackOf[u.ID] = su
	}
	w.admin, w.approver = w.slackOf[org.Users[1].ID], w.slackOf[org.Users[2].ID]

	campaigns := filepath.Join(w.dir, "campaigns")
	if err := os.MkdirAll(campaigns, 0o755); err != nil {
		t.Fatal(err)
	}
	def := fmt.Sprintf(`name: Quarterly
owner: %s
scope: {statuses: [ACTIVE]}
stages: {self_attestation: {duration: 7d}, manager: {duration: 7d}}
escalation: {after: 7d}
`, org.Users[1].Email)
	write(t, filepath.Join(campaigns, "quarterly.yaml"), def)
	cfg := fmt.Sprintf(`slack: {approvals_channel: %s, admins: [%s], approvers: [%s]}
campaigns: {dir: %s}
remediation: {max_group_share: 0}
serve: {shutdown_timeout: 5s, claim_lease: %s}
`, approvals, w.admin.ID, w.approver.ID, campaigns, claimLease)
	cfgPath := filepath.Join(w.dir, "attest.yaml")
	write(t, cfgPath, cfg)
	w.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir, "TZ=UTC",
		"ATTEST_CONFIG=" + cfgPath,
		"ATTEST_DATABASE_URL=" + dbURL,
		"ATTEST_AUDIT_KEY=" + auditKey,
		"OKTA_ORG_URL=" + w.okta.URL,
		"OKTA_API_TOKEN=" + w.okta.Token,
		"OKTA_WRITE_API_TOKEN=" + w.okta.Token,
		"SLACK_APP_TOKEN=" + slacktest.AppToken,
		"SLACK_BOT_TOKEN=" + slacktest.BotToken,
		"SLACK_API_URL=" + w.slack.APIURL(),
	}
	t.Cleanup(func() {
		for _, r := range w.replicas {
			r.stop()
		}
		if t.Failed() {
			for _, r := range w.replicas {
				t.Logf("log of %s (last 40 lines):\n%s", r.name, r.tail(40))
				if d := os.Getenv("ATTEST_REPLICA_LOGS"); d != "" {
					_ = os.WriteFile(filepath.Join(d, r.name+".log"), []byte(r.logs.String()), 0o600)
				}
			}
		}
	})
	return w
}

// replica is one `attest serve` process.
type replica struct {
	name, addr string
	cmd        *exec.Cmd
	logs       *syncbuf.Buffer
	exited     chan struct{}
	killed     bool
}

// start starts replica i on a free port of its own.
func (w *world) start(i int) {
	w.t.Helper()
	r := &replica{name: fmt.Sprintf("replica-%d", i+1), addr: freePort(w.t), logs: &syncbuf.Buffer{}, exited: make(chan struct{})}
	r.cmd = exec.Command(w.bin, "serve")
	r.cmd.Dir = w.dir
	r.cmd.Env = append(append([]string{}, w.env...), "ATTEST_HTTP_LISTEN="+r.addr)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.exited) }()
	if len(w.replicas) <= i {
		w.replicas = append(w.replicas, r)
	} else {
		w.replicas[i] = r
	}
}

// ready returns the replica's /readyz answer and whether it is ready.
func (r *replica) ready() (string, bool) {
	if r.killed {
		return "", false
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.addr + "/readyz")
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), resp.StatusCode == http.StatusOK
}

// stop kills the process if it still runs and waits for it.
func (r *replica) stop() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// tail returns the last n lines of the replica's log.
func (r *replica) tail(n int) string {
	lines := strings.Split(strings.TrimRight(r.logs.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// leader returns the index of the one replica whose /readyz says it leads.
func (w *world) leader() int {
	w.t.Helper()
	found := -1
	for i, r := range w.replicas {
		if msg, ok := r.ready(); ok && strings.HasSuffix(msg, ", leader") {
			if found >= 0 {
				w.t.Fatalf("%s and %s both lead", w.replicas[found].name, r.name)
			}
			found = i
		}
	}
	if found < 0 {
		w.t.Fatal("no replica leads")
	}
	return found
}

// kill sends SIGKILL to replica i and returns when it did.
func (w *world) kill(i int) time.Time {
	w.t.Helper()
	r := w.replicas[i]
	if err := r.cmd.Process.Kill(); err != nil {
		w.t.Fatal(err)
	}
	at := time.Now()
	r.killed = true
	<-r.exited
	return at
}

// newLeader waits until one of the replicas not in dead leads, and fails
// unless that happened within 30 s of killedAt. It returns its index.
func (w *world) newLeader(killedAt time.Time, dead ...int) int {
	w.t.Helper()
	for {
		for i, r := range w.replicas {
			if contains(dead, i) {
				continue
			}
			if msg, ok := r.ready(); ok && strings.HasSuffix(msg, ", leader") {
				took := time.Since(killedAt)
				if took > 30*time.Second {
					w.t.Fatalf("%s leads %s after the kill: more than 30 s", r.name, took.Round(time.Millisecond))
				}
				w.t.Logf("%s leads %s after the kill", r.name, took.Round(time.Millisecond))
				return i
			}
		}
		if time.Since(killedAt) > 30*time.Second {
			w.t.Fatalf("no replica leads 30 s after the leader was killed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitConnections waits until the fake Slack holds exactly n Socket Mode
// connections: a killed replica's is gone, so no click is sent to it
// (Slack does not redeliver an interaction whose ack never came).
func (w *world) waitConnections(n int) {
	w.t.Helper()
	w.eventually(fmt.Sprintf("%d Socket Mode connections", n), 30*time.Second, func() bool { return w.slack.Connections() == n })
}

// slash sends a slash command and returns its answer: the ack's text, or
// the DM that brings a slow answer.
func (w *world) slash(user slacktest.User, text string) string {
	w.t.Helper()
	reply, err := slackdrive.Slash(w.slack, slacktest.SlashCommand{Command: "/access-review", Text: text, UserID: user.ID, UserName: user.Name,
		ChannelID: approvals}, time.Minute)
	if err != nil {
		w.t.Fatal(err)
	}
	return reply
}

// click presses a button of a message with the given radio choices.
func (w *world) click(user slacktest.User, m slacktest.Message, actionID string, choices map[string]string) {
	w.t.Helper()
	if err := slackdrive.Click(w.slack, user, m, actionID, choices, time.Minute); err != nil {
		w.t.Fatalf("%v (by %s)", err, user.ID)
	}
}

// forms returns every message in a DM that carries the action.
func (w *world) forms(action string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range formsIn(w.slack.AllMessages(), action) {
		if strings.HasPrefix(m.Channel, "D") {
			out = append(out, m)
		}
	}
	return out
}

// casesOnForms counts the case blocks on the forms carrying action.
func (w *world) casesOnForms(action string) int {
	n := 0
	for _, f := range w.forms(action) {
		n += len(slackdrive.CaseBlocks(f))
	}
	return n
}

// onFormsOnce checks that each case that wants a form of this action is
// on exactly one such form, in the DM of the person who decides it.
func (w *world) onFormsOnce(cases []campaign.CaseRecord, action string, wants func(campaign.CaseRecord) bool) {
	w.t.Helper()
	on := map[string]int{}
	where := map[string]string{}
	keys := map[string][]string{}
	for _, f := range w.forms(action) {
		for _, id := range slackdrive.CaseBlocks(f) {
			on[id]++
			where[id] = f.Channel
			keys[id] = append(keys[id], outboxKey(f)+"@"+f.Channel+"/"+f.TS)
		}
	}
	missing, twice := 0, 0
	for _, cs := range cases {
		if !wants(cs) {
			continue
		}
		id := fmt.Sprintf("case:%d", cs.ID)
		switch on[id] {
		case 0:
			missing++
		case 1:
		default:
			twice++
			w.t.Errorf("case %d is on %d %s forms: %v", cs.ID, on[id], action, keys[id])
		}
		decider := cs.UserID
		if action == "reviewer_submit" {
			decider = cs.ReviewerID
		}
		if dm, ok := w.slack.DMChannel(w.slackOf[decider].ID); on[id] > 0 && (!ok || dm != where[id]) {
			w.t.Errorf("case %d's %s form is in %s, not in the DM of %s", cs.ID, action, where[id], decider)
		}
	}
	if missing > 0 || twice > 0 {
		w.t.Fatalf("%s forms: %d cases missing, %d on more than one form", action, missing, twice)
	}
}

// userOfDM returns the Slack user whose DM with the bot is channel.
func (w *world) userOfDM(channel string) slacktest.User {
	w.t.Helper()
	if u, ok := w.dmUser[channel]; ok {
		return u
	}
	for _, u := range w.slackOf {
		if dm, ok := w.slack.DMChannel(u.ID); ok {
			w.dmUser[dm] = u
		}
	}
	u, ok := w.dmUser[channel]
	if !ok {
		w.t.Fatalf("no user's DM is %s", channel)
	}
	return u
}

// caseOf returns the case a block id names.
func (w *world) caseOf(cases []campaign.CaseRecord, blockID string) campaign.CaseRecord {
	w.t.Helper()
	for _, cs := range cases {
		if fmt.Sprintf("case:%d", cs.ID) == blockID {
			return cs
		}
	}
	w.t.Fatalf("a form shows %s, which is no case of the campaign", blockID)
	return campaign.CaseRecord{}
}

// checkRemovals checks every planned operation: done, its Okta write
// answered 204 exactly once when it removed something and never
// otherwise, and the fake org changed accordingly.
func (w *world) checkRemovals(ctx context.Context, st *store.Store, planned int) {
	w.t.Helper()
	ops, err := st.Operations(ctx, 1)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(ops) != planned {
		w.t.Errorf("%d operations queued for %d planned", len(ops), planned)
	}
	deletes := map[string]int{}
	for _, r := range w.okta.Requests() {
		if r.Method == http.MethodDelete && r.Status == http.StatusNoContent {
			deletes[r.Path]++
		}
	}
	org := w.okta.Org()
	removed, twice := 0, 0
	for _, op := range ops {
		path, still := "", false
		switch op.Kind {
		case campaign.OpRemoveMembership:
			path = "/api/v1/groups/" + op.GroupID + "/users/" + op.UserID
			still = contains(org.Members[op.GroupID], op.UserID)
		case campaign.OpUnassignApp:
			path = "/api/v1/apps/" + op.AppID + "/users/" + op.UserID
			still = contains(org.AppDirect[op.AppID], op.UserID)
		default:
			w.t.Errorf("operation %d is a %s: the plan adds nobody", op.Seq, op.Kind)
			continue
		}
		if op.State != campaign.OpDone {
			w.t.Errorf("operation %d (%s) is %s (%s %s)", op.Seq, path, op.State, op.ErrorCode, op.ErrorSummary)
		}
		want := 0
		if op.Result == campaign.ResultRemoved {
			want = 1
			removed++
			if still {
				w.t.Errorf("operation %d reported removed, but the fake org still has %s", op.Seq, path)
			}
		}
		if deletes[path] != want {
			w.t.Errorf("operation %d (%s, result %s): %d successful DELETEs, want %d", op.Seq, path, op.Result, deletes[path], want)
		}
		if deletes[path] > 1 {
			twice++
		}
		delete(deletes, path)
	}
	for path, n := range deletes {
		w.t.Errorf("%d successful DELETEs of %s, which no operation planned", n, path)
	}
	w.t.Logf("%d operations: %d removed, none twice (%d paths written more than once)", len(ops), removed, twice)
	if removed < planned/2 {
		w.t.Errorf("only %d of %d operations removed access", removed, planned)
	}
}

// checkNoDoublePosts checks that no outbox message was posted twice.
func (w *world) checkNoDoublePosts() {
	w.t.Helper()
	seen := map[string]int{}
	for _, m := range w.slack.AllMessages() {
		if k := outboxKey(m); k != "" {
			seen[k]++
		}
	}
	dups := []string{}
	for k, n := range seen {
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	sort.Strings(dups)
	if len(dups) > 0 {
		w.t.Errorf("%d of %d messages posted more than once: %s", len(dups), len(seen), strings.Join(dups, ", "))
	}
}

// verifyAudit runs `attest audit verify` on the shared database.
func (w *world) verifyAudit() {
	w.t.Helper()
	cmd := exec.Command(w.bin, "audit", "verify")
	cmd.Dir, cmd.Env = w.dir, w.env
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Errorf("attest audit verify: %v\n%s", err, out)
	}
}

// count runs a count query on the shared database.
func (w *world) count(ctx context.Context, query string, args ...any) int {
	w.t.Helper()
	conn, err := pgx.Connect(ctx, w.dbURL)
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// workerPattern is a regular expression matching the claims replica i
// made: its store names them host:pid:random (outbox), its executor
// host:pid (operations).
func (w *world) workerPattern(i int) string {
	return fmt.Sprintf(":%d(:|$)", w.replicas[i].cmd.Process.Pid)
}

// openStore opens the shared database for reading.
func (w *world) openStore(ctx context.Context) *store.Store {
	w.t.Helper()
	st, err := store.OpenReadOnly(ctx, w.dbURL)
	if err != nil {
		w.t.Fatalf("open the shared store: %v", err)
	}
	w.t.Cleanup(func() { _ = st.Close() })
	return st
}

// eventually polls cond every 20 ms until it holds, failing after limit.
func (w *world) eventually(what string, limit time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %s waiting until %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// buildAttest builds ./cmd/attest into a temporary directory.
func buildAttest(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("no go command on PATH to build attest with")
	}
	bin := filepath.Join(t.TempDir(), "attest")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/attest")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/attest: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback address nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// outboxKey is the outbox key a message carries in its metadata.
func outboxKey(m slacktest.Message) string { return slackdrive.OutboxKey(m) }

// formsIn keeps the messages that carry a given button.
func formsIn(msgs []slacktest.Message, action string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range msgs {
		if bytes.Contains(m.Blocks, []byte(`"`+action+`"`)) {
			out = append(out, m)
		}
	}
	return out
}

// answered counts the cases whose decision (as get reads it) is set.
func answered(cases []campaign.CaseRecord, get func(campaign.CaseRecord) string) int {
	n := 0
	for _, c := range cases {
		if get(c) != "" {
			n++
		}
	}
	return n
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
