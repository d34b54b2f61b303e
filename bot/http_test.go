package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/syncbuf"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/internal/storetest"
)

// counting is an Inbound that counts what reaches the handlers.
type counting struct {
	slashes, submits, clicks, homes atomic.Int32
	errs                            map[string]string
}

func (c *counting) Slash(context.Context, slack.SlashCommand) handlers.Reply {
	c.slashes.Add(1)
	return handlers.Reply{Text: "handled"}
}
func (c *counting) ViewSubmission(context.Context, slack.InteractionCallback) map[string]string {
	c.submits.Add(1)
	return c.errs
}
func (c *counting) BlockActions(context.Context, slack.InteractionCallback, string) { c.clicks.Add(1) }
func (c *counting) PublishHome(context.Context, string, string) error {
	c.homes.Add(1)
	return nil
}
func (c *counting) DM(context.Context, string, string, string) {}

// httpRig is a bot in HTTP mode behind a test server, the fake Slack
// delivering to it with the HTTP manifest's request URLs.
type httpRig struct {
	t        *testing.T
	slack    *slacktest.Server
	bot      *bot.Bot
	delivery slacktest.HTTPDelivery
	logs     *syncbuf.Buffer
	stop     func() // stops the bot: Run returns
}

func newHTTPRig(t *testing.T, h bot.Inbound, tweak func(*bot.Bot)) *httpRig {
	t.Helper()
	m := loadManifest(t, httpMode)
	srv := slacktest.New(slacktest.WithManifest(m))
	srv.AddUser(slacktest.User{ID: "U1", Name: "ann", Email: "ann@x.com"})
	srv.AddChannel("C1", "iam")
	r := &httpRig{t: t, slack: srv, logs: &syncbuf.Buffer{}}
	r.bot = &bot.Bot{API: srv.Client(), Handler: h, Log: zerolog.New(r.logs)}
	if tweak != nil {
		tweak(r.bot)
	}
	closeApp := serveBot(t, r.bot, srv, httpMode, m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.bot.Run(ctx) }()
	r.stop = func() { cancel(); <-done }
	t.Cleanup(func() { r.stop(); srv.Close(); closeApp() })
	var err error
	if r.delivery, err = slacktest.HTTPDeliveryFor(m, baseOf(t, srv), signingSecret); err != nil {
		t.Fatal(err)
	}
	return r
}

// baseOf reads back the base URL the fake delivers to.
func baseOf(t *testing.T, srv *slacktest.Server) string {
	t.Helper()
	id := srv.SendEvent(map[string]any{"type": "team_join"}) // acked, handled by nobody
	req, ok := srv.WaitHTTP(id, patience)
	if !ok || req.Status != http.StatusOK {
		t.Fatalf("the bot does not answer: %+v", req)
	}
	u, _ := url.Parse(req.URL)
	return u.Scheme + "://" + u.Host
}

// deliverWith makes the fake Slack deliver as tweak says from now on.
func (r *httpRig) deliverWith(tweak func(*slacktest.HTTPDelivery)) {
	d := r.delivery
	d.RetryDelays = []time.Duration{0, time.Millisecond, time.Millisecond}
	if tweak != nil {
		tweak(&d)
	}
	r.slack.DeliverOverHTTP(d)
}

func (r *httpRig) outcome(id string) slacktest.HTTPRequest {
	r.t.Helper()
	req, ok := r.slack.WaitHTTP(id, patience)
	if !ok {
		r.t.Fatalf("no answer to %s", id)
	}
	return req
}

