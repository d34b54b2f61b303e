package okta_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/heap"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/store"
)

// BenchmarkSyncMercari syncs a Mercari-sized org (8,000 users, 500 apps,
// 1,400 groups, ~200,000 relations) from the fake Okta enforcing Okta's
// documented per-endpoint limits with one-second windows, into SQLite. It
// reports the wall time against the floor those limits set for the calls
// made (each bucket needs floor((calls-1)/limit) window resets), the ratio,
// API calls, 429s and the peak heap (fake server included).
//
//	go test -run '^$' -bench SyncMercari -benchtime 1x ./okta/
func BenchmarkSyncMercari(b *testing.B) {
	if testing.Short() {
		b.Skip("long benchmark")
	}
	org := oktatest.Generate(oktatest.MercariSized(1))
	limits := oktatest.OktaDefaultLimits()
	for i := 0; i < b.N; i++ {
		srv := oktatest.NewServer(org, oktatest.WithWindow(time.Second))
		st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "attest.db"))
		if err != nil {
			b.Fatal(err)
		}
		client, err := okta.New(context.Background(), okta.Options{OrgURL: srv.URL, Token: srv.Token, Logger: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := heap.Sample()
		start := time.Now()
		res, err := campaign.Sync(context.Background(), client, st, campaign.SyncOptions{Now: func() time.Time { return org.Now }})
		wall := time.Since(start)
		peak := stop()
		if err != nil {
			b.Fatal(err)
		}
		stats := srv.Stats()
		floor := 0.0
		for bucket, n := range stats.Calls {
			if lim := limits[bucket]; lim > 0 && n > 0 {
				if f := float64((n - 1) / lim); f > floor {
					floor = f
				}
			}
		}
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(floor, "floor_s")
		if floor > 0 {
			b.ReportMetric(wall.Seconds()/floor, "x_floor")
		}
		b.ReportMetric(float64(stats.Total), "api_calls")
		b.ReportMetric(float64(stats.TooMany), "429s")
		b.ReportMetric(peak, "peak_heap_MiB")
		b.ReportMetric(float64(res.Counts.Relations), "relations")
		b.Logf("calls per bucket %v; users %d groups %d apps %d memberships %d relations %d sign-ins %d",
			stats.Calls, res.Counts.Users, res.Counts.Groups, res.Counts.Apps, res.Counts.Memberships, res.Counts.Relations, res.Counts.SignIns)
		st.Close()
		srv.Close()
	}
}

// BenchmarkExecute10k removes 10,000 group memberships through the
// executor against the fake Okta held to 600 requests per window in every
// bucket (one-second windows for a short run). Each operation needs a fresh
// read before its DELETE and a read-back after the run, two reads in the
// users bucket, so the floor is 20,000/600 windows. It reports wall time
// against that floor, DELETEs and 429s.
//
//	go test -run '^$' -bench Execute10k -benchtime 1x ./okta/
func BenchmarkExecute10k(b *testing.B) {
	const n, limit = 10000, 600
	org := oktatest.Generate(oktatest.MercariSized(2))
	limits := map[oktatest.Bucket]int{oktatest.BucketUsers: limit, oktatest.BucketGroups: limit,
		oktatest.BucketGroupByID: limit, oktatest.BucketApps: limit, oktatest.BucketLogs: limit}
	var plan []campaign.PlanItem
	for _, g := range org.Groups {
		if g.Type != "OKTA_GROUP" {
			continue
		}
		for _, u := range org.Members[g.ID] {
			if len(plan) == n {
				break
			}
			plan = append(plan, campaign.PlanItem{Seq: len(plan) + 1, Kind: campaign.OpRemoveMembership, UserID: u, GroupID: g.ID})
		}
	}
	if len(plan) < n {
		b.Fatalf("only %d memberships to remove", len(plan))
	}
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		srv := oktatest.NewServer(oktatest.Generate(oktatest.MercariSized(2)), oktatest.WithWindow(time.Second), oktatest.WithLimits(limits))
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "attest.db"))
		if err != nil {
			b.Fatal(err)
		}
		snap := org.Snapshot()
		if _, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap)); err != nil {
			b.Fatal(err)
		}
		c := &campaign.Campaign{Name: "bench", Owner: "iam@example.com", DefinitionYAML: "name: bench\n", SnapshotID: snap.ID,
			State: campaign.StateRemediating, CreatedAt: time.Now()}
		id, err := st.CreateCampaign(ctx, c, nil, campaign.Event{Type: "campaign.created"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.QueueOperations(ctx, id, plan); err != nil {
			b.Fatal(err)
		}
		client, err := okta.New(ctx, okta.Options{OrgURL: srv.URL, Token: srv.Token, Logger: zerolog.Nop(), Concurrency: 8})
		if err != nil {
			b.Fatal(err)
		}
		x := &campaign.Executor{Store: st, Ops: st, Okta: client, Worker: "bench", Workers: 8}
		start := time.Now()
		sum, err := x.Run(ctx, id)
		wall := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		floor := float64(2*n) / limit
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(floor, "floor_s")
		b.ReportMetric(wall.Seconds()/floor, "x_floor")
		b.ReportMetric(float64(srv.Deletes()), "deletes")
		b.ReportMetric(float64(srv.Stats().TooMany), "429s")
		b.ReportMetric(float64(sum.ByResult[campaign.ResultRemoved]), "removed")
		st.Close()
		srv.Close()
	}
}
