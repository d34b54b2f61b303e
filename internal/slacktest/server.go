// Package slacktest is a stateful fake Slack for tests and benchmarks: an
// httptest server that speaks Slack's Web API (form-encoded and JSON
// bodies, {"ok":...} answers, 429s with Retry-After) and Socket Mode (a
// websocket sending hello, pings and envelopes, and recording acks), so
// that slack-go's Client and socketmode.Client work against it unchanged.
//
// It keeps a directory (users, user groups, channels), every message,
// ephemeral message, view and upload the bot made, and refuses what Slack
// refuses: Block Kit limits, expired trigger ids, unknown channels and
// messages, wrong tokens and rate limits.
package slacktest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// The identities of the fake workspace and app.
const (
	// BotToken is the only bot token the Web API accepts.
	BotToken = "xoxb-test"
	// AppToken is the only app-level token apps.connections.open accepts.
	AppToken = "xapp-test"
	// TeamID and TeamDomain name the workspace.
	TeamID     = "T0FAKE"
	TeamDomain = "fake"
	// AppID is the app's id, as in api_app_id.
	AppID = "A0FAKE"
	// BotUserID and BotID identify the bot: messages it posts carry them.
	BotUserID = "U0FAKEBOT"
	BotID     = "B0FAKEBOT"
	// SlackbotID is Slackbot, which users.list includes as Slack does.
	SlackbotID = "USLACKBOT"
)

// Server is a fake Slack workspace serving the Web API under /api/ and
// Socket Mode under /link/. It is safe for concurrent use.
type Server struct {
	ts  *httptest.Server
	cfg config

	handlers sync.WaitGroup // websocket connections being served

	mu sync.Mutex // guards everything below
	st state
	ws socketState
}

// config is what the options set.
type config struct {
	rates         map[string]float64
	chanRate      float64
	chanBurst     int
	latency       time.Duration
	pingInterval  time.Duration
	triggerTTL    time.Duration
	ackTimeout    time.Duration
	builtinUsers  bool
	noMessagesTab bool
	scopes        map[string]bool // nil: every scope granted
	grid          []Workspace     // nil: one standalone workspace (WithGrid)
	notOrgReady   bool            // WithManifest without org_deploy_enabled
	now           func() time.Time
}

// Option configures a Server.
type Option func(*config)

// WithRateLimit limits calls of one Web API method to perSecond, with a
// burst of one second's worth (at least one call). Calls beyond it are
// answered HTTP 429 with "Retry-After: 1" and {"ok":false,"error":"ratelimited"}.
func WithRateLimit(method string, perSecond float64) Option {
	return func(c *config) { c.rates[method] = perSecond }
}

// WithChannelRate limits chat.postMessage to perSecond per channel with
// bursts of up to burst messages, as Slack does (about one a second per
// channel). Off by default.
func WithChannelRate(perSecond float64, burst int) Option {
	return func(c *config) { c.chanRate, c.chanBurst = perSecond, max(burst, 1) }
}

// WithLatency makes every Web API call take at least d.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithPingInterval sets how often the server pings each Socket Mode
// connection (default 5s). Zero or less sends no pings at all: slack-go
// then drops the connection after its ping timeout (30s by default) and
// reconnects.
func WithPingInterval(d time.Duration) Option { return func(c *config) { c.pingInterval = d } }

// WithTriggerTTL sets how long a trigger_id stays valid (default 3s, as
// on Slack), so tests can expire one without waiting.
func WithTriggerTTL(d time.Duration) Option { return func(c *config) { c.triggerTTL = d } }

// WithAckTimeout makes the server redeliver an events_api envelope that
// was not acked within d, as Slack does after 3 seconds: a new envelope id,
// retry_attempt one more, retry_reason "timeout", at most MaxRetries
// times. Off by default: tests call Redeliver instead.
func WithAckTimeout(d time.Duration) Option { return func(c *config) { c.ackTimeout = d } }

// WithoutBuiltinUsers leaves the bot user and Slackbot out of users.list
// and users.info, which otherwise list them as Slack does.
func WithoutBuiltinUsers() Option { return func(c *config) { c.builtinUsers = false } }

// WithMessagesTabDisabled makes posts to direct-message channels fail
// with "messages_tab_disabled", as when the app's Messages tab is off.
func WithMessagesTabDisabled() Option { return func(c *config) { c.noMessagesTab = true } }

// WithClock sets the clock for message timestamps, trigger expiry, rate
// limits and Call.At (default time.Now). Ack latency is always measured
// on the real clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New starts a fake Slack. Call Close when done.
func New(opts ...Option) *Server {
	cfg := config{
		rates:        map[string]float64{},
		pingInterval: 5 * time.Second,
		triggerTTL:   3 * time.Second,
		builtinUsers: true,
		now:          time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.grid != nil && cfg.notOrgReady {
		panic("slacktest: WithGrid with a manifest that is not org-ready (settings.org_deploy_enabled: false): " +
			"Slack installs only org-ready apps on a whole Enterprise Grid org")
	}
	s := &Server{cfg: cfg}
	s.st = newState()
	s.st.workspaces = slices.Clone(cfg.grid)
	s.ws = newSocketState()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("/link/", s.serveLink)
	mux.HandleFunc("/upload/v1/{file}", s.serveUpload)
	mux.HandleFunc("/response/{id}", s.serveResponseURL)
	s.ts = httptest.NewServer(mux)
	return s
}

// Close disconnects every Socket Mode client, waits for the HTTP
// deliveries in flight and stops the server.
func (s *Server) Close() {
	s.closeSockets()
	s.handlers.Wait()
	s.closeHTTP()
	s.ts.Close()
}

// URL is the server's root, e.g. "http://127.0.0.1:PORT", without a
// trailing slash.
func (s *Server) URL() string { return s.ts.URL }

// APIURL is the Web API base to pass to slack.OptionAPIURL:
// "http://127.0.0.1:PORT/api/", with its trailing slash.
func (s *Server) APIURL() string { return s.ts.URL + "/api/" }

// Client returns a slack-go client for the fake, authenticated with
// BotToken and AppToken; opts are applied after those.
func (s *Server) Client(opts ...slack.Option) *slack.Client {
	all := append([]slack.Option{slack.OptionAppLevelToken(AppToken), slack.OptionAPIURL(s.APIURL())}, opts...)
	return slack.New(BotToken, all...)
}

// now reads the configured clock.
func (s *Server) now() time.Time { return s.cfg.now() }

// randomHex returns n random bytes as hex; ids need to be unguessable
// only in the sense that tests must not hard-code them.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("slacktest: random: %v", err))
	}
	return hex.EncodeToString(b)
}

// newUUID returns a random UUID, the shape of Slack's envelope ids.
func newUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
