package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// openCampaignStore opens a store with a fixed clock and one snapshot, and
// returns it with the snapshot's id.
func openCampaignStore(t testing.TB) (*Store, int64) {
	t.Helper()
	return openCampaignStoreAt(t, target(t, t.TempDir()+"/attest.db"))
}

// openCampaignStoreAt is openCampaignStore at a given path or URL.
func openCampaignStoreAt(t testing.TB, where string) (*Store, int64) {
	t.Helper()
	st, err := Open(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Now = func() time.Time { return t0.Add(time.Hour) }
	id, err := st.SaveSnapshot(context.Background(), sampleSnapshot(), campaign.SyncCounts{})
	if err != nil {
		t.Fatal(err)
	}
	return st, id
}

func newCampaign(snapshotID int64, yaml string) *campaign.Campaign {
	return &campaign.Campaign{Name: "Q4", Description: "quarterly", Owner: "iam@x.com", DefinitionYAML: yaml,
		SnapshotID: snapshotID, SnapshotDigest: "abc", State: campaign.StateStage1, CreatedAt: t0,
		Stage1Ends: t0.Add(7 * 24 * time.Hour), Deadline: t0.Add(14 * 24 * time.Hour), Trigger: "cli"}
}

var owner = campaign.Actor{UserID: "00u9", Email: "iam@x.com", Via: "cli"}

// createCampaign stores a campaign with the given cases and fails the test
// on error.
func createCampaign(t testing.TB, st *Store, snapshotID int64, cases []campaign.CaseRecord) *campaign.Campaign {
	t.Helper()
	c := newCampaign(snapshotID, "name: Q4\n")
	if _, err := st.CreateCampaign(context.Background(), c, cases, campaign.Event{At: t0, Type: "campaign.launched",
		Actor: owner, Detail: map[string]any{"cases": len(cases)}}); err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleCases() []campaign.CaseRecord {
	return []campaign.CaseRecord{
		{UserID: "00u1", Kind: campaign.KindApp, EntitlementID: "0oa1", Label: "AWS", ViaGroups: []string{"00g1", "00g2"},
			Flags: campaign.FlagUnusedApp | campaign.FlagStaleLogin, Risk: "high", ManagerID: "00u2", ReviewerID: "00u2"},
		{UserID: "00u1", Kind: campaign.KindGroup, EntitlementID: "00g1", Label: "Eng", Direct: true, ManagerID: "00u2", ReviewerID: "00u2",
			ReviewerSince:  t0.Add(-time.Hour), // imported with its own
			MemberDecision: campaign.DecisionKeep, MemberComment: "daily work", MemberAt: t0.Add(time.Minute)},
		{UserID: "00u2", Kind: campaign.KindApp, EntitlementID: "0oa1", Label: "AWS", Direct: true, Flags: campaign.FlagNoManager,
			EscalationLevel: 1, ReviewerDecision: campaign.DecisionKeep, ReviewerAt: t0.Add(time.Second / 3), DecidedBy: "iam@x.com",
			AcceptUntil: t0.AddDate(0, 6, 0)},
	}
}

func TestCampaignRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	in := sampleCases()
	c := createCampaign(t, st, snap, in)
	if c.ID == 0 || in[0].ID == 0 || in[2].ID != in[0].ID+2 || in[1].CampaignID != c.ID {
		t.Fatalf("ids not set: campaign %d, cases %+v", c.ID, in)
	}

	got, err := st.GetCampaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Definition == nil || got.Definition.Name != "Q4" {
		t.Fatalf("definition = %+v", got.Definition)
	}
	want := *c
	want.Definition, got.Definition = nil, nil
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("campaign round trip:\n got  %+v\n want %+v", *got, want)
	}
	if _, err := st.GetCampaign(ctx, c.ID+1); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("missing campaign: err = %v", err)
	}

	out, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("cases round trip:\n got  %+v\n want %+v", out, in)
	}
	for i, want := range []time.Time{t0, t0.Add(-time.Hour), {}} {
		if !out[i].ReviewerSince.Equal(want) {
			t.Errorf("case %d: reviewer since %v, want %v", i, out[i].ReviewerSince, want)
		}
	}

	events, err := st.Events(ctx, c.ID)
	if err != nil || len(events) != 1 {
		t.Fatalf("events = %+v, %v", events, err)
	}
	if e := events[0]; e.Type != "campaign.launched" || e.Actor != owner || !e.At.Equal(t0) || e.Detail["cases"] != float64(3) {
		t.Fatalf("event = %+v", e)
	}
	tr, err := st.Transitions(ctx, c.ID)
	if err != nil || len(tr) != 1 || tr[0].From != "" || tr[0].To != campaign.StateStage1 || tr[0].Actor != "iam@x.com" {
		t.Fatalf("transitions = %+v, %v", tr, err)
	}
}