// Nothing Slack did not sign, or signed more than five minutes ago (a
// captured request replayed), or larger than the cap, reaches a handler:
// each is refused with 401 (413 for the size) before it is read, and the
// log says why without showing the secret or a signature.
func TestHTTPRefusesUnverifiedRequests(t *testing.T) {
	h := &counting{}
	r := newHTTPRig(t, h, func(b *bot.Bot) { b.MaxBody = 4 << 10 })
	cmd := slacktest.SlashCommand{Command: "/access-review", Text: "status", UserID: "U1", ChannelID: "C1"}
	post := func(path string, header http.Header, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(r.delivery.EventsURL, bot.EventsPath)+path, strings.NewReader(body))
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	signed := func(body string, at time.Time) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		return http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			"X-Slack-Request-Timestamp": {ts}, "X-Slack-Signature": {slacktest.Sign(signingSecret, ts, []byte(body))}}
	}
	form := "command=%2Faccess-review&text=status&user_id=U1&trigger_id=1.2.3&channel_id=C1"
	tests := []struct {
		name string
		send func() int
		want int
	}{
		{"signed with another secret", func() int {
			r.deliverWith(func(d *slacktest.HTTPDelivery) { d.SigningSecret = "not-the-app-secret" })
			return r.outcome(r.slack.SendSlashCommand(cmd)).Status
		}, http.StatusUnauthorized},
		{"stamped six minutes ago (a replay outside the window)", func() int {
			r.deliverWith(func(d *slacktest.HTTPDelivery) { d.Now = func() time.Time { return time.Now().Add(-6 * time.Minute) } })
			return r.outcome(r.slack.SendSlashCommand(cmd)).Status
		}, http.StatusUnauthorized},
		{"stamped six minutes ahead", func() int {
			r.deliverWith(func(d *slacktest.HTTPDelivery) { d.Now = func() time.Time { return time.Now().Add(6 * time.Minute) } })
			return r.outcome(r.slack.SendSlashCommand(cmd)).Status
		}, http.StatusUnauthorized},
		{"event with another secret, retried by Slack", func() int {
			r.deliverWith(func(d *slacktest.HTTPDelivery) { d.SigningSecret = "not-the-app-secret" })
			id := r.slack.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"})
			if !r.slack.WaitRedeliveries(patience) {
				t.Fatal("retries never ended")
			}
			return r.outcome(id).Status
		}, http.StatusUnauthorized},
		{"interaction with another secret", func() int {
			r.deliverWith(func(d *slacktest.HTTPDelivery) { d.SigningSecret = "not-the-app-secret" })
			return r.outcome(r.slack.SendInteraction(map[string]any{"type": "view_submission", "user": map[string]any{"id": "U1"},
				"view": map[string]any{"id": "V1", "state": map[string]any{"values": map[string]any{}}}})).Status
		}, http.StatusUnauthorized},
		{"no signature headers", func() int {
			return post(bot.CommandsPath, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, form)
		}, http.StatusUnauthorized},
		{"signature of another body", func() int {
			return post(bot.CommandsPath, signed(form, time.Now()), strings.Replace(form, "status", "start+quarterly", 1))
		}, http.StatusUnauthorized},
		{"timestamp not a number", func() int {
			h := signed(form, time.Now())
			h.Set("X-Slack-Request-Timestamp", "yesterday")
			return post(bot.CommandsPath, h, form)
		}, http.StatusUnauthorized},
		{"body over the cap, signed", func() int {
			r.deliverWith(nil)
			big := cmd
			big.Text = strings.Repeat("x", 5<<10)
			return r.outcome(r.slack.SendSlashCommand(big)).Status
		}, http.StatusRequestEntityTooLarge},
		{"body over the cap, unsigned, without a length", func() int {
			req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(r.delivery.EventsURL, bot.EventsPath)+bot.EventsPath,
				strings.NewReader(strings.Repeat("x", 5<<10)))
			req.ContentLength = -1 // chunked: the cap holds while reading
			h := signed("", time.Now())
			req.Header = h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.send(); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
	// Refusals answer before any dispatch: nothing was handed on.
	if n := h.slashes.Load() + h.submits.Load() + h.clicks.Load() + h.homes.Load(); n != 0 {
		t.Fatalf("%d refused requests reached the handlers", n)
	}
	logs := r.logs.String()
	for _, want := range []string{"signature does not match the signing secret", "more than 5 minutes from now",
		"no X-Slack-Signature", "body too large"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no refusal logged as %q", want)
		}
	}
	for _, req := range r.slack.HTTPRequests() {
		if sig := req.Header.Get("X-Slack-Signature"); sig != "" && strings.Contains(logs, strings.TrimPrefix(sig, "v0=")[:16]) {
			t.Fatal("a signature was logged")
		}
	}
	if strings.Contains(logs, signingSecret) {
		t.Fatal("the signing secret was logged")
	}
	// The same request, signed as Slack signs it, is handled.
	r.deliverWith(nil)
	ack, ok := r.slack.WaitAck(r.slack.SendSlashCommand(cmd), patience)
	if !ok || !strings.Contains(string(ack.Payload), "handled") || h.slashes.Load() != 1 {
		t.Fatalf("a signed command: ack %s, handled %d", ack.Payload, h.slashes.Load())
	}
}

