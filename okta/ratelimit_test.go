package okta

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func rlHeader(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

func TestBucketAdmission(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	reset := t0.Add(10 * time.Second)
	tests := []struct {
		name     string
		setup    func(b *bucket)
		at       time.Time
		headroom float64
		wantOK   bool
		wantWait time.Duration
	}{
		{name: "unknown bucket admits one probe", setup: func(b *bucket) {}, wantOK: true},
		{name: "unknown bucket holds the rest until the probe answers",
			setup: func(b *bucket) { b.inflight = 1 }, wantOK: false},
		{name: "room left", setup: func(b *bucket) { b.inflight = 1; b.release(rlHeader(10, 5, reset), 200); b.inflight = 4 }, wantOK: true},
		{name: "in-flight requests count against what is left",
			setup:  func(b *bucket) { b.inflight = 1; b.release(rlHeader(10, 5, reset), 200); b.inflight = 5 },
			wantOK: false, wantWait: 10*time.Second + resetSlack},
		{name: "exhausted waits for the reset",
			setup:  func(b *bucket) { b.inflight = 1; b.release(rlHeader(10, 0, reset), 200) },
			wantOK: false, wantWait: 10*time.Second + resetSlack},
		{name: "429 means exhausted whatever Remaining says",
			setup:  func(b *bucket) { b.inflight = 1; b.release(rlHeader(10, 3, reset), http.StatusTooManyRequests) },
			wantOK: false, wantWait: 10*time.Second + resetSlack},
		{name: "after the reset a fresh window admits",
			setup: func(b *bucket) { b.inflight = 1; b.release(rlHeader(10, 0, reset), 200) },
			at:    reset.Add(time.Second), wantOK: true},
		{name: "headroom keeps a reserve",
			setup:    func(b *bucket) { b.inflight = 1; b.release(rlHeader(100, 10, reset), 200) },
			headroom: 0.1, wantOK: false, wantWait: 10*time.Second + resetSlack},
		{name: "headroom leaves the rest usable",
			setup:    func(b *bucket) { b.inflight = 1; b.release(rlHeader(100, 11, reset), 200) },
			headroom: 0.1, wantOK: true},
		{name: "unmetered endpoint is not paced",
			setup: func(b *bucket) { b.inflight = 1; b.release(http.Header{}, 200); b.inflight = 50 }, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket()
			tc.setup(b)
			at := tc.at
			if at.IsZero() {
				at = t0
			}
			ok, wait := b.admit(at, tc.headroom)
			if ok != tc.wantOK || (!ok && wait != tc.wantWait) {
				t.Fatalf("admit = %v, %v; want %v, %v", ok, wait, tc.wantOK, tc.wantWait)
			}
		})
	}
}

func TestBucketOutOfOrderAndStaleAnswers(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	w1, w2 := t0.Add(time.Second), t0.Add(2*time.Second)
	b := newBucket()
	b.inflight = 3
	b.release(rlHeader(10, 4, w1), 200)
	b.release(rlHeader(10, 6, w1), 200) // older answer of the same window arriving late
	if b.remaining != 4 {
		t.Fatalf("remaining = %d, want the smaller count 4", b.remaining)
	}
	// Roll over into the next window, then a stale answer from w1 arrives.
	if ok, _ := b.admit(w1.Add(time.Second), 0); !ok {
		t.Fatal("new window should admit")
	}
	b.release(rlHeader(10, 0, w1), 200)
	if b.remaining != 10 {
		t.Fatalf("stale answer changed the new window: remaining = %d", b.remaining)
	}
	b.release(rlHeader(10, 9, w2), 200)
	if b.remaining != 9 || !b.reset.Equal(w2) {
		t.Fatalf("new window answer not taken: %d %v", b.remaining, b.reset)
	}
}

func TestBucketOf(t *testing.T) {
	cases := map[string]string{
		"/api/v1/users":                   bucketUsers,
		"/api/v1/users/00u1/groups":       bucketUsers,
		"/api/v1/groups":                  bucketGroups,
		"/api/v1/groups/rules":            bucketGroups,
		"/api/v1/groups/00g1/users":       bucketGroupByID,
		"/api/v1/apps":                    bucketApps,
		"/api/v1/apps/0oa1/users":         bucketApps,
		"/api/v1/apps/0oa1/groups":        bucketApps,
		"/api/v1/logs":                    bucketLogs,
		"/api/v1/authorizationServers/aa": "/api/v1/authorizationServers/aa",
	}
	for path, want := range cases {
		if got := bucketOf(path); got != want {
			t.Errorf("bucketOf(%s) = %s, want %s", path, got, want)
		}
	}
}
