package store

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/heap"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slackrec"
)

// Benchmarks run once per backend, like the tests (TestMain): their names
// carry the backend. Run with
//
//	ATTEST_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//	  go test -run '^$' -bench 'SaveSnapshot|ClaimWith3Replicas' -benchtime 1x ./store/

// BenchmarkSaveSnapshot writes a Mercari-sized org's snapshot (8,000 users,
// 500 apps, 1,400 groups, ~200k relations) and a 2M-relation one.
func BenchmarkSaveSnapshot(b *testing.B) {
	for _, sz := range []struct {
		name string
		p    oktatest.Params
	}{
		{"mercari", oktatest.MercariSized(1)},
		{"2M", oktatest.Params{Seed: 1, Users: 80000, Apps: 5000, Groups: 14000}},
	} {
		b.Run(sz.name+"/"+testBackend, func(b *testing.B) {
			if testing.Short() && sz.name == "2M" {
				b.Skip("-short")
			}
			snap := oktatest.Generate(sz.p).Snapshot()
			counts := campaign.Count(snap)
			st := openTemp(b)
			runtime.GC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				stop := heap.Sample()
				if _, err := st.SaveSnapshot(context.Background(), snap, counts); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(stop(), "heap_MiB")
			}
			b.ReportMetric(float64(counts.Relations), "relations")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/snapshot")
		})
	}
}

// BenchmarkClaimWith3Replicas: three stores on one database (three
// replicas) drain an outbox of 20,000 items and an executor's 20,000
// operations at once. No item or operation is claimed twice.
func BenchmarkClaimWith3Replicas(b *testing.B) {
	const items = 20000
	b.Run(testBackend, func(b *testing.B) {
		ctx := context.Background()
		first, snapID := openCampaignStore(b)
		replicas := []*Store{first}
		// On SQLite three handles on one file stand for the replicas
		// (SQLite serialises their claims); on PostgreSQL three pools.
		for len(replicas) < 3 {
			st, err := Open(ctx, first.target)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			replicas = append(replicas, st)
		}
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			c := createCampaign(b, first, snapID, sampleCases())
			out := make([]slackrec.OutboxItem, items)
			for j := range out {
				out[j] = slackrec.OutboxItem{Key: fmt.Sprintf("b%d:%d", i, j), Kind: slackrec.KindPost, Target: fmt.Sprintf("okta:00u%d", j),
					Payload: slackrec.Payload{Text: "x"}}
			}
			if _, err := first.Enqueue(ctx, out...); err != nil {
				b.Fatal(err)
			}
			plan := make([]campaign.PlanItem, items)
			for j := range plan {
				plan[j] = campaign.PlanItem{Seq: j + 1, Kind: campaign.OpRemoveMembership, UserID: fmt.Sprintf("00u%d", j), GroupID: "00g1"}
			}
			if _, err := first.QueueOperations(ctx, c.ID, plan); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			var mu sync.Mutex
			seenItems, seenOps := map[int64]int{}, map[int]int{}
			var wg sync.WaitGroup
			errs := make(chan error, 6)
			for r, st := range replicas {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for {
						got, err := st.ClaimHeads(ctx, time.Now().Add(time.Hour), 64, nil)
						if err != nil {
							errs <- err
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, it := range got {
							seenItems[it.ID]++
						}
						mu.Unlock()
						for _, it := range got {
							if err := st.OutboxSent(ctx, it.ID, "D1", "1.0"); err != nil {
								errs <- err
								return
							}
						}
					}
				}()
				go func() {
					defer wg.Done()
					for {
						got, err := st.ClaimOperations(ctx, c.ID, fmt.Sprintf("replica-%d", r), time.Now(), 64)
						if err != nil {
							errs <- err
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, op := range got {
							seenOps[op.Seq]++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			took := time.Since(start)
			if len(seenItems) != items || len(seenOps) != items {
				b.Fatalf("claimed %d items and %d operations, want %d each", len(seenItems), len(seenOps), items)
			}
			for id, n := range seenItems {
				if n != 1 {
					b.Fatalf("outbox item %d claimed %d times", id, n)
				}
			}
			for seq, n := range seenOps {
				if n != 1 {
					b.Fatalf("operation %d claimed %d times", seq, n)
				}
			}
			b.ReportMetric(float64(2*items)/took.Seconds(), "claims/s")
		}
	})
}
