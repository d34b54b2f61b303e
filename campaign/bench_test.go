package campaign_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/heap"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/pgtest"
	"github.com/attestbot/attest/store"
)

// Run with: go test -run '^$' -bench . -benchtime 1x ./campaign/
// The 2M cases take minutes of setup; -short skips them.

var sizes = []struct {
	name string
	p    oktatest.Params
}{
	{"200k", oktatest.MercariSized(1)},
	{"2M", oktatest.Params{Seed: 1, Users: 80000, Apps: 5000, Groups: 14000}},
}

// backends are the stores the engine benchmark runs on: SQLite, and
// PostgreSQL when ATTEST_TEST_DATABASE_URL names a server (each run in a
// schema of its own).
func backends() []string {
	if base, _ := pgtest.BaseURL(); base != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// benchStore is a store holding one synthetic snapshot of the given size.
// It returns the org's reference time and a few of its users' emails, not
// the org, so the generator's memory is freed before anything is measured.
func benchStore(b *testing.B, p oktatest.Params, backend string) (*store.Store, benchOrg) {
	b.Helper()
	org := oktatest.Generate(p)
	where := filepath.Join(b.TempDir(), "attest.db")
	if backend == "postgres" {
		where = pgtest.URL(b)
	}
	st, err := store.Open(context.Background(), where)
	if err != nil {
		b.Fatal(err)
	}
	snap := org.Snapshot()
	if _, err := st.SaveSnapshot(context.Background(), snap, campaign.Count(snap)); err != nil {
		b.Fatal(err)
	}
	bo := benchOrg{Now: org.Now, Owner: org.Users[0].Email}
	runtime.GC()
	return st, bo
}

// benchOrg is what the benchmarks keep of a generated org.
type benchOrg struct {
	Now   time.Time
	Owner string
}

// BenchmarkPlan measures `attest plan`: load the latest snapshot from
// SQLite, index it, build and flag the cases, summarise.
func BenchmarkPlan(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			if testing.Short() && sz.name == "2M" {
				b.Skip("-short")
			}
			st, org := benchStore(b, sz.p, "sqlite")
			defer st.Close()
			def, _ := campaign.ParseDefinition("b.yaml", []byte("name: bench\n"))
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				runtime.GC()
				stop := heap.Sample()
				start := time.Now()
				info, err := st.LatestSnapshot(ctx)
				if err != nil {
					b.Fatal(err)
				}
				snap, err := st.LoadSnapshot(ctx, info.ID)
				if err != nil {
					b.Fatal(err)
				}
				cs, err := campaign.BuildCases(campaign.NewIndex(snap), def, org.Now)
				if err != nil {
					b.Fatal(err)
				}
				sum := campaign.Summarize(cs)
				took := time.Since(start)
				b.ReportMetric(took.Seconds(), "s/plan")
				b.ReportMetric(stop(), "peak_heap_MiB")
				b.ReportMetric(float64(info.Counts.Relations), "relations")
				b.ReportMetric(float64(sum.Cases), "cases")
			}
		})
	}
}

// BenchmarkEngine measures case generation (Launch: freeze the snapshot,
// build the cases, store them) and the stage transition (stage 1 deadline
// passes; Tick moves to stage 2 and notifies every reviewer), then close
// (outcomes for every case, the remediation plan, history).
func BenchmarkEngine(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			if testing.Short() && sz.name == "2M" {
				b.Skip("-short")
			}
			for _, backend := range backends() {
				b.Run(backend, func(b *testing.B) { benchmarkEngine(b, sz.p, backend) })
			}
		})
	}
}

// benchmarkEngine is one size of BenchmarkEngine on one backend.
func benchmarkEngine(b *testing.B, p oktatest.Params, backend string) {
	st, org := benchStore(b, p, backend)
	defer st.Close()
	ctx := context.Background()
	now := org.Now
	notes := 0
	eng := &campaign.Engine{Store: st, Now: func() time.Time { return now },
		Notifier: campaign.NotifierFunc(func(context.Context, campaign.Notification) error { notes++; return nil })}
	yaml := "name: bench\nowner: " + org.Owner + "\nremediation: {no_decision: revoke}\n"
	def, err := campaign.ParseDefinition("b.yaml", []byte(yaml))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		stop := heap.Sample()
		start := time.Now()
		launchHeap := 0.0
		c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: yaml, Owner: campaign.System, Trigger: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		launch := time.Since(start)
		launchHeap = stop()
		runtime.GC()
		stop = heap.Sample()
		now = c.Stage1Ends.Add(time.Minute)
		notes = 0
		start = time.Now()
		if err := eng.Tick(ctx); err != nil {
			b.Fatal(err)
		}
		transition := time.Since(start)
		stage2Heap := stop()
		runtime.GC()
		stop = heap.Sample()
		start = time.Now()
		_, plan, err := eng.Close(ctx, c.ID, campaign.System)
		if err != nil {
			b.Fatal(err)
		}
		closing := time.Since(start)
		pr, _ := st.CaseProgress(ctx, c.ID)
		b.ReportMetric(launch.Seconds(), "s/launch")
		b.ReportMetric(transition.Seconds(), "s/stage2")
		b.ReportMetric(closing.Seconds(), "s/close")
		b.ReportMetric(float64(pr.Total), "cases")
		b.ReportMetric(float64(len(plan)), "plan_items")
		b.ReportMetric(launchHeap, "launch_heap_MiB")
		b.ReportMetric(stage2Heap, "stage2_heap_MiB")
		b.ReportMetric(stop(), "close_heap_MiB")
		b.Logf("%s: %d cases; launch %s, stage 2 %s (%d reviewer notices), close %s (%d plan items)",
			backend, pr.Total, launch, transition, notes, closing, len(plan))
		now = now.Add(time.Hour)
	}
}

// BenchmarkMemberAnswer measures one member answer in stage 1 of a
// campaign of the given size: the decision, its audit entry and the check
// whether the stage can end. Each op answers the next case, as members
// answering their forms one case after another.
func BenchmarkMemberAnswer(b *testing.B) {
	for _, backend := range backends() {
		b.Run("200k/"+backend, func(b *testing.B) {
			st, org := benchStore(b, sizes[0].p, backend)
			defer st.Close()
			ctx := context.Background()
			eng := &campaign.Engine{Store: st, Now: func() time.Time { return org.Now },
				Notifier: campaign.NotifierFunc(func(context.Context, campaign.Notification) error { return nil })}
			yaml := "name: bench\nowner: " + org.Owner + "\n"
			def, err := campaign.ParseDefinition("b.yaml", []byte(yaml))
			if err != nil {
				b.Fatal(err)
			}
			c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: yaml, Owner: campaign.System, Trigger: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			all, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
			if err != nil {
				b.Fatal(err)
			}
			var open []campaign.CaseRecord
			for _, cs := range all {
				if cs.MemberStage() {
					open = append(open, cs)
				}
			}
			if b.N > len(open) {
				b.Fatalf("%d answers asked, the campaign has %d member cases", b.N, len(open))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cs := open[i]
				if _, err := eng.Answer(ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: campaign.Actor{UserID: cs.UserID, Via: "bench"},
					CaseID: cs.ID, Decision: campaign.DecisionKeep}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
