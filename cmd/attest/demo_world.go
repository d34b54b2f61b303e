package main

// The sandbox `attest demo` and `attest preview` run in: the built-in fake
// Okta serving a synthetic org and the fake Slack, both on loopback, and
// the real serve application (app.New, app.Run) configured against them,
// with a clock that can jump days ahead. Nothing here reaches the network.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slackdrive"
	"github.com/attestbot/attest/internal/slacktest"
)

// demoApprovals is the approvals channel of the fake workspace.
const demoApprovals = "CAPPROVALS"

// patience bounds every wait on the sandbox: a safety net against a
// component that stopped, never a pace.
const patience = 45 * time.Second

// demoClock is wall time plus an offset that only grows: the components
// run for real while simulated days pass at once.
type demoClock struct{ offset atomic.Int64 }

func (c *demoClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *demoClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// worldOptions say what sandbox to build.
type worldOptions struct {
	dir    string // working directory: database, config, definitions, log
	people int
	seed   int64
	// definition returns the YAML of the campaign definition to launch.
	definition func(defInput) string
	// tweak, when set, changes the configuration before serve is built.
	tweak func(*config.Config)
	log   zerolog.Logger
}

// defInput is what a sandbox's definition may name: the IAM team's
// emails (the launcher first, then the approvers), an app owner's email
// and the labels of the org's apps.
type defInput struct {
	IAM   []string
	Owner string
	Apps  []string
}

// world is a running sandbox.
type world struct {
	dir      string
	dbPath   string
	auditKey []byte
	org      *oktatest.Org
	okta     *oktatest.Server
	slack    *slacktest.Server
	app      *app.App
	clock    *demoClock
	// slackOf maps Okta user ids to their Slack users.
	slackOf   map[string]slacktest.User
	admin     slacktest.User   // the IAM admin who launches and closes
	approvers []slacktest.User // who may approve removals
	// iam is the IAM team: the admin, then the approvers, who also
	// decide the cases of people without a manager.
	iam    []slacktest.User
	oktaOf map[string]string // Okta user id of the IAM team's Slack ids
	owner  slacktest.User    // owns every app, when a definition says so

	cancel context.CancelFunc
	done   chan error
	closed bool
}

// orgParams sizes the synthetic org for n people: about nine reviewed
// apps a person.
func orgParams(n int, seed int64) oktatest.Params {
	return oktatest.Params{Seed: seed, Users: n, Apps: max(8, n/20), Groups: max(8, n/5),
		Now: time.Now().UTC().Truncate(time.Second)}
}

// startWorld starts the fakes and serve, and returns once serve is ready:
// the directory synced, Okta users mapped to Slack users and Socket Mode
// connected. On error everything started is stopped.
func startWorld(ctx context.Context, o worldOptions) (w *world, err error) {
	w = &world{dir: o.dir, clock: &demoClock{}, slackOf: map[string]slacktest.User{}, oktaOf: map[string]string{}, done: make(chan error, 1)}
	defer func() {
		if err != nil {
			w.stop()
		}
	}()
	w.org = oktatest.Generate(orgParams(o.people, o.seed))
	// One-second rate-limit windows: Okta's budgets per second instead of
	// per minute, so removals are not paced over minutes.
	w.okta = oktatest.NewServer(w.org, oktatest.WithWindow(time.Second))
	w.slack = slacktest.New()
	w.slack.AddChannel(demoApprovals, "iam-approvals")
	var active []oktatest.User
	for i, u := range w.org.Users {
		su := slacktest.User{ID: fmt.Sprintf("U%05d", i+1), Name: strings.Split(u.Login, "@")[0], RealName: u.DisplayName(), Email: u.Email}
		w.slack.AddUser(su)
		w.slackOf[u.ID] = su
		if u.Status == "ACTIVE" && u.ManagerRef != "" {
			active = append(active, u)
		}
	}
	// The IAM team (admin first, then approvers) comes from IT and
	// Security when the org has them.
	sort.SliceStable(active, func(i, j int) bool { return iamDept(active[i]) && !iamDept(active[j]) })
	if len(active) < 5 {
		return w, fmt.Errorf("the synthetic org of %d people has too few active users; use --people 10 or more", o.people)
	}
	w.admin = w.slackOf[active[0].ID]
	for _, u := range active[1:4] {
		w.approvers = append(w.approvers, w.slackOf[u.ID])
	}
	for _, u := range active[:4] {
		w.iam = append(w.iam, w.slackOf[u.ID])
		w.oktaOf[w.slackOf[u.ID].ID] = u.ID
	}
	w.owner = w.slackOf[active[4].ID]
	cfg, err := w.writeConfig(o)
	if err != nil {
		return w, err
	}
	if o.tweak != nil {
		o.tweak(cfg)
	}
	a, err := app.New(ctx, cfg, o.log)
	if err != nil {
		return w, err
	}
	w.app = a
	a.Tune(app.Tuning{Now: w.clock.Now, SlackRate: 2000, SlackPerChannel: time.Millisecond})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	go func() { w.done <- a.Run(runCtx) }()
	err = w.wait(ctx, "serve to sync the directory and connect to Slack", func() (bool, error) {
		_, err := a.Ready(ctx)
		return err == nil, nil
	})
	return w, err
}

// writeConfig writes the definition and attest.yaml into the directory
// and loads the configuration as serve would, the credentials of the
// fakes coming from the environment.
func (w *world) writeConfig(o worldOptions) (*config.Config, error) {
	defs := filepath.Join(w.dir, "campaigns")
	if err := os.MkdirAll(defs, 0o755); err != nil {
		return nil, err
	}
	in := defInput{IAM: emails(w.iam), Owner: w.owner.Email}
	for _, a := range w.org.Apps {
		in.Apps = append(in.Apps, a.Label)
	}
	if err := os.WriteFile(filepath.Join(defs, "demo.yaml"), []byte(o.definition(in)), 0o644); err != nil {
		return nil, err
	}
	// A definition serve could not read fails here, naming the problem.
	if _, _, err := app.ReadDefinition(filepath.Join(defs, "demo.yaml")); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	w.auditKey = []byte(hex.EncodeToString(key))
	// The key lets the user verify the bundle again; it guards nothing else.
	if err := os.WriteFile(filepath.Join(w.dir, "audit.key"), w.auditKey, 0o600); err != nil {
		return nil, err
	}
	w.dbPath = filepath.Join(w.dir, "attest.db")
	approvers := make([]string, len(w.approvers))
	for i, u := range w.approvers {
		approvers[i] = u.ID
	}
	yaml := fmt.Sprintf(`# Written by attest demo: serve against the built-in fakes.
store: {path: %q}
log: {level: info, format: json}
slack: {approvals_channel: %s, admins: [%s], approvers: [%s]}
campaigns: {dir: %q}
http: {listen: "127.0.0.1:0"}
sweep: {schedule: ""}
serve: {shutdown_timeout: 10s}
`, w.dbPath, demoApprovals, w.admin.ID, strings.Join(approvers, ", "), defs)
	path := filepath.Join(w.dir, "attest.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		return nil, err
	}
	env := map[string]string{
		config.EnvOktaOrgURL:    w.okta.URL,
		config.EnvOktaAPIToken:  w.okta.Token,
		config.EnvSlackAppToken: slacktest.AppToken,
		config.EnvSlackBotToken: slacktest.BotToken,
		config.EnvSlackAPIURL:   w.slack.APIURL(),
		config.EnvAuditKey:      string(w.auditKey),
	}
	return config.Load(path, func(k string) string { return env[k] })
}

func emails(us []slacktest.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Email
	}
	return out
}

