package slacktest

// The Web API pipeline every /api/ call goes through: parse (form or JSON),
// latency, record, injected HTTP failures, unknown methods, authentication,
// scopes, rate limits, injected Slack errors, then the method's handler.

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenKind is the kind of token a method requires.
type tokenKind int

const (
	botTokenKind tokenKind = iota
	appTokenKind
)

// method is one Web API method the fake serves.
type method struct {
	token  tokenKind
	handle func(s *Server, r *request) (map[string]any, *apiError)
}

// methods are the Web API methods served; the handlers run with s.mu held.
var methods = map[string]method{
	"auth.test":                    {botTokenKind, (*Server).authTest},
	"auth.teams.list":              {botTokenKind, (*Server).authTeamsList},
	"apps.connections.open":        {appTokenKind, (*Server).appsConnectionsOpen},
	"chat.postMessage":             {botTokenKind, (*Server).chatPostMessage},
	"chat.update":                  {botTokenKind, (*Server).chatUpdate},
	"chat.postEphemeral":           {botTokenKind, (*Server).chatPostEphemeral},
	"conversations.open":           {botTokenKind, (*Server).conversationsOpen},
	"conversations.history":        {botTokenKind, (*Server).conversationsHistory},
	"users.list":                   {botTokenKind, (*Server).usersList},
	"users.info":                   {botTokenKind, (*Server).usersInfo},
	"users.lookupByEmail":          {botTokenKind, (*Server).usersLookupByEmail},
	"usergroups.list":              {botTokenKind, (*Server).usergroupsList},
	"usergroups.users.list":        {botTokenKind, (*Server).usergroupsUsersList},
	"views.open":                   {botTokenKind, (*Server).viewsOpen},
	"views.push":                   {botTokenKind, (*Server).viewsPush},
	"views.update":                 {botTokenKind, (*Server).viewsUpdate},
	"views.publish":                {botTokenKind, (*Server).viewsPublish},
	"files.getUploadURLExternal":   {botTokenKind, (*Server).filesGetUploadURLExternal},
	"files.completeUploadExternal": {botTokenKind, (*Server).filesCompleteUploadExternal},
}

// request is one parsed Web API call. Exactly one of form and body is set.
type request struct {
	method string
	form   url.Values
	body   map[string]any
	token  string
}

// has reports whether the parameter was sent at all.
func (r *request) has(key string) bool {
	if r.body != nil {
		_, ok := r.body[key]
		return ok
	}
	_, ok := r.form[key]
	return ok
}

