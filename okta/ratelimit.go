package okta

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Okta meters each endpoint family separately; these are the families our
// reads touch, named after the documented rate-limit buckets.
const (
	bucketUsers     = "/api/v1/users"
	bucketGroups    = "/api/v1/groups"
	bucketGroupByID = "/api/v1/groups/{id}"
	bucketApps      = "/api/v1/apps"
	bucketLogs      = "/api/v1/logs"
)

// bucketOf maps a request path to the rate-limit bucket Okta counts it in.
func bucketOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/v1/users"):
		return bucketUsers
	case path == "/api/v1/groups" || strings.HasPrefix(path, "/api/v1/groups/rules"):
		return bucketGroups
	case strings.HasPrefix(path, "/api/v1/groups/"):
		return bucketGroupByID
	case strings.HasPrefix(path, "/api/v1/apps"):
		return bucketApps
	case strings.HasPrefix(path, "/api/v1/logs"):
		return bucketLogs
	}
	return path
}

// resetSlack is added to a window's announced reset before sending again, so
// a clock a few milliseconds behind Okta's does not spend the first request
// of the new window on a 429.
const resetSlack = 25 * time.Millisecond

// bucket tracks what Okta last said about one rate-limit bucket, plus the
// requests we have sent into it that have not been answered yet.
type bucket struct {
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced whenever state changes
	heard     bool          // Okta has answered at least once
	metered   bool          // its answers carry X-Rate-Limit-* headers
	limit     int
	remaining int
	reset     time.Time // end of the current window; zero after a roll-over until Okta speaks
	rolled    time.Time // end of the last window we rolled past: answers from it are stale
	inflight  int
}

func newBucket() *bucket { return &bucket{changed: make(chan struct{})} }

// acquire blocks until a request may be sent into the bucket without
// exceeding its limit (less the reserved headroom), then counts it in flight.
func (b *bucket) acquire(ctx context.Context, now func() time.Time, headroom float64) error {
	for {
		b.mu.Lock()
		ok, wait := b.admit(now(), headroom)
		if ok {
			b.inflight++
			b.mu.Unlock()
			return nil
		}
		ch := b.changed
		b.mu.Unlock()
		if err := sleepOrSignal(ctx, wait, ch); err != nil {
			return err
		}
	}
}

// admit decides, under the lock, whether one more request fits; if not, how
// long until the window resets (0: until some answer changes the state).
func (b *bucket) admit(t time.Time, headroom float64) (bool, time.Duration) {
	switch {
	case !b.heard:
		// Learn the bucket's limit from one request before sending more.
		return b.inflight == 0, 0
	case !b.metered:
		return true, 0
	}
	if !b.reset.IsZero() && !t.Before(b.reset.Add(resetSlack)) {
		// The window is over: a fresh one holds the whole limit.
		b.rolled, b.reset, b.remaining = b.reset, time.Time{}, b.limit
	}
	if b.remaining-b.inflight > reserve(b.limit, headroom) {
		return true, 0
	}
	if b.reset.IsZero() {
		return false, 0
	}
	return false, b.reset.Add(resetSlack).Sub(t)
}

// reserve is how many requests of a window we leave for other integrations.
func reserve(limit int, headroom float64) int {
	if headroom <= 0 || limit <= 0 {
		return 0
	}
	return int(float64(limit)*headroom + 0.999)
}

// release records the answer to a request acquire admitted. A nil header
// (transport error) just frees the slot.
func (b *bucket) release(h http.Header, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight--
	if h != nil {
		b.observe(h, status)
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *bucket) observe(h http.Header, status int) {
	limit, errL := strconv.Atoi(h.Get("X-Rate-Limit-Limit"))
	remaining, errR := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	resetSec, errS := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if errL != nil || errR != nil || errS != nil || limit <= 0 {
		// No rate-limit headers: the endpoint is not metered this way;
		// a 429 without them is handled by the transport's backoff.
		if !b.heard {
			b.heard, b.metered = true, false
		}
		return
	}
	b.heard, b.metered = true, true
	reset := time.Unix(resetSec, 0)
	if !reset.After(b.rolled) {
		return // an answer from a window we already rolled past
	}
	if status == http.StatusTooManyRequests {
		remaining = 0
	}
	switch {
	case b.reset.IsZero() || reset.After(b.reset):
		b.limit, b.remaining, b.reset = limit, remaining, reset
	case reset.Equal(b.reset) && remaining < b.remaining:
		// Answers arrive out of order; the smallest count is the latest.
		b.remaining = remaining
	}
}

// sleepOrSignal waits for d (forever when d <= 0) or until ch closes.
func sleepOrSignal(ctx context.Context, d time.Duration, ch <-chan struct{}) error {
	if d <= 0 {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
