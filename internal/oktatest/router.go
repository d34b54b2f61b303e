package oktatest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status written.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// serve is the pipeline every request goes through: latency, accounting
// against the bucket, the concurrency limit, scripted faults,
// authentication (SSWS or an OAuth token with its scopes, oauth_api.go),
// then the route; /oauth2/v1/token needs no token (oauth.go).
func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	n := int(s.inFlight.Add(1))
	defer s.inFlight.Add(-1)
	if s.cfg.latency > 0 {
		t := time.NewTimer(s.cfg.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	now := s.cfg.clock()
	b := BucketOf(r.URL.Path)
	overConc := s.cfg.maxInFlight > 0 && n > s.cfg.maxInFlight
	s.mu.Lock()
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, n)
	q := s.lim.take(b, now)
	injected := 0
	if q.ok && !overConc {
		injected = s.takeFault(r.URL.Path)
	}
	reqAt, epoch := len(s.reqs), s.reqsEpoch
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), At: now, Bucket: b})
	s.stats.Total++
	s.stats.Calls[b]++
	s.mu.Unlock()

	w := &statusWriter{ResponseWriter: rw}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("X-Okta-Request-Id", hashID("req", strconv.FormatUint(s.seq.Add(1), 10)))
	q.setHeaders(h)
	switch {
	case !q.ok:
		s.writeError(w, errorFor(http.StatusTooManyRequests))
	case overConc:
		s.writeError(w, errorFor(http.StatusTooManyRequests))
	case injected != 0:
		if injected == http.StatusTooManyRequests && q.metered {
			q.remaining = 0
			q.setHeaders(h)
		}
		s.writeError(w, errorFor(injected))
	case r.URL.Path == "/oauth2/v1/token":
		s.serveToken(w, r)
	case s.refuse(w, r):
	default:
		s.dispatch(w, r)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch == s.reqsEpoch {
		s.reqs[reqAt].Status = w.status
	}
	switch {
	case w.status == http.StatusTooManyRequests:
		s.stats.TooMany++
		s.stats.TooManyBy[b]++
	case w.status == http.StatusUnauthorized:
		s.stats.Unauthorized++
	}
	if injected != 0 {
		s.stats.Injected++
		if injected >= 500 {
			s.stats.ServerErrors++
		}
	}
}

// view returns the index to serve from, rebuilding it after a mutation.
func (s *Server) view() *index {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	if s.idx == nil {
		s.idx = newIndex(s.org, s.URL)
	}
	return s.idx
}

// handler serves one route. params holds the path's {name} segments.
type handler func(w http.ResponseWriter, r *http.Request, params map[string]string)

// route is one method and path pattern, such as
// GET /api/v1/groups/{id}/users.
type route struct {
	method string
	segs   []string
	h      handler
}

// registerRoutes lists every endpoint. More specific patterns come first:
// the first match wins, so /api/v1/groups/rules is not taken for a group
// id. Adding an endpoint (a DELETE, say) is one line here.
func (s *Server) registerRoutes() {
	s.handle("GET", "/api/v1/users", s.listUsers)
	s.handle("GET", "/api/v1/users/{id}", s.getUser)
	s.handle("GET", "/api/v1/users/{id}/groups", s.listUserGroups)
	s.handle("GET", "/api/v1/users/{id}/factors", s.listFactors)
	s.handle("POST", "/api/v1/users/{id}/factors/{factorId}/verify", s.verifyFactor)
	s.handle("GET", "/api/v1/users/{id}/factors/{factorId}/transactions/{tx}", s.factorTransaction)

	s.handle("GET", "/api/v1/groups", s.listGroups)
	s.handle("GET", "/api/v1/groups/rules", s.listRules)
	s.handle("GET", "/api/v1/groups/rules/{id}", s.getRule)
	s.handle("GET", "/api/v1/groups/{id}", s.getGroup)
	s.handle("GET", "/api/v1/groups/{id}/users", s.listGroupMembers)
	s.handle("DELETE", "/api/v1/groups/{id}/users/{userId}", s.removeGroupMember)
	s.handle("PUT", "/api/v1/groups/{id}/users/{userId}", s.addGroupMember)
	s.handle("GET", "/api/v1/groups/{id}/apps", s.listGroupApps)

	s.handle("GET", "/api/v1/apps", s.listApps)
	s.handle("GET", "/api/v1/apps/{id}", s.getApp)
	s.handle("GET", "/api/v1/apps/{id}/users", s.listAppUsers)
	s.handle("GET", "/api/v1/apps/{id}/users/{userId}", s.getAppUser)
	s.handle("DELETE", "/api/v1/apps/{id}/users/{userId}", s.unassignAppUser)
	s.handle("GET", "/api/v1/apps/{id}/groups", s.listAppGroups)

	s.handle("GET", "/api/v1/logs", s.listLogs)
}

// handle registers h for method and pattern.
func (s *Server) handle(method, pattern string, h handler) {
	s.routes = append(s.routes, route{method: method, segs: splitPath(pattern), h: h})
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match reports whether segs fits the route, filling params.
func (rt *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	var params map[string]string
	for i, want := range rt.segs {
		if strings.HasPrefix(want, "{") && strings.HasSuffix(want, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[want[1:len(want)-1]] = segs[i]
			continue
		}
		if segs[i] != want {
			return nil, false
		}
	}
	return params, true
}

// dispatch routes r to its handler: 405 E0000022 when the path exists for other methods
// only, 404 E0000007 when it does not exist at all.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	segs := splitPath(r.URL.Path)
	var allowed []string
	for i := range s.routes {
		rt := &s.routes[i]
		params, ok := rt.match(segs)
		if !ok {
			continue
		}
		if rt.method == r.Method || rt.method == http.MethodGet && r.Method == http.MethodHead {
			rt.h(w, r, params)
			return
		}
		if !slices.Contains(allowed, rt.method) {
			allowed = append(allowed, rt.method)
		}
		// A later, less specific pattern may still serve this method.
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, errorFor(http.StatusMethodNotAllowed))
		return
	}
	s.writeError(w, *notFound(r.URL.Path, "Path"))
}