// str returns a parameter as a string: form values as sent, JSON strings
// as is, other JSON values re-encoded (so "blocks" reads the same either way).
func (r *request) str(key string) string {
	if r.body == nil {
		return r.form.Get(key)
	}
	switch v := r.body[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// apiError is a Slack error answer: {"ok":false,"error":code,...}.
type apiError struct {
	code     string
	messages []string // response_metadata.messages
	errs     []string // "errors", as chat methods add for invalid_blocks
	// needed and provided name the scopes of a missing_scope answer.
	needed, provided string
}

// fail builds an apiError.
func fail(code string, messages ...string) *apiError {
	return &apiError{code: code, messages: messages}
}

// answer is a Web API answer, encoded while s.mu is held and written after.
type answer struct {
	status int
	body   []byte // JSON, or HTML for 5xx
}

// serveAPI parses a call, waits the configured latency, runs the pipeline
// and writes the answer.
func (s *Server) serveAPI(w http.ResponseWriter, hr *http.Request) {
	r, err := parseRequest(hr)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	if d := s.cfg.latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-hr.Context().Done():
			t.Stop()
		}
	}
	a := s.call(r)
	switch {
	case a.status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	case a.status >= 500:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// call records r and runs it through the pipeline.
func (s *Server) call(r *request) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	idx := len(s.st.calls)
	s.st.calls = append(s.st.calls, Call{Method: r.method, Form: r.form, JSON: r.body, Token: r.token, At: now})
	s.st.counts[r.method]++
	reply := func(status int, code string, body map[string]any) answer {
		s.st.calls[idx].Status, s.st.calls[idx].Error = status, code
		b, _ := json.Marshal(body)
		return answer{status, b}
	}
	refuse := func(e *apiError) answer { return reply(http.StatusOK, e.code, errorBody(e)) }

	if status, ok := s.st.takeHTTPFault(r.method); ok {
		return s.failure(status, reply)
	}
	m, ok := methods[r.method]
	if !ok {
		return refuse(fail("unknown_method"))
	}
	if e := checkToken(m.token, r.token); e != nil {
		return refuse(e)
	}
	if m.token == botTokenKind {
		if e := s.checkScope(r); e != nil {
			return refuse(e)
		}
	}
	if !s.st.allow(s.cfg, r, now) {
		return s.failure(http.StatusTooManyRequests, reply)
	}
	if code, ok := s.st.takeErrFault(r.method); ok {
		return refuse(fail(code))
	}
	out, e := m.handle(s, r)
	if e != nil {
		return refuse(e)
	}
	if out == nil {
		out = map[string]any{}
	}
	out["ok"] = true
	s.ws.broadcast() // wake WaitMessages and friends
	return reply(http.StatusOK, "", out)
}

// failure answers a non-200 status the way Slack does, and counts it: 429
// with Retry-After and a JSON body, other statuses with an HTML page.
func (s *Server) failure(status int, reply func(int, string, map[string]any) answer) answer {
	if status == http.StatusTooManyRequests {
		s.st.counts["429"]++
		return reply(status, "ratelimited", map[string]any{"ok": false, "error": "ratelimited"})
	}
	if status >= 500 {
		s.st.counts["5xx"]++
	}
	a := reply(status, "", nil)
	a.body = fmt.Appendf(nil, "<html><body>%d %s</body></html>", status, http.StatusText(status))
	return a
}

// parseRequest reads the method name, the parameters and the token.
func parseRequest(hr *http.Request) (*request, error) {
	r := &request{method: hr.PathValue("method")}
	ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if ct == "application/json" {
		b, err := io.ReadAll(io.LimitReader(hr.Body, 10<<20))
		if err != nil {
			return nil, err
		}
		r.body = map[string]any{}
		if len(strings.TrimSpace(string(b))) > 0 && string(b) != "null\n" && string(b) != "null" {
			if err := json.Unmarshal(b, &r.body); err != nil {
				return nil, err
			}
		}
	} else {
		if err := hr.ParseForm(); err != nil {
			return nil, err
		}
		r.form = hr.Form
		r.token = hr.Form.Get("token")
	}
	if auth := hr.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		r.token = strings.TrimPrefix(auth, "Bearer ")
	}
	return r, nil
}

// checkToken answers Slack's errors for a missing, wrong or misplaced token.
func checkToken(want tokenKind, token string) *apiError {
	switch {
	case token == "":
		return fail("not_authed")
	case want == botTokenKind && token == AppToken, want == appTokenKind && token == BotToken:
		return fail("not_allowed_token_type")
	case want == botTokenKind && token != BotToken, want == appTokenKind && token != AppToken:
		return fail("invalid_auth")
	}
	return nil
}

// errorBody is the JSON of an apiError.
func errorBody(e *apiError) map[string]any {
	body := map[string]any{"ok": false, "error": e.code}
	if len(e.errs) > 0 {
		body["errors"] = e.errs
	}
	if e.code == "missing_scope" {
		body["needed"], body["provided"] = e.needed, e.provided
	}
	if len(e.messages) > 0 {
		body["response_metadata"] = map[string]any{"messages": e.messages}
	}
	return body
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authTest answers auth.test for the bot.
func (s *Server) authTest(_ *request) (map[string]any, *apiError) {
	if s.Grid() {
		return s.gridAuthTest(), nil
	}
	return map[string]any{
		"url":     "https://" + TeamDomain + ".slack.com/",
		"team":    "Fake Workspace",
		"user":    "attest",
		"team_id": TeamID,
		"user_id": BotUserID,
		"bot_id":  BotID,
		// Slack adds enterprise_id for an Enterprise Grid workspace; the
		// fake workspace is standalone.
		"is_enterprise_install": false,
	}, nil
}