// The acks are Socket Mode's, as HTTP responses: a slash command's answer
// when ready in time (else the promise of a DM), field errors of a modal
// submission as response_action errors, a bare 200 for a click handled
// after; and url_verification is answered with its challenge.
func TestHTTPAcks(t *testing.T) {
	h := &counting{errs: map[string]string{"definition": "Pick one"}}
	r := newHTTPRig(t, h, nil)
	r.deliverWith(nil)
	if _, err := r.slack.VerifyEventsURL(); err != nil {
		t.Fatalf("url_verification: %v", err)
	}
	ack, ok := r.slack.WaitAck(r.slack.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", UserID: "U1", ChannelID: "C1"}), patience)
	if !ok || ackText(ack) != "handled" {
		t.Fatalf("slash ack %s", ack.Payload)
	}
	sub := map[string]any{"type": "view_submission", "user": map[string]any{"id": "U1"}, "trigger_id": "1.2.3",
		"view": map[string]any{"id": "V1", "type": "modal", "state": map[string]any{"values": map[string]any{}}}}
	ack, ok = r.slack.WaitAck(r.slack.SendInteraction(sub), patience)
	var resp struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if _ = json.Unmarshal(ack.Payload, &resp); !ok || resp.Action != "errors" || resp.Errors["definition"] != "Pick one" {
		t.Fatalf("view_submission ack %s", ack.Payload)
	}
	ch, ts, err := r.slack.Client().PostMessage("C1", slack.MsgOptionBlocks(slack.NewActionBlock("a",
		slack.NewButtonBlockElement("plan_approve", "x", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	click, err := r.slack.BlockActions(slacktest.User{ID: "U1", Name: "ann"}, ch, ts, []slacktest.Action{{ActionID: "plan_approve"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ack, ok = r.slack.WaitAck(r.slack.SendInteraction(click), patience)
	if !ok || ack.Payload != nil {
		t.Fatalf("click ack %s, want a bare 200", ack.Payload)
	}
	eventually(t, "the click handled", func() bool { return h.clicks.Load() == 1 })
	// Wrong secret: Slack would show the URL as unverified.
	r.deliverWith(func(d *slacktest.HTTPDelivery) { d.SigningSecret = "not-the-app-secret" })
	if req, err := r.slack.VerifyEventsURL(); err == nil || req.Status != http.StatusUnauthorized {
		t.Fatalf("url_verification with another secret: %d, %v", req.Status, err)
	}
}

// A slash command whose answer is late is acked with the promise of a DM,
// within Slack's 3 s, as over Socket Mode.
func TestHTTPSlowSlashCommand(t *testing.T) {
	release := make(chan struct{})
	h := &inbound{dms: make(chan string, 1), slash: func(context.Context, slack.SlashCommand) handlers.Reply {
		<-release
		return handlers.Reply{Text: "late answer"}
	}}
	srv, _ := botRigOver(t, httpMode, h, 50*time.Millisecond)
	ack, ok := srv.WaitAck(srv.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "status", UserID: "U1", ChannelID: "C1"}), patience)
	if !ok || ackText(ack) != bot.SlowReply || ack.Latency > 3*time.Second {
		t.Fatalf("ack %s after %s", ack.Payload, ack.Latency)
	}
	close(release)
	select {
	case dm := <-h.dms:
		if dm != "U1: late answer" {
			t.Fatalf("DM %q", dm)
		}
	case <-time.After(patience):
		t.Fatal("the late answer never came")
	}
}

// Slack redelivers an event it thinks was not acknowledged (a new
// envelope id over Socket Mode, X-Slack-Retry-Num over HTTP) with the same
// event_id: the redelivery is acked and handled once, on either transport.
func TestRedeliveredEventHandledOnce(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			st := storetest.WithOrg(t, oktatest.Generate(oktatest.Params{Seed: 2, Users: 4, Apps: 1, Groups: 1}))
			h := &counting{}
			srv, logs := botRigOver(t, tr, h, 0, func(b *bot.Bot) { b.Handled = st })
			id := srv.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
			eventually(t, "home published", func() bool { return h.homes.Load() == 1 })
			if _, ok := srv.WaitAck(srv.Redeliver(id), patience); !ok {
				t.Fatal("the redelivery was not acked")
			}
			eventually(t, "the redelivery dropped", func() bool { return strings.Contains(logs.String(), "handled already") })
			if n := h.homes.Load(); n != 1 {
				t.Fatalf("home published %d times for one event", n)
			}
		})
	}
}

// An event is handled once per event_id, whether Slack retries it
// (X-Slack-Retry-Num), someone replays the signed request within the
// window, or the retry reaches another replica or a restarted one: the
// store remembers. Once stopped, the bot refuses new requests with 503.
func TestHTTPEventsHandledOnce(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 2, Users: 4, Apps: 1, Groups: 1})
	st := storetest.WithOrg(t, org)
	h := &counting{}
	r := newHTTPRig(t, h, func(b *bot.Bot) { b.Handled = st })
	r.deliverWith(nil)
	dropped := func(logs *syncbuf.Buffer) int { return strings.Count(logs.String(), "handled already") }
	id := r.slack.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
	eventually(t, "home published", func() bool { return h.homes.Load() == 1 })

	replay, err := r.slack.Replay(id)
	if err != nil || replay.Status != http.StatusOK {
		t.Fatalf("replay: %d, %v", replay.Status, err)
	}
	eventually(t, "the replay dropped", func() bool { return dropped(r.logs) == 1 })

	retry := r.slack.Redeliver(id)
	if req := r.outcome(retry); req.Status != http.StatusOK || req.Header.Get("X-Slack-Retry-Num") != "1" {
		t.Fatalf("retry answered %d with headers %v", req.Status, req.Header)
	}
	eventually(t, "the retry dropped", func() bool { return dropped(r.logs) == 2 })
	if !strings.Contains(r.logs.String(), "slack retried an event") {
		t.Error("the retry was not logged")
	}
	if n := h.homes.Load(); n != 1 {
		t.Fatalf("home published %d times for one event", n)
	}

	// Another replica (or this one restarted) on the same store.
	r.stop()
	if req := r.outcome(r.slack.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"})); req.Status != http.StatusServiceUnavailable {
		t.Fatalf("a stopped bot answered %d, want 503", req.Status)
	}
	if !r.slack.WaitRedeliveries(patience) {
		t.Fatal("retries never ended")
	}
	h2 := &counting{}
	r2 := newHTTPRig(t, h2, func(b *bot.Bot) { b.Handled = st })
	r.slack.DeliverOverHTTP(r2.delivery)
	if req := r.outcome(r.slack.Redeliver(retry)); req.Status != http.StatusOK {
		t.Fatalf("retry to the other replica answered %d", req.Status)
	}
	eventually(t, "the other replica dropped the retry", func() bool { return dropped(r2.logs) == 1 })
	// A new event still reaches the handlers.
	r.slack.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"})
	eventually(t, "a new event handled", func() bool { return h2.homes.Load() == 1 })
	if h.homes.Load() != 1 {
		t.Fatalf("the first replica published %d homes", h.homes.Load())
	}
}

// A replayed slash command (same body, timestamp and signature, within
// the window) launches nothing twice: the handlers know its trigger.
func TestHTTPReplayedCommandLaunchesOnce(t *testing.T) {
	r := newRigOver(t, httpMode)
	id := r.slack.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "start quarterly",
		UserID: r.admin.ID, UserName: r.admin.Name, ChannelID: approvals})
	ack, ok := r.slack.WaitAck(id, patience)
	if !ok || !strings.Contains(ackText(ack), "Launched campaign 1") && ackText(ack) != bot.SlowReply {
		t.Fatalf("start: %s", ack.Payload)
	}
	replay, err := r.slack.Replay(id)
	if err != nil || replay.Status != http.StatusOK || len(replay.Response) != 0 {
		t.Fatalf("replay: %d %q, %v; want a bare 200", replay.Status, replay.Response, err)
	}
	r.h.Wait()
	list, err := r.st.ListCampaigns(r.ctx)
	if err != nil || len(list) != 1 || list[0].State != campaign.StateStage1 {
		t.Fatalf("campaigns after a replayed start = %+v, %v; want 1", list, err)
	}
}