func TestCasesQuery(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := sampleCases()
	c := createCampaign(t, st, snap, cases)
	iam, mgr := "", "00u2"
	for _, tc := range []struct {
		name string
		q    campaign.CaseQuery
		want []int
	}{
		{"all", campaign.CaseQuery{}, []int{0, 1, 2}},
		{"by id", campaign.CaseQuery{ID: cases[1].ID}, []int{1}},
		{"by user", campaign.CaseQuery{UserID: "00u1"}, []int{0, 1}},
		{"by kind", campaign.CaseQuery{Kind: campaign.KindApp}, []int{0, 2}},
		{"by reviewer", campaign.CaseQuery{ReviewerID: &mgr}, []int{0, 1}},
		{"IAM team's", campaign.CaseQuery{ReviewerID: &iam}, []int{2}},
		{"user and kind", campaign.CaseQuery{UserID: "00u1", Kind: campaign.KindGroup}, []int{1}},
		{"nobody", campaign.CaseQuery{UserID: "00u7"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.Cases(ctx, c.ID, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, g := range got {
				ids = append(ids, g.ID)
			}
			var want []int64
			for _, i := range tc.want {
				want = append(want, cases[i].ID)
			}
			if !reflect.DeepEqual(ids, want) {
				t.Fatalf("ids = %v, want %v", ids, want)
			}
		})
	}
}

func TestCreateCampaignRejects(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	dup := sampleCases()[:1]
	dup = append(dup, dup[0])
	for _, tc := range []struct {
		name  string
		c     *campaign.Campaign
		cases []campaign.CaseRecord
		kind  error
	}{
		{"no definition", newCampaign(snap, ""), nil, campaign.ErrInvalid},
		{"bad definition", newCampaign(snap, "name: Q4\nbogus: 1\n"), nil, campaign.ErrInvalid},
		{"duplicate case", newCampaign(snap, "name: Q4\n"), dup, nil},
		{"unknown snapshot", newCampaign(snap+1, "name: Q4\n"), sampleCases(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.CreateCampaign(ctx, tc.c, tc.cases, campaign.Event{Type: "campaign.launched"})
			if err == nil || tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want an error of kind %v", err, tc.kind)
			}
		})
	}
	for _, table := range []string{"campaigns", "cases", "audit_log", "campaign_transitions"} {
		var n int
		if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows left behind by failed creates, %v", table, n, err)
		}
	}
}

func TestListCampaigns(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	a := createCampaign(t, st, snap, sampleCases())
	b := createCampaign(t, st, snap, sampleCases()[:1])
	b.State = campaign.StateStage2
	if err := st.MoveCampaign(ctx, b, campaign.StateStage1, campaign.Event{Type: "campaign.stage2", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		states []campaign.State
		want   []int64
	}{
		{"all, newest first", nil, []int64{b.ID, a.ID}},
		{"one state", []campaign.State{campaign.StateStage1}, []int64{a.ID}},
		{"two states", []campaign.State{campaign.StateStage2, campaign.StateStage1}, []int64{b.ID, a.ID}},
		{"none match", []campaign.State{campaign.StateDone}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := st.ListCampaigns(ctx, tc.states...)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range list {
				if c.Definition == nil {
					t.Fatalf("campaign %d without definition", c.ID)
				}
				ids = append(ids, c.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Fatalf("ids = %v, want %v", ids, tc.want)
			}
		})
	}
}

func TestMoveCampaignCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, sampleCases())
	moved := *c
	moved.State, moved.Stage2Started = campaign.StateStage2, t0.Add(2*time.Hour)
	ev := campaign.Event{Type: "campaign.stage2", Actor: campaign.System, Detail: map[string]any{"note": "stage 1 ended"}}
	if err := st.MoveCampaign(ctx, &moved, campaign.StateStage1, ev); err != nil {
		t.Fatal(err)
	}
	// A second scheduler read the campaign in stage 1 too: it must lose.
	late := *c
	late.State = campaign.StateCancelled
	err := st.MoveCampaign(ctx, &late, campaign.StateStage1, campaign.Event{Type: "campaign.cancelled", Actor: owner})
	if !errors.Is(err, campaign.ErrConflict) {
		t.Fatalf("second move: err = %v, want ErrConflict", err)
	}
	if want := fmt.Sprintf("campaign %d is stage2, not stage1", c.ID); !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want it to say %q", err, want)
	}
	missing := *c
	missing.ID = 99
	if err := st.MoveCampaign(ctx, &missing, campaign.StateStage1, ev); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("missing campaign: err = %v", err)
	}

	got, err := st.GetCampaign(ctx, c.ID)
	if err != nil || got.State != campaign.StateStage2 || !got.Stage2Started.Equal(moved.Stage2Started) {
		t.Fatalf("campaign = %+v, %v", got, err)
	}
	tr, err := st.Transitions(ctx, c.ID)
	if err != nil || len(tr) != 2 || tr[1].From != campaign.StateStage1 || tr[1].To != campaign.StateStage2 ||
		tr[1].Actor != "system" || tr[1].Note != "stage 1 ended" || !tr[1].At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("transitions = %+v, %v", tr, err)
	}
	events, err := st.Events(ctx, c.ID)
	if err != nil || len(events) != 2 || events[1].Type != "campaign.stage2" || events[1].CampaignID != c.ID {
		t.Fatalf("events = %+v, %v", events, err)
	}
}
