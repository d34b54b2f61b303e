package oktatest

// What refuses a request before it reaches its handler: Okta's rate-limit
// buckets and windows, and the failures tests script with FailNext.

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bucket names one of Okta's rate-limit buckets: requests to the paths of
// a bucket share one budget per window.
type Bucket string

// Okta's rate-limit buckets for the endpoints the fake serves.
const (
	// BucketUsers is /api/v1/users and everything under it.
	BucketUsers Bucket = "users"
	// BucketGroups is the group list /api/v1/groups and the group rules
	// under /api/v1/groups/rules.
	BucketGroups Bucket = "groups"
	// BucketGroupByID is /api/v1/groups/{id} and everything under it.
	BucketGroupByID Bucket = "group-by-id"
	// BucketApps is /api/v1/apps and everything under it, app users and
	// app groups included.
	BucketApps Bucket = "apps"
	// BucketLogs is the System Log, /api/v1/logs.
	BucketLogs Bucket = "logs"
	// BucketOther is every other path.
	BucketOther Bucket = "other"
)

// Buckets lists every bucket, in a stable order.
var Buckets = []Bucket{BucketUsers, BucketGroups, BucketGroupByID, BucketApps, BucketLogs, BucketOther}

// BucketOf returns the bucket a request path counts against.
func BucketOf(path string) Bucket {
	switch {
	case path == "/api/v1/users" || strings.HasPrefix(path, "/api/v1/users/"):
		return BucketUsers
	case path == "/api/v1/groups" || path == "/api/v1/groups/rules" || strings.HasPrefix(path, "/api/v1/groups/rules/"):
		return BucketGroups
	case strings.HasPrefix(path, "/api/v1/groups/"):
		return BucketGroupByID
	case path == "/api/v1/apps" || strings.HasPrefix(path, "/api/v1/apps/"):
		return BucketApps
	case path == "/api/v1/logs" || strings.HasPrefix(path, "/api/v1/logs/"):
		return BucketLogs
	}
	return BucketOther
}

// OktaDefaultLimits returns Okta's default per-minute limits for an
// Enterprise org: users 600, groups 600, group-by-id 600, apps 100, logs 50,
// and 1200 for everything else.
func OktaDefaultLimits() map[Bucket]int {
	return map[Bucket]int{
		BucketUsers:     600,
		BucketGroups:    600,
		BucketGroupByID: 600,
		BucketApps:      100,
		BucketLogs:      50,
		BucketOther:     1200,
	}
}

// limiter counts requests per bucket in fixed windows aligned to
// wall-clock multiples of the window length, as Okta does. It is not safe
// for concurrent use; the server serializes calls.
type limiter struct {
	window int64 // seconds
	limits map[Bucket]int
	state  map[Bucket]*bucketState
}

type bucketState struct {
	win      int64 // index of the window the counts belong to
	used     int   // requests counted in the window, 429s included
	admitted int   // requests in the window that were not refused
	peak     int   // most requests admitted in one window
}

func newLimiter(window time.Duration, limits map[Bucket]int) *limiter {
	return &limiter{
		window: int64(window / time.Second),
		limits: maps.Clone(limits),
		state:  map[Bucket]*bucketState{},
	}
}

// quota is what one request learned about its bucket.
type quota struct {
	metered   bool // the bucket has a limit; headers are sent
	limit     int
	remaining int
	reset     int64 // epoch seconds of the window's end
	ok        bool  // the request is within the limit
}

// take counts one request against b at now.
func (l *limiter) take(b Bucket, now time.Time) quota {
	sec := now.Unix()
	win := sec / l.window
	st := l.state[b]
	if st == nil {
		st = &bucketState{win: win}
		l.state[b] = st
	}
	if st.win != win {
		st.win, st.used, st.admitted = win, 0, 0
	}
	limit := l.limits[b]
	q := quota{ok: limit <= 0 || st.used < limit, reset: (win + 1) * l.window}
	st.used++
	if q.ok {
		st.admitted++
		st.peak = max(st.peak, st.admitted)
	}
	if limit > 0 {
		q.metered, q.limit, q.remaining = true, limit, max(limit-st.used, 0)
	}
	return q
}

// peaks returns the most requests admitted in one window, per bucket.
func (l *limiter) peaks() map[Bucket]int {
	out := map[Bucket]int{}
	for _, b := range Buckets {
		if st := l.state[b]; st != nil {
			out[b] = st.peak
		}
	}
	return out
}

// resetPeaks forgets the peaks, keeping the current windows' counts: the
// budget Okta tracks does not reset because a test looks away.
func (l *limiter) resetPeaks() {
	for _, st := range l.state {
		st.peak = st.admitted
	}
}

// setHeaders writes Okta's rate-limit headers for q.
func (q quota) setHeaders(h http.Header) {
	if !q.metered {
		return
	}
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(q.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(q.remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(q.reset, 10))
}

// fault is a scripted failure queued by FailNext.
type fault struct {
	prefix string
	status int
	left   int
}

// FailNext makes the next n requests whose path starts with pathPrefix
// fail with status and Okta's error body for it: 500 E0000009, 503
// E0000010, 403 E0000006, 429 E0000047 (with X-Rate-Limit-Remaining 0), and
// so on. The requests still count against their rate-limit bucket. Faults
// queue in order: a request takes the first queued fault it matches.
func (s *Server) FailNext(pathPrefix string, status int, n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{prefix: pathPrefix, status: status, left: n})
}

// takeFault returns the status of the first queued fault matching path,
// or 0. The caller holds s.mu.
func (s *Server) takeFault(path string) int {
	for i, f := range s.faults {
		if strings.HasPrefix(path, f.prefix) {
			if f.left--; f.left == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f.status
		}
	}
	return 0
}
