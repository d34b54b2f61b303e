package hooks_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/hooks"
)

// Okta waits 3 s for an answer; a burst must be answered well inside it.
const oktaTimeout = 3 * time.Second

// burstResult is what one burst measured.
type burstResult struct {
	latencies []time.Duration // one per delivery, sorted
	failures  []string
	elapsed   time.Duration
}

func (r burstResult) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.latencies))+0.5) - 1
	return r.latencies[max(0, min(i, len(r.latencies)-1))]
}

// burst sends deliveries deliveries of perDelivery events each, all at
// once, as Okta does after an admin's bulk change; uuids are prefixed so
// repeated bursts stay distinct.
func burst(client *http.Client, url, prefix string, deliveries, perDelivery int) burstResult {
	bodies := make([]string, deliveries)
	for d := range bodies {
		events := make([]string, perDelivery)
		for e := range events {
			events[e] = oktaEvent(fmt.Sprintf("%s-%d-%d", prefix, d, e), "application.user_membership.add", `{"requestId":"r"}`)
		}
		bodies[d] = deliveryBody(events...)
	}
	var (
		mu  sync.Mutex
		res burstResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	for _, body := range bodies {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Authorization", secret)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			took := time.Since(t0)
			msg := ""
			if err != nil {
				msg = err.Error()
			} else {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					msg = resp.Status
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, took)
			if msg != "" {
				res.failures = append(res.failures, msg)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

func newBurstServer(tb testing.TB) (*httptest.Server, *hooks.Handler, func() int) {
	tb.Helper()
	st := openStore(tb)
	h := &hooks.Handler{Secret: secret, Store: st}
	mux := http.NewServeMux()
	mux.Handle("/okta/events", h)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 200
	return srv, h, func() int { return stored(tb, st) }
}

// TestHookBurst sends 1,000 events as 100 concurrent deliveries of 10 and
// checks every delivery got its 200 inside Okta's timeout (a generous
// bound: the race detector and a loaded CI machine are slow) and every
// event was stored once, even when the whole burst is delivered twice.
func TestHookBurst(t *testing.T) {
	srv, h, count := newBurstServer(t)
	res := burst(srv.Client(), srv.URL+"/okta/events", "t", 100, 10)
	if len(res.failures) > 0 {
		t.Fatalf("%d deliveries failed, first: %s", len(res.failures), res.failures[0])
	}
	if worst := res.quantile(1); worst > oktaTimeout {
		t.Fatalf("slowest delivery took %v; Okta gives up after %v", worst, oktaTimeout)
	}
	if n := count(); n != 1000 {
		t.Fatalf("stored %d events; want 1000", n)
	}
	if s := h.Stats(); s.Deliveries != 100 || s.Events != 1000 || s.Duplicates != 0 || s.Rejected() != 0 {
		t.Fatalf("stats = %+v", s)
	}
	t.Logf("1,000 events in %v: p50 %v, p99 %v", res.elapsed, res.quantile(0.5), res.quantile(0.99))

	// Okta's retry of the whole burst, say after a network blip hid our
	// answers: every delivery answered again, nothing stored twice.
	again := burst(srv.Client(), srv.URL+"/okta/events", "t", 100, 10)
	if len(again.failures) > 0 || again.quantile(1) > oktaTimeout {
		t.Fatalf("redelivered burst: %d failures, slowest %v", len(again.failures), again.quantile(1))
	}
	if n := count(); n != 1000 {
		t.Fatalf("stored %d events after the redelivery; want 1000", n)
	}
	if s := h.Stats(); s.Deliveries != 200 || s.Events != 2000 || s.Duplicates != 1000 {
		t.Fatalf("stats after the redelivery = %+v", s)
	}
}

// BenchmarkHookBurst measures one burst of 100 concurrent deliveries of
// 10 events per iteration, against a real SQLite store through HTTP, and
// reports the p99 delivery latency and the events stored per second.
func BenchmarkHookBurst(b *testing.B) {
	srv, _, count := newBurstServer(b)
	var all []time.Duration
	var busy time.Duration
	i := 0
	for b.Loop() {
		res := burst(srv.Client(), srv.URL+"/okta/events", fmt.Sprintf("b%d", i), 100, 10)
		if len(res.failures) > 0 {
			b.Fatalf("%d deliveries failed, first: %s", len(res.failures), res.failures[0])
		}
		all = append(all, res.latencies...)
		busy += res.elapsed
		i++
	}
	if n := count(); n != 1000*i {
		b.Fatalf("stored %d events; want %d", n, 1000*i)
	}
	slices.Sort(all)
	p99 := burstResult{latencies: all}.quantile(0.99)
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(1000*i)/busy.Seconds(), "events/s")
}
