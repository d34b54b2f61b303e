package hooks_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/store"
)

// contentionSize is the org the contention benchmark writes: a tenth of
// Mercari's by default (800 users, 50 apps, 140 groups, about 20k
// relations, a 20k-case launch), so a run takes seconds on a shared
// machine; ATTEST_BENCH_ORG=full writes the whole of it (8,000 users, 500
// apps, 1,400 groups, about 200k relations, a 200k-case launch).
func contentionSize() (p oktatest.Params, cases int) {
	if os.Getenv("ATTEST_BENCH_ORG") == "full" {
		return oktatest.Params{Seed: 10, Users: 8000, Apps: 500, Groups: 1400}, 200_000
	}
	return oktatest.Params{Seed: 10, Users: 800, Apps: 50, Groups: 140}, 20_000
}

// launchCases turns a snapshot's relations (then its memberships, if
// there are too few) into n cases, the rows a company-wide launch writes.
func launchCases(snap *campaign.Snapshot, n int) []campaign.CaseRecord {
	out := make([]campaign.CaseRecord, 0, n)
	campaign.NewIndex(snap).EachRelation(func(r *campaign.Relation) {
		if len(out) < n {
			app := &snap.Apps[r.App]
			out = append(out, campaign.CaseRecord{UserID: snap.Users[r.User].ID, Kind: campaign.KindApp, EntitlementID: app.ID,
				Label: app.Label, Direct: r.Direct})
		}
	})
	for _, m := range snap.Memberships {
		if len(out) >= n {
			break
		}
		out = append(out, campaign.CaseRecord{UserID: m.UserID, Kind: campaign.KindGroup, EntitlementID: m.GroupID, Label: m.GroupID})
	}
	return out
}

// BenchmarkDeliveryDuringWrites sends 1,000 deliveries, one every 5 ms
// each on its own connection as Okta does, while the same main database
// takes directory syncs and company-wide launches back to back (each one
// transaction holding the write lock for seconds), through the real HTTP
// handler. A delivery is lost when it is not answered 200 within Okta's
// 3 s, or answered but not stored. It reports the p50 and p99 delivery
// latency, the lost count and how many big writes overlapped the run.
func BenchmarkDeliveryDuringWrites(b *testing.B) {
	const deliveries, every = 1000, 5 * time.Millisecond
	params, n := contentionSize()
	org := oktatest.Generate(params)
	snap := org.Snapshot()
	counts := campaign.Count(snap)
	cases := launchCases(snap, n)
	b.Logf("org: %d users, %d apps, %d groups, %d relations; launch of %d cases", len(snap.Users), len(snap.Apps),
		len(snap.Groups), counts.Relations, len(cases))
	var all []time.Duration
	lost, writes := 0, int64(0)
	for b.Loop() {
		ctx := context.Background()
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "attest.db"))
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(&hooks.Handler{Secret: secret, Store: st})
		// The writer: syncs and launches back to back until the deliveries
		// are done, so every delivery meets a held write lock.
		stop := make(chan struct{})
		var wrote atomic.Int64
		var wg sync.WaitGroup
		started := make(chan struct{})
		wg.Go(func() {
			close(started)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id, err := st.SaveSnapshot(ctx, snap, counts)
				if err != nil {
					b.Errorf("sync: %v", err)
					return
				}
				wrote.Add(1)
				c := &campaign.Campaign{Name: fmt.Sprintf("launch %d", i), Owner: "bench", DefinitionYAML: "name: bench\n",
					SnapshotID: id, State: campaign.StateStage1, Trigger: "bench"}
				if _, err := st.CreateCampaign(ctx, c, cases, campaign.Event{Type: "campaign.launched"}); err != nil {
					b.Errorf("launch: %v", err)
					return
				}
				wrote.Add(1)
			}
		})
		<-started
		time.Sleep(50 * time.Millisecond) // let the first sync take the lock
		lat, failed := deliverPaced(srv.URL, deliveries, every)
		close(stop)
		wg.Wait()
		srv.Close()
		stored := 0
		for uuid := range deliveries {
			if _, err := st.HookEvent(ctx, fmt.Sprintf("pace-%d", uuid)); err == nil {
				stored++
			}
		}
		st.Close()
		lost += max(failed, deliveries-stored)
		all = append(all, lat...)
		writes += wrote.Load()
	}
	slices.Sort(all)
	q := burstResult{latencies: all}
	b.ReportMetric(float64(q.quantile(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(q.quantile(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(writes)/float64(b.N), "big-writes/op")
}

// deliverPaced starts one delivery (of one event, uuid pace-i) every
// interval, each with Okta's 3 s timeout, and returns every latency and
// how many were not answered 200 in time.
func deliverPaced(url string, n int, interval time.Duration) ([]time.Duration, int) {
	client := &http.Client{Timeout: oktaTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	var (
		mu     sync.Mutex
		lat    []time.Duration
		failed int
		wg     sync.WaitGroup
	)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		wg.Go(func() {
			body := deliveryBody(oktaEvent(fmt.Sprintf("pace-%d", i), "application.user_membership.add", `{}`))
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Authorization", secret)
			t0 := time.Now()
			resp, err := client.Do(req)
			took := time.Since(t0)
			ok := err == nil && resp.StatusCode == http.StatusOK
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, took)
			if !ok {
				failed++
			}
		})
	}
	wg.Wait()
	return lat, failed
}
