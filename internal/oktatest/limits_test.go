package oktatest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the server.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// oktaError is an Okta error body.
type oktaError struct {
	ErrorCode, ErrorSummary, ErrorLink, ErrorID string
	ErrorCauses                                 []any
}

func decodeError(t *testing.T, body []byte) oktaError {
	t.Helper()
	var e oktaError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if e.ErrorLink != e.ErrorCode || !strings.HasPrefix(e.ErrorID, "oae") || e.ErrorCauses == nil {
		t.Errorf("error body %s: want errorLink = errorCode, errorId oae..., errorCauses []", body)
	}
	return e
}

func header(resp *http.Response, k string) int64 {
	n, _ := strconv.ParseInt(resp.Header.Get(k), 10, 64)
	return n
}

func TestRateLimitWindow(t *testing.T) {
	// 2.3 s into a 5 s window that ends at 2_000_000_015.
	t0 := time.Unix(2_000_000_010, 0).Add(2300 * time.Millisecond)
	clock := &fakeClock{now: t0}
	srv, _ := serve(t, small(1), WithLimits(map[Bucket]int{BucketApps: 3}), WithWindow(5*time.Second), WithClock(clock.Now))
	type step struct {
		name      string
		at        time.Time
		path      string
		status    int
		remaining int64
		reset     int64
	}
	steps := []step{
		{"first", t0, "/api/v1/apps", 200, 2, 2_000_000_015},
		{"second, subpath counts too", t0, "/api/v1/apps/nope/users", 404, 1, 2_000_000_015},
		{"third", t0.Add(2 * time.Second), "/api/v1/apps", 200, 0, 2_000_000_015},
		{"over the limit", t0.Add(2 * time.Second), "/api/v1/apps", 429, 0, 2_000_000_015},
		{"other bucket unaffected", t0.Add(2 * time.Second), "/api/v1/users", 200, 599, 2_000_000_015},
		{"new window", t0.Add(2700 * time.Millisecond), "/api/v1/apps", 200, 2, 2_000_000_020},
	}
	for _, st := range steps {
		clock.Set(st.at)
		resp, body := get(t, srv, st.path)
		if resp.StatusCode != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, resp.StatusCode, st.status, body)
		}
		if got := header(resp, "X-Rate-Limit-Remaining"); got != st.remaining {
			t.Errorf("%s: remaining %d, want %d", st.name, got, st.remaining)
		}
		if got := header(resp, "X-Rate-Limit-Reset"); got != st.reset {
			t.Errorf("%s: reset %d, want %d", st.name, got, st.reset)
		}
		if date, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !date.Equal(st.at.Truncate(time.Second)) {
			t.Errorf("%s: Date %q (%v), want %v", st.name, resp.Header.Get("Date"), err, st.at)
		}
		if st.status == 429 {
			e := decodeError(t, body)
			if e.ErrorCode != "E0000047" || e.ErrorSummary != SummaryRateLimited || header(resp, "X-Rate-Limit-Limit") != 3 {
				t.Errorf("429 body %s, limit %d", body, header(resp, "X-Rate-Limit-Limit"))
			}
		}
	}
	s := srv.Stats()
	if s.TooMany != 1 || s.TooManyBy[BucketApps] != 1 || s.Calls[BucketApps] != 5 || s.Peak[BucketApps] != 3 || s.Total != 6 {
		t.Errorf("stats = %+v", s)
	}
}

// The same with the wall clock: wait for the announced reset.
func TestRateLimitResetsOnWallClock(t *testing.T) {
	srv, _ := serve(t, small(1), WithLimits(map[Bucket]int{BucketLogs: 2}), WithWindow(time.Second))
	var resp *http.Response
	for range 10 { // two per window: a 429 comes by the third request of one
		if resp, _ = get(t, srv, "/api/v1/logs"); resp.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status = %d, want 429", resp.StatusCode)
	}
	time.Sleep(time.Until(time.Unix(header(resp, "X-Rate-Limit-Reset"), 0)) + 20*time.Millisecond)
	if resp, body := get(t, srv, "/api/v1/logs"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after reset: %d %s", resp.StatusCode, body)
	}
}

func TestDefaultHeaders(t *testing.T) {
	srv, _ := serve(t, small(1))
	for _, path := range []string{"/api/v1/users", "/api/v1/groups", "/api/v1/groups/x/users", "/api/v1/apps", "/api/v1/logs", "/nope"} {
		resp, _ := get(t, srv, path)
		reset := header(resp, "X-Rate-Limit-Reset")
		if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Date") == "" ||
			resp.Header.Get("X-Rate-Limit-Limit") == "" || reset%60 != 0 || reset <= time.Now().Unix()-1 {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
	}
	want := map[Bucket]int{BucketUsers: 600, BucketGroups: 600, BucketGroupByID: 600, BucketApps: 100, BucketLogs: 50}
	for b, n := range want {
		if OktaDefaultLimits()[b] != n {
			t.Errorf("default limit %s = %d, want %d", b, OktaDefaultLimits()[b], n)
		}
	}
}

func TestBucketOf(t *testing.T) {
	tests := []struct {
		path string
		want Bucket
	}{
		{"/api/v1/users", BucketUsers},
		{"/api/v1/users/00u1/groups", BucketUsers},
		{"/api/v1/groups", BucketGroups},
		{"/api/v1/groups/rules", BucketGroups},
		{"/api/v1/groups/rules/0pr1", BucketGroups},
		{"/api/v1/groups/00g1/users", BucketGroupByID},
		{"/api/v1/apps", BucketApps},
		{"/api/v1/apps/0oa1/groups", BucketApps},
		{"/api/v1/logs", BucketLogs},
		{"/api/v1/usersx", BucketOther},
		{"/oauth2/v1/token", BucketOther},
	}
	for _, tc := range tests {
		if got := BucketOf(tc.path); got != tc.want {
			t.Errorf("BucketOf(%s) = %s, want %s", tc.path, got, tc.want)
		}
	}
}

func TestAuthentication(t *testing.T) {
	srv, _ := serve(t, small(1), WithToken("s3cret"))
	tests := []struct {
		name, auth string
		status     int
	}{
		{"right token", "SSWS s3cret", 200},
		{"no header", "-", 401},
		{"wrong token", "SSWS nope", 401},
		{"bearer scheme", "Bearer s3cret", 401},
		{"lower-case scheme", "ssws s3cret", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, srv, http.MethodGet, "/api/v1/users?limit=1", tc.auth)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 401 {
				if e := decodeError(t, body); e.ErrorCode != "E0000011" || e.ErrorSummary != "Invalid token provided" {
					t.Errorf("body %s", body)
				}
			}
		})
	}
	if n := srv.Stats().Unauthorized; n != 4 {
		t.Errorf("Unauthorized = %d, want 4", n)
	}
}

func TestWindowMustBeWholeSeconds(t *testing.T) {
	org := Generate(Params{Seed: 1, Users: 3})
	tests := []struct {
		name   string
		window time.Duration
		panics bool
	}{
		{"one second", time.Second, false},
		{"two minutes", 2 * time.Minute, false},
		{"zero", 0, true},
		{"half a second", 500 * time.Millisecond, true},
		{"fractional", 1500 * time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if got := recover() != nil; got != tc.panics {
					t.Errorf("panicked = %v, want %v", got, tc.panics)
				}
			}()
			NewServer(org, WithWindow(tc.window)).Close()
		})
	}
}
