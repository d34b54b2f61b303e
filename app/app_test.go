package app_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slacktest"
)

// rig is a configuration pointing at a fake Okta and a fake Slack whose
// users share the synthetic org's emails.
type rig struct {
	t     *testing.T
	dir   string
	env   map[string]string
	okta  *oktatest.Server
	slack *slacktest.Server
	org   *oktatest.Org
}

const approvals = "CAPPROVALS"

func newRig(t *testing.T) *rig {
	t.Helper()
	org := oktatest.Generate(oktatest.Params{Seed: 3, Users: 40, Apps: 6, Groups: 8})
	r := &rig{t: t, dir: t.TempDir(), org: org, okta: oktatest.NewServer(org, oktatest.WithWindow(time.Second)), slack: slacktest.New()}
	t.Cleanup(r.okta.Close)
	t.Cleanup(r.slack.Close)
	r.slack.AddChannel(approvals, "iam-approvals")
	for i, u := range org.Users {
		r.slack.AddUser(slacktest.User{ID: fmt.Sprintf("U%05d", i), Name: strings.Split(u.Login, "@")[0], RealName: u.DisplayName(), Email: u.Email})
	}
	r.env = map[string]string{
		"ATTEST_DB":       filepath.Join(r.dir, "attest.db"),
		"OKTA_ORG_URL":    r.okta.URL,
		"OKTA_API_TOKEN":  r.okta.Token,
		"SLACK_APP_TOKEN": slacktest.AppToken,
		"SLACK_BOT_TOKEN": slacktest.BotToken,
		"SLACK_API_URL":   r.slack.APIURL(),
	}
	return r
}

// config loads a config file with extra YAML over the rig's environment.
func (r *rig) config(extra string) *config.Config {
	r.t.Helper()
	path := filepath.Join(r.dir, "attest.yaml")
	yaml := "slack: {approvals_channel: " + approvals + ", admins: [U00001]}\nhttp: {listen: \"127.0.0.1:0\"}\n" +
		"serve: {shutdown_timeout: 10s}\n" + extra
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		r.t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) string { return r.env[k] })
	if err != nil {
		r.t.Fatal(err)
	}
	return cfg
}

func (r *rig) log() zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(r.t)).Level(zerolog.WarnLevel)
}

// noLeaks checks, after every other cleanup (the fake servers close
// first), that the test left no goroutine behind. The Okta SDK starts a
// go-cache janitor per client that only a finalizer stops; attest turns
// that cache off, so the janitor is idle and ignored here.
func noLeaks(t *testing.T) {
	opts := []goleak.Option{goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("github.com/patrickmn/go-cache.(*janitor).Run")}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPortTakenFailsAtOnce: with Slack configured and http.listen taken,
// New fails at once naming the key and the fix; nothing keeps running.
func TestPortTakenFailsAtOnce(t *testing.T) {
	noLeaks(t)
	r := newRig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := r.config("")
	cfg.HTTP.Listen = ln.Addr().String()
	start := time.Now()
	a, err := app.New(context.Background(), cfg, r.log())
	if err == nil {
		a.Close()
		t.Fatal("New succeeded on a port already in use")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("New took %s to fail", took)
	}
	for _, want := range []string{"http.listen", ln.Addr().String(), "free the port"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestRunAndShutdown: serve syncs, maps users, turns ready, and on cancel
// every component stops, no goroutine is left and the store closes last.
func TestRunAndShutdown(t *testing.T) {
	noLeaks(t)
	r := newRig(t)
	a, err := app.New(context.Background(), r.config(""), r.log())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	eventually(t, "ready", func() bool { _, err := a.Ready(ctx); return err == nil })
	if a.Addr() == nil {
		t.Fatal("no HTTP address")
	}
	cancel()
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }() // must wait for Run
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close = %v", err)
	}
	if _, err := a.Store.SchemaVersion(context.Background()); err == nil {
		t.Error("store still open after Close")
	}
}

// TestFatalComponentStopsAll: Slack refusing the app token stops every
// component and Run returns the reason.
func TestFatalComponentStopsAll(t *testing.T) {
	noLeaks(t)
	r := newRig(t)
	r.env["SLACK_APP_TOKEN"] = "xapp-revoked"
	a, err := app.New(context.Background(), r.config(""), r.log())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "slack") {
			t.Fatalf("Run = %v, want a Slack error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run kept running after Slack refused the token")
	}
}

// TestCLIStartThenServeDelivers: a campaign started with app.Open (as the
// CLI does) queues its member forms; serve delivers them through Slack.
func TestCLIStartThenServeDelivers(t *testing.T) {
	r := newRig(t)
	cfg := r.config("")
	ctx := context.Background()
	core, err := app.Open(ctx, cfg, r.log(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	def, yaml, err := app.ReadDefinition(filepath.Join("..", "campaigns", "quarterly.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Engine.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: yaml, Trigger: "cli",
		Owner: campaign.Actor{Email: r.org.Users[1].Email, Via: "cli"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := core.Store.CaseProgress(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(r.slack.AllMessages()); n != 0 {
		t.Fatalf("%d messages sent before serve ran", n)
	}
	a, err := app.New(ctx, cfg, r.log())
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	// Members with a Slack account get their form; the others are the
	// IAM team's to follow up (their managers decide in stage 2).
	eventually(t, "users mapped", func() bool { _, err := a.Ready(rctx); return err == nil })
	want := 0
	for m := range p.MemberOpen {
		if _, err := a.Store.SlackUserByOkta(rctx, m); err == nil {
			want++
		}
	}
	if want == 0 {
		t.Fatal("no member has a Slack account")
	}
	eventually(t, "member forms delivered", func() bool { return dmChannels(r.slack) >= want })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a.Close()
	if got := dmChannels(r.slack); got != want {
		t.Errorf("forms went to %d people, want %d members", got, want)
	}
}

// dmChannels counts the DM channels holding at least one message.
func dmChannels(s *slacktest.Server) int {
	seen := map[string]bool{}
	for _, m := range s.AllMessages() {
		if strings.HasPrefix(m.Channel, "D") {
			seen[m.Channel] = true
		}
	}
	return len(seen)
}
