package oktatest

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a fake Okta org serving an Org over HTTP, with Okta's paging,
// rate limits and errors. It is safe for concurrent requests.
type Server struct {
	// URL is the org URL, without a trailing slash: http://127.0.0.1:PORT.
	URL string
	// Token is the API token requests must carry as "SSWS <token>", unless
	// they carry an OAuth token of a service app (AddServiceApp).
	Token string

	ts     *httptest.Server
	cfg    config
	routes []route

	dataMu sync.Mutex
	org    *Org
	idx    *index // nil after a mutation, until the next request

	mu        sync.Mutex // guards everything below
	lim       *limiter
	faults    []*fault
	reqs      []Request
	reqsEpoch int // bumped by ResetStats, so late answers do not land in a new list
	stats     Stats

	push pushes // Okta Verify pushes (factors.go)

	writeScope writeScope // users a scoped admin may not change (scope.go)

	oauth oauthState // service apps, tokens and DPoP (oauth.go)

	inFlight atomic.Int64
	seq      atomic.Uint64 // error and request ids
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// At is when the request arrived, on the server's clock.
	At     time.Time
	Bucket Bucket
	// Status is the status answered; 0 while the request is in flight.
	Status int
}

// Stats counts what the server served since it started or since the last
// ResetStats.
type Stats struct {
	// Calls counts requests per bucket, refused and failed ones included.
	Calls map[Bucket]int
	// Total is the number of requests.
	Total int
	// TooMany counts 429s served, by the rate limiter, the concurrency
	// limit or FailNext; TooManyBy splits them per bucket.
	TooMany   int
	TooManyBy map[Bucket]int
	// ServerErrors counts 5xx responses injected by FailNext; Injected
	// counts every FailNext response.
	ServerErrors, Injected int
	// Unauthorized counts 401s.
	Unauthorized int
	// MaxInFlight is the most requests served at once.
	MaxInFlight int
	// Peak is the most requests admitted in one rate-limit window, per
	// bucket: how close a client ran to the limit.
	Peak map[Bucket]int
}

// config is what the options set.
type config struct {
	token       string
	limits      map[Bucket]int
	window      time.Duration
	latency     time.Duration
	maxInFlight int
	maxPage     map[List]int
	logNow      func() time.Time
	clock       func() time.Time
}

// Option configures a Server.
type Option func(*config)

// WithToken sets the API token (default "test-token").
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithLimits overrides per-window limits of the given buckets; the others
// keep OktaDefaultLimits. A limit of zero or less switches the bucket's
// limiting off, and its responses then carry no X-Rate-Limit headers.
func WithLimits(limits map[Bucket]int) Option {
	return func(c *config) { maps.Copy(c.limits, limits) }
}

// WithWindow sets the rate-limit window (default one minute). It must be
// a whole number of seconds, at least one; NewServer panics otherwise.
func WithWindow(d time.Duration) Option { return func(c *config) { c.window = d } }

// WithLatency makes every request take at least d, as a network would.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithConcurrencyLimit refuses requests beyond n in flight with a 429, as
// Okta's per-org concurrency limit does (75 on most orgs). Off by default.
func WithConcurrencyLimit(n int) Option { return func(c *config) { c.maxInFlight = n } }

// WithMaxPageSize caps the page size of one list below (or above) Okta's,
// to force paging on small orgs.
func WithMaxPageSize(l List, n int) Option { return func(c *config) { c.maxPage[l] = n } }

// WithNow sets the System Log's "now": the default until of a polling
// query. The default is the Org's Now.
func WithNow(now func() time.Time) Option { return func(c *config) { c.logNow = now } }

// WithClock sets the wall clock used for the Date header, rate-limit
// windows and Request.At (default time.Now). Clients compute waits from
// Date and X-Rate-Limit-Reset, so a fake clock here lets tests cross a
// window without sleeping.
func WithClock(clock func() time.Time) Option { return func(c *config) { c.clock = clock } }

// NewServer starts serving org. Call Close when done. It panics on an
// invalid option, as httptest does on setup errors.
func NewServer(org *Org, opts ...Option) *Server {
	cfg := config{
		token:   "test-token",
		limits:  OktaDefaultLimits(),
		window:  time.Minute,
		maxPage: map[List]int{},
		clock:   time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.window < time.Second || cfg.window%time.Second != 0 {
		panic(fmt.Sprintf("oktatest: window %v is not a whole number of seconds >= 1s", cfg.window))
	}
	if cfg.logNow == nil {
		now := org.Now
		cfg.logNow = func() time.Time { return now }
	}
	s := &Server{Token: cfg.token, cfg: cfg, org: org, lim: newLimiter(cfg.window, cfg.limits)}
	s.stats = newStats()
	s.registerRoutes()
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	s.view() // index now rather than on the first request
	return s
}

func newStats() Stats {
	return Stats{Calls: map[Bucket]int{}, TooManyBy: map[Bucket]int{}, Peak: map[Bucket]int{}}
}

// Close stops the server and waits for requests in flight.
func (s *Server) Close() { s.ts.Close() }

// Client returns an http.Client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Calls = maps.Clone(s.stats.Calls)
	st.TooManyBy = maps.Clone(s.stats.TooManyBy)
	st.Peak = s.lim.peaks()
	return st
}

// ResetStats zeroes the counters and forgets the recorded requests. The
// rate-limit budget of the current window is kept: Okta's does not reset
// either.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
	s.reqs = nil
	s.reqsEpoch++
	s.lim.resetPeaks()
}

// Requests returns a copy of every request received since the start or
// the last ResetStats, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	copy(out, s.reqs)
	return out
}
