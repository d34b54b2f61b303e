package bot_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slackdrive"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/internal/storetest"
	"github.com/attestbot/attest/store"
)

// clock is a settable fake clock for the engine.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// rig is the whole Slack side of attest against the fake Slack: a store
// holding a synthetic org, the engine on a fake clock, the handlers, the
// Socket Mode bot and the outbox sender.
type rig struct {
	t        testing.TB
	ctx      context.Context
	slack    *slacktest.Server
	st       *store.Store
	eng      *campaign.Engine
	h        *handlers.Handler
	bot      *bot.Bot
	clock    *clock
	org      *oktatest.Org
	slackOf  map[string]slacktest.User // by Okta user id
	admin    slacktest.User
	approver slacktest.User
}

const approvals = "CAPPROVALS"

const rigDefinition = `name: Quarterly
owner: %s
escalation: {after: 2d}
stages: {self_attestation: {duration: 7d}, manager: {duration: 7d}}
`

// transport is how the fake Slack reaches the bot: over Socket Mode, or
// over HTTP request URLs signed with signingSecret.
type transport string

const (
	socketMode transport = "socket"
	httpMode   transport = "http"
)

// transports are both, for the tests that run over each.
var transports = []transport{socketMode, httpMode}

// signingSecret is the app's signing secret in HTTP mode.
const signingSecret = "5c1e0a8d7f3b4a2e9d6c8b7a1f0e3d2c"

// manifestFile is the shipped manifest of a transport's app.
func manifestFile(tr transport) string {
	if tr == httpMode {
		return filepath.Join("..", "deploy", "slack-app-manifest-http.yaml")
	}
	return filepath.Join("..", "deploy", "slack-app-manifest.yaml")
}

// newRig is the rig over Socket Mode.
func newRig(t testing.TB) *rig { return newRigOver(t, socketMode) }

// newRigOver is the rig with the fake Slack reaching the bot over tr.
func newRigOver(t testing.TB, tr transport) *rig {
	t.Helper()
	return newRigWith(t, tr, func(org *oktatest.Org) string { return fmt.Sprintf(rigDefinition, org.Users[1].Email) })
}

// newRigWith is the rig whose one definition (campaigns/quarterly.yaml,
// launched as "quarterly") is what definition makes of the org.
func newRigWith(t testing.TB, tr transport, definition func(org *oktatest.Org) string) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 60, Apps: 16, Groups: 16})
	st := storetest.WithOrg(t, org)
	manifest := loadManifest(t, tr)
	srv := slacktest.New(slacktest.WithManifest(manifest))
	srv.AddChannel(approvals, "iam-approvals")
	r := &rig{t: t, ctx: ctx, slack: srv, st: st, org: org, clock: &clock{now: org.Now}, slackOf: map[string]slacktest.User{}}
	st.Now = r.clock.Now // the store stamps reassignments with the engine's clock
	for i, u := range org.Users {
		su := slacktest.User{ID: fmt.Sprintf("U%05d", i), Name: strings.Split(u.Login, "@")[0], RealName: u.DisplayName(), Email: u.Email}
		srv.AddUser(su)
		r.slackOf[u.ID] = su
	}
	r.admin, r.approver = r.slackOf[org.Users[1].ID], r.slackOf[org.Users[2].ID]
	def := definition(org)
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
	// Background work of the handlers (a launch from the modal) ends
	// before the store closes; then the bot and the sender stop.
	t.Cleanup(func() { r.h.Wait(); cancel(); wg.Wait(); srv.Close(); closeApp() })
	if tr == socketMode {
		r.eventually("socket mode connects", func() bool { return r.bot.Connected() })
	}
	return r
}

// serveBot sets b up for transport tr: a Socket Mode client, or its
// request URLs on an HTTP server the fake Slack delivers to, with the
// manifest's paths. The returned function stops that server (after the
// fake Slack closed).
func serveBot(t testing.TB, b *bot.Bot, srv *slacktest.Server, tr transport, m slacktest.Manifest) func() {
	t.Helper()
	if tr == socketMode {
		b.Client = socketmode.New(b.API)
		return func() {}
	}
	b.SigningSecret = signingSecret
	app := httptest.NewServer(b.HTTPHandler())
	d, err := slacktest.HTTPDeliveryFor(m, app.URL, signingSecret)
	if err != nil {
		app.Close()
		t.Fatal(err)
	}
	srv.DeliverOverHTTP(d)
	return app.Close
}

// loadManifest reads the manifest that ships for tr.
func loadManifest(t testing.TB, tr transport) slacktest.Manifest {
	t.Helper()
	m, err := slacktest.LoadManifest(manifestFile(tr))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// shippedManifest makes the fake Slack grant exactly the scopes of the
// manifest that ships, so a call the manifest does not allow fails the
// test as it would fail on a real workspace.
func shippedManifest(t testing.TB) slacktest.Option {
	t.Helper()
	return slacktest.WithManifest(loadManifest(t, socketMode))
}

// eventually polls cond for up to 10 s.
func (r *rig) eventually(what string, cond func() bool) {
	r.t.Helper()
	eventually(r.t, what, cond)
}

// patience is how long a test waits for what must happen: a safety net
// for a loaded machine (-race on two busy cores), never a measure. Tests
// that measure time (ack latency) compare recorded durations instead.
const patience = time.Minute

// eventually polls cond every 10 ms until it holds, failing the test after
// patience.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slash sends a command and returns its answer: the text of its ack, or,
// when the answer took longer than the ack may wait (a loaded machine),
// the DM that brings it.
func (r *rig) slash(user slacktest.User, text string) string {
	r.t.Helper()
	reply, err := slackdrive.Slash(r.slack, slacktest.SlashCommand{Command: "/access-review", Text: text, UserID: user.ID, UserName: user.Name,
		ChannelID: approvals}, patience)
	if err != nil {
		r.t.Fatal(err)
	}
	return reply
}

// outboxKey is the outbox key a message carries in its metadata.
func outboxKey(m slacktest.Message) string { return slackdrive.OutboxKey(m) }

// dm returns the messages in a user's DM with the bot.
func (r *rig) dm(oktaID string) []slacktest.Message {
	ch, ok := r.slack.DMChannel(r.slackOf[oktaID].ID)
	if !ok {
		return nil
	}
	return r.slack.Messages(ch)
}

// click presses a button on a message with the given radio choices.
func (r *rig) click(user slacktest.User, m slacktest.Message, actionID string, choices map[string]string) {
	r.t.Helper()
	if err := slackdrive.Click(r.slack, user, m, actionID, choices, patience); err != nil {
		r.t.Fatal(err)
	}
}

// ephemeralTo returns the ephemeral texts a Slack user got.
func (r *rig) ephemeralTo(slackID string) []string {
	var out []string
	for _, e := range r.slack.Ephemerals() {
		if e.User == slackID {
			out = append(out, e.Text)
		}
	}
	return out
}
