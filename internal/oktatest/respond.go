package oktatest

// How the fake answers: Okta's error bodies, and paged lists with their
// limits, opaque cursors and Link headers.

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Okta error codes the fake answers with.
const (
	CodeValidation     = "E0000001" // 400 Api validation failed
	CodeForbidden      = "E0000006" // 403
	CodeNotFound       = "E0000007" // 404
	CodeInternal       = "E0000009" // 500
	CodeReadOnly       = "E0000010" // 503
	CodeInvalidToken   = "E0000011" // 401
	CodeMethod         = "E0000022" // 405
	CodeInvalidSearch  = "E0000031" // 400 bad filter or search
	CodeUserStatus     = "E0000038" // 403 operation not allowed in the user's current status
	CodeGroupGranted   = "E0000046" // 403 deactivate application for user forbidden
	CodeRateLimited    = "E0000047" // 429
	SummaryRateLimited = "API call exceeded rate limit due to too many requests."
)

// apiError is an Okta error response. causes are the errorSummary of each
// errorCauses entry.
type apiError struct {
	status  int
	code    string
	summary string
	causes  []string
}

// errorFor returns the Okta error a given status is answered with when
// nothing more specific is known (FailNext).
func errorFor(status int) apiError {
	switch status {
	case http.StatusBadRequest:
		return apiError{status: status, code: CodeValidation, summary: "Api validation failed"}
	case http.StatusUnauthorized:
		return apiError{status: status, code: CodeInvalidToken, summary: "Invalid token provided"}
	case http.StatusForbidden:
		return apiError{status: status, code: CodeForbidden, summary: "You do not have permission to perform the requested action"}
	case http.StatusNotFound:
		return apiError{status: status, code: CodeNotFound, summary: "Not found: Resource not found"}
	case http.StatusMethodNotAllowed:
		return apiError{status: status, code: CodeMethod, summary: "The endpoint does not support the provided HTTP method"}
	case http.StatusTooManyRequests:
		return apiError{status: status, code: CodeRateLimited, summary: SummaryRateLimited}
	case http.StatusServiceUnavailable:
		return apiError{status: status, code: CodeReadOnly, summary: "Service is in read only mode"}
	}
	if status >= 500 {
		return apiError{status: status, code: CodeInternal, summary: "Internal Server Error"}
	}
	return apiError{status: status, code: CodeValidation, summary: "Api validation failed"}
}

func notFound(id, kind string) *apiError {
	return &apiError{status: http.StatusNotFound, code: CodeNotFound, summary: "Not found: Resource not found: " + id + " (" + kind + ")"}
}

func badRequest(what string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeValidation, summary: "Api validation failed: " + what}
}

func badSearch() *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalidSearch, summary: "Invalid search criteria."}
}

// writeError sends e in Okta's shape. The errorId is unique per response,
// like Okta's.
func (s *Server) writeError(w http.ResponseWriter, e apiError) {
	b := make([]byte, 0, 256)
	b = append(b, `{"errorCode":`...)
	b = appendString(b, e.code)
	b = append(b, `,"errorSummary":`...)
	b = appendString(b, e.summary)
	b = append(b, `,"errorLink":`...)
	b = appendString(b, e.code)
	b = append(b, `,"errorId":`...)
	b = appendString(b, hashID("oae", strconv.FormatUint(s.seq.Add(1), 10)))
	b = append(b, `,"errorCauses":[`...)
	for i, c := range e.causes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"errorSummary":`...)
		b = appendString(b, c)
		b = append(b, '}')
	}
	b = append(b, `]}`...)
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// List names one of the paged list endpoints.
type List string

// The paged lists.
const (
	ListUsers        List = "users"         // GET /api/v1/users
	ListGroups       List = "groups"        // GET /api/v1/groups
	ListGroupRules   List = "group-rules"   // GET /api/v1/groups/rules
	ListGroupMembers List = "group-members" // GET /api/v1/groups/{id}/users
	ListApps         List = "apps"          // GET /api/v1/apps
	ListAppUsers     List = "app-users"     // GET /api/v1/apps/{id}/users
	ListAppGroups    List = "app-groups"    // GET /api/v1/apps/{id}/groups
	ListLogs         List = "logs"          // GET /api/v1/logs
)

// pageSizes are Okta's default (no limit parameter) and largest page
// sizes per list; a larger limit is clamped to the largest.
var pageSizes = map[List]struct{ def, max int }{
	ListUsers:        {200, 200},
	ListGroups:       {10000, 10000},
	ListGroupRules:   {50, 200},
	ListGroupMembers: {1000, 1000},
	ListApps:         {20, 200},
	ListAppUsers:     {50, 500},
	ListAppGroups:    {20, 200},
	ListLogs:         {100, 1000},
}

// MaxPageSize returns Okta's largest page size for a list.
func MaxPageSize(l List) int { return pageSizes[l].max }

// DefaultPageSize returns the page size Okta uses for a list when the
// request has no limit.
func DefaultPageSize(l List) int { return pageSizes[l].def }

// page is a parsed paging request.
type page struct {
	limit int
	after string // the decoded cursor; "" for the first page
}

// parsePage reads limit and after for list l.
func (s *Server) parsePage(r *http.Request, l List) (page, *apiError) {
	q := r.URL.Query()
	sz := pageSizes[l]
	maxSize := sz.max
	if m, ok := s.cfg.maxPage[l]; ok && m > 0 {
		maxSize = m
	}
	p := page{limit: min(sz.def, maxSize)}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest("limit: not a number")
		}
		if n > 0 {
			p.limit = min(n, maxSize)
		}
	}
	if v := q.Get("after"); v != "" {
		key, ok := decodeCursor(v)
		if !ok {
			return p, badRequest("after: invalid cursor")
		}
		p.after = key
	}
	return p, nil
}

// The cursor is opaque to clients: a versioned, encoded sort key of the
// last item served. Keys make paging stable when the data changes between
// pages: nothing is served twice and nothing that stayed is skipped.
const cursorPrefix = "oktatest.v1:"

func encodeCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + key))
}

func decodeCursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
		return "", false
	}
	return strings.TrimPrefix(string(b), cursorPrefix), true
}

// window returns the positions of the next page of a list of n items
// sorted by key: up to limit positions after the cursor key whose items
// match, and whether more matching items follow.
func window(n int, key func(int) string, match func(int) bool, p page) (out []int, more bool) {
	start := 0
	if p.after != "" {
		start = sort.Search(n, func(i int) bool { return key(i) > p.after })
	}
	for i := start; i < n; i++ {
		if match != nil && !match(i) {
			continue
		}
		if len(out) == p.limit {
			return out, true
		}
		out = append(out, i)
	}
	return out, false
}

// writePage sends a JSON array with Okta's Link headers: rel="self" for
// the request and, when next is not "", rel="next" with the same query
// and after=next. Links are absolute, on the server's own host.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, body []byte, next string) {
	self := s.URL + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if next != "" {
		q := r.URL.Query()
		q.Set("after", next)
		w.Header().Add("Link", "<"+s.URL+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeJSON sends one object.
func writeJSON(w http.ResponseWriter, body []byte) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// listBody renders items as a JSON array.
func listBody(idx []int, size int, appendItem func(b []byte, i int) []byte) []byte {
	b := make([]byte, 0, 2+len(idx)*size)
	b = append(b, '[')
	for k, i := range idx {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, i)
	}
	return append(b, ']')
}