func iamDept(u oktatest.User) bool { return u.Department == "IT" || u.Department == "Security" }

// stop stops serve and the fakes; it returns serve's error, if any.
func (w *world) stop() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	if w.app != nil {
		w.cancel()
		select {
		case err := <-w.done:
			errs = append(errs, err)
		case <-time.After(patience):
			errs = append(errs, errors.New("serve did not stop"))
		}
		errs = append(errs, w.app.Close())
	}
	if w.slack != nil {
		w.slack.Close()
	}
	if w.okta != nil {
		w.okta.Close()
	}
	return errors.Join(errs...)
}

// wait polls cond until it holds, fails, ctx ends, serve stops or
// patience runs out; what names the wait in the error.
func (w *world) wait(ctx context.Context, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(patience)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case err := <-w.done:
			w.done <- err // stop reads it again
			return fmt.Errorf("serve stopped while waiting for %s: %v (see %s)", what, err, filepath.Join(w.dir, "attest.log"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(40 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s (see %s)", what, filepath.Join(w.dir, "attest.log"))
		}
	}
}

// slash sends the slash command as user would, from the approvals
// channel, and returns serve's answer: the ack's text or, when the work
// took longer than an ack may wait, the DM that brings it.
func (w *world) slash(ctx context.Context, user slacktest.User, text string) (string, error) {
	return slackdrive.Slash(w.slack, slacktest.SlashCommand{Command: config.DefaultSlackCommand, Text: text, UserID: user.ID,
		UserName: user.Name, ChannelID: demoApprovals}, patience)
}

// dm returns the messages of a Slack user's DM with the bot.
func (w *world) dm(slackID string) []slacktest.Message {
	ch, ok := w.slack.DMChannel(slackID)
	if !ok {
		return nil
	}
	return w.slack.Messages(ch)
}

// forms keeps the messages that carry the button action, in order.
func forms(msgs []slacktest.Message, action string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range msgs {
		if strings.Contains(string(m.Blocks), `"`+action+`"`) {
			out = append(out, m)
		}
	}
	return out
}

// caseIDs lists the cases a form message shows, by their block ids.
func caseIDs(m slacktest.Message) []int64 {
	var out []int64
	for _, b := range slackdrive.CaseBlocks(m) {
		if id, ok := blocks.ParseCaseBlockID(b); ok {
			out = append(out, id)
		}
	}
	return out
}

// click presses the button action on message m as user, with a decision
// chosen in each case row (by case id), and returns the envelope id.
func (w *world) click(user slacktest.User, m slacktest.Message, action string, choices map[int64]string) (string, error) {
	byBlock := make(map[string]string, len(choices))
	for id, v := range choices {
		byBlock[blocks.CaseBlockID(id)] = v
	}
	payload, err := slackdrive.ClickPayload(w.slack, user, m, action, byBlock)
	if err != nil {
		return "", err
	}
	return w.slack.SendInteraction(payload), nil
}

// awaitAcks waits for every envelope to be acknowledged.
func (w *world) awaitAcks(ids []string) error {
	for _, id := range ids {
		if _, ok := w.slack.WaitAck(id, patience); !ok {
			return fmt.Errorf("a click (envelope %s) was not acknowledged", id)
		}
	}
	return nil
}

// slackUser returns the Slack user of an Okta user id.
func (w *world) slackUser(oktaID string) (slacktest.User, bool) {
	u, ok := w.slackOf[oktaID]
	return u, ok
}
