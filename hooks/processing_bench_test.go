package hooks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/hookevent"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/storetest"
	"github.com/attestbot/attest/store"
)

// countingStore counts the engine's full campaign listings.
type countingStore struct {
	*store.Store
	lists int
}

func (s *countingStore) ListCampaigns(ctx context.Context, states ...campaign.State) ([]campaign.Campaign, error) {
	s.lists++
	return s.Store.ListCampaigns(ctx, states...)
}

// processingRig is a store holding a small org's snapshot and n campaigns
// already opened by earlier events, with triggers that review grants of
// the org's first app (rated critical).
type processingRig struct {
	org   *oktatest.Org
	st    *store.Store
	count *countingStore
	tr    *hooks.Triggers
	p     *hooks.Processor
}

func newProcessingRig(tb testing.TB, campaigns int) *processingRig {
	tb.Helper()
	ctx := context.Background()
	org := oktatest.Generate(oktatest.Params{Seed: 6, Users: 200, Apps: 12, Groups: 20})
	st := storetest.WithOrg(tb, org)
	info, err := st.LatestSnapshot(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range campaigns {
		c := &campaign.Campaign{Name: fmt.Sprintf("Grant review %d", i), Owner: "okta-event", DefinitionYAML: "name: earlier\n",
			SnapshotID: info.ID, State: campaign.StateStage2, Trigger: fmt.Sprintf("event:earlier-%d", i)}
		cs := []campaign.CaseRecord{{UserID: org.Users[i%len(org.Users)].ID, Kind: campaign.KindApp, EntitlementID: org.Apps[0].ID,
			Label: org.Apps[0].Label, Direct: true}}
		if _, err := st.CreateCampaign(ctx, c, cs, campaign.Event{Type: "campaign.launched"}); err != nil {
			tb.Fatal(err)
		}
	}
	rules := campaign.RiskRules{Apps: map[string]string{org.Apps[0].Label: "critical"}}
	count := &countingStore{Store: st}
	eng := &campaign.Engine{Store: count, Risk: rules.Level, Now: func() time.Time { return org.Now }}
	tr := &hooks.Triggers{Engine: eng, Risk: rules.Level, IAMReviewers: []string{org.Users[0].Email}}
	p := &hooks.Processor{Store: st, Handle: tr.Handle, Log: zerolog.Nop()}
	return &processingRig{org: org, st: st, count: count, tr: tr, p: p}
}

// grants stores n grant events of the critical app, to users in turn.
func (r *processingRig) grants(tb testing.TB, prefix string, n int) {
	tb.Helper()
	app := r.org.Apps[0]
	evs := make([]hookevent.Event, 0, n)
	for i := range n {
		user := r.org.Users[(i*7+3)%len(r.org.Users)].ID
		ev, err := hookevent.DecodeEvent([]byte(grantEvent(fmt.Sprintf("%s-%d", prefix, i), "application.user_membership.add", user,
			"AppInstance", app.ID, app.Label)))
		if err != nil {
			tb.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := r.st.SaveHookEvents(context.Background(), evs); err != nil {
		tb.Fatal(err)
	}
}

// drain ticks until no event is left to process.
func (r *processingRig) drain(tb testing.TB) int {
	tb.Helper()
	total := 0
	for {
		n, err := r.p.Tick(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// Processing an event reads no list of campaigns: whether the event was
// reviewed before is one indexed lookup, so the cost of an event does not
// grow with the number of campaigns (it read all of them, and parsed
// each one's definition, for every event).
func TestProcessingReadsNoCampaignList(t *testing.T) {
	r := newProcessingRig(t, 50)
	r.grants(t, "ev", 5)
	r.grants(t, "ev", 5) // Okta's retries: stored once, reviewed once
	if n := r.drain(t); n != 5 {
		t.Fatalf("processed %d events; want 5", n)
	}
	if r.count.lists != 0 {
		t.Fatalf("processing 5 events listed every campaign %d times; want an indexed lookup", r.count.lists)
	}
	list, err := r.st.ListCampaigns(context.Background())
	if err != nil || len(list) != 55 {
		t.Fatalf("campaigns = %d, %v; want 50 + 5 reviews", len(list), err)
	}
	// A redelivered event (the same uuid, say after a lost Finish) opens
	// nothing new.
	ev, err := r.st.HookEvent(context.Background(), "ev-0")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.tr.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if again, _ := r.st.ListCampaigns(context.Background()); len(again) != 55 {
		t.Fatalf("a redelivered event opened another review: %d campaigns", len(again))
	}
}

// BenchmarkEventProcessing processes grant events of a critical app (each
// opens a one-case review) with 10 and 1,000 campaigns already in the
// store, and reports events per second.
func BenchmarkEventProcessing(b *testing.B) {
	for _, campaigns := range []int{10, 1000} {
		b.Run(fmt.Sprintf("campaigns=%d", campaigns), func(b *testing.B) {
			r := newProcessingRig(b, campaigns)
			b.ResetTimer()
			done := 0
			for i := 0; i < b.N; i += hooks.DefaultBatch {
				b.StopTimer() // storing the events is the handler's work, not processing
				r.grants(b, fmt.Sprintf("b%d", i), min(hooks.DefaultBatch, b.N-i))
				b.StartTimer()
				done += r.drain(b)
			}
			if done != b.N {
				b.Fatalf("processed %d events; want %d", done, b.N)
			}
			b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
