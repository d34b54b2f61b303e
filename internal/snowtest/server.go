// Package snowtest is a stateful fake ServiceNow for tests: an httptest
// server speaking the Table API for the incident and sc_task tables (201
// on create, {"result":...} answers with values as strings, ServiceNow's
// {"error":{"message","detail"},"status":"failure"} errors), basic auth and
// the OAuth client credentials token endpoint, with outages on demand.
//
// It serves under a non-empty base path, so a client that drops the base
// URL's path fails loudly.
package snowtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// The credentials the fake accepts.
const (
	Username     = "attest-integration"
	Password     = "snow-pass-S3CRET"
	ClientID     = "attest-oauth-client"
	ClientSecret = "snow-client-S3CRET"
	// BasePath is where the instance lives under the server's root.
	BasePath = "/instance"
)

// Call is one request the fake received.
type Call struct {
	Method string
	Path   string // under BasePath, e.g. /api/now/table/incident
	Query  string
	Auth   string // "basic", "bearer" or "" (none, or refused)
	Status int    // the status answered; 0 when the answer was dropped
}

// Server is a fake ServiceNow instance. It is safe for concurrent use.
type Server struct {
	ts *httptest.Server

	mu       sync.Mutex // guards everything below
	now      func() time.Time
	tokenTTL time.Duration
	tokens   map[string]time.Time // bearer token -> expiry
	issued   int
	tables   map[string]*table
	calls    []Call
	down     bool
	failNext []int
	limited  int
	loseNext int
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for token expiry and timestamps.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTokenTTL sets the lifetime of OAuth tokens (default 30 minutes, as
// ServiceNow's default).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// New starts a fake instance with empty incident and sc_task tables. Close
// it when done.
func New(opts ...Option) *Server {
	s := &Server{
		now:      time.Now,
		tokenTTL: 30 * time.Minute,
		tokens:   map[string]time.Time{},
		tables: map[string]*table{
			"incident": newTable("INC", incidentRules),
			"sc_task":  newTable("SCTASK", taskRules),
		},
	}
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// URL is the instance's base URL, http://127.0.0.1:PORT/instance.
func (s *Server) URL() string { return s.ts.URL + BasePath }

// Client returns an http.Client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// FailNext answers the next n requests with status (500 or 503 are the
// usual) and a ServiceNow error body, before looking at them.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, status)
	}
}

// Down makes every request, the token endpoint's included, answer 503
// while down is true.
func (s *Server) Down(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// RateLimit answers the next n requests 429 with "Retry-After: 1".
func (s *Server) RateLimit(n int) {
	s.mu.Lock()
	s.limited += n
	s.mu.Unlock()
}

// LoseNextAnswer makes the next n Table API requests take effect but drop their
// answers (the connection closes), as a timeout after the fact would.
func (s *Server) LoseNextAnswer(n int) {
	s.mu.Lock()
	s.loseNext += n
	s.mu.Unlock()
}

// ExpireTokens forgets every OAuth token issued, as an instance restart
// or a revoked client would.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// TokensIssued counts the OAuth tokens the fake has handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Records returns copies of a table's records in creation order; nil for
// an unknown table.
func (s *Server) Records(name string) []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[name]
	if t == nil {
		return nil
	}
	out := make([]map[string]string, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, clone(t.rows[id]))
	}
	return out
}

// Calls returns the requests received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// serve runs one request into a recorder, so the answer can be recorded
// in Calls or dropped.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.mu.Lock()
	call := Call{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, BasePath), Query: r.URL.RawQuery}
	lose := s.handle(rec, r, &call)
	call.Status = rec.Code
	if lose {
		call.Status = 0
	}
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	if lose {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// handle answers one request with s.mu held; true means drop the answer.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, call *Call) bool {
	switch {
	case s.down:
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable", "The instance is down for maintenance")
		return false
	case len(s.failNext) > 0:
		status := s.failNext[0]
		s.failNext = s.failNext[1:]
		writeError(w, status, http.StatusText(status), "injected failure")
		return false
	case s.limited > 0:
		s.limited--
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "Rate limit exceeded", "Too many requests for this user; try again later")
		return false
	}
	if !strings.HasPrefix(r.URL.Path, BasePath+"/") {
		writeError(w, http.StatusBadRequest, "Requested URI does not represent any resource", r.URL.Path)
		return false
	}
	path := strings.TrimPrefix(r.URL.Path, BasePath)
	if path == "/oauth_token.do" {
		s.token(w, r)
		return false
	}
	call.Auth = s.authenticate(r)
	if call.Auth == "" {
		writeError(w, http.StatusUnauthorized, "User Not Authenticated", "Required to provide Auth information")
		return false
	}
	rest, ok := strings.CutPrefix(path, "/api/now/table/")
	if !ok {
		writeError(w, http.StatusBadRequest, "Requested URI does not represent any resource", path)
		return false
	}
	s.tableAPI(w, r, rest)
	if s.loseNext > 0 {
		s.loseNext--
		return true
	}
	return false
}

// authenticate returns how r proved who it is, or "".
func (s *Server) authenticate(r *http.Request) string {
	if u, p, ok := r.BasicAuth(); ok {
		if u == Username && p == Password {
			return "basic"
		}
		return ""
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if exp, known := s.tokens[tok]; ok && known && s.now().Before(exp) {
		return "bearer"
	}
	return ""
}

// token is POST /oauth_token.do with the client credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeError(w, http.StatusBadRequest, "Invalid request", "POST a form")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != ClientID || r.PostForm.Get("client_secret") != ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "server_error", "error_description": "access_denied"})
		return
	}
	s.issued++
	tok := randomHex(32)
	s.tokens[tok] = s.now().Add(s.tokenTTL)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "scope": "useraccount", "token_type": "Bearer",
		"expires_in": int(s.tokenTTL / time.Second),
	})
}
