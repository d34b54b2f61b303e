package store

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

func TestUpdateCases(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := sampleCases()
	c := createCampaign(t, st, snap, cases)

	answered := cases[0]
	answered.ReviewerDecision, answered.ReviewerComment, answered.ReviewerAt = campaign.DecisionRevoke, "left team", t0.Add(2*time.Hour)
	answered.DecidedBy = "b@x.com"
	escalated := cases[1]
	escalated.ReviewerID, escalated.EscalationLevel = "00u3", 1
	ev := func(id int64) campaign.Event {
		return campaign.Event{CampaignID: c.ID, CaseID: id, Type: "case.updated", Actor: campaign.System}
	}
	err := st.UpdateCases(ctx, []campaign.CaseUpdate{
		{Case: &answered, ExpectReviewer: "00u2"},
		{Case: &escalated, ExpectReviewer: "00u2"},
	}, []campaign.Event{ev(answered.ID), ev(escalated.ID)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []campaign.CaseRecord{answered, escalated, cases[2]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("cases:\n got  %+v\n want %+v", got, want)
	}
	if !got[0].ReviewerSince.Equal(t0) {
		t.Errorf("unchanged reviewer: since = %v, want the launch", got[0].ReviewerSince)
	}
	if !got[1].ReviewerSince.Equal(st.Now()) {
		t.Errorf("new reviewer: since = %v, want now", got[1].ReviewerSince)
	}
	if events, err := st.Events(ctx, c.ID); err != nil || len(events) != 3 || events[2].CaseID != escalated.ID {
		t.Fatalf("events = %+v, %v", events, err)
	}
}

// When one precondition fails, nothing of the batch is saved: neither the
// cases before it nor the events.
func TestUpdateCasesConflictRollsBack(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := sampleCases()
	c := createCampaign(t, st, snap, cases)
	ok := cases[0]
	ok.MemberDecision = campaign.DecisionRevoke
	stale := cases[1]
	stale.ReviewerDecision = campaign.DecisionKeep
	ghost := cases[2]
	ghost.ID = 999
	for _, tc := range []struct {
		name    string
		second  campaign.CaseUpdate
		kind    error
		mention string
	}{
		{"reviewer changed", campaign.CaseUpdate{Case: &stale, ExpectReviewer: "00u7"}, campaign.ErrConflict,
			"case " + strconv.FormatInt(stale.ID, 10)},
		{"no such case", campaign.CaseUpdate{Case: &ghost, ExpectReviewer: ""}, campaign.ErrNotFound, "case 999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &ok, ExpectReviewer: "00u2"}, tc.second},
				[]campaign.Event{{CampaignID: c.ID, Type: "case.answered"}})
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("err = %v, want %v naming %q", err, tc.kind, tc.mention)
			}
			got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, cases) {
				t.Fatalf("cases changed despite the conflict:\n got  %+v\n want %+v", got, cases)
			}
			if events, err := st.Events(ctx, c.ID); err != nil || len(events) != 1 {
				t.Fatalf("events = %+v, %v; want only the launch", events, err)
			}
		})
	}
}

func TestCloseCampaign(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := sampleCases()
	c := createCampaign(t, st, snap, cases)
	closed := *c
	closed.State = campaign.StateClosed
	outcomes := map[int64]string{cases[0].ID: campaign.OutcomeNoDecisionRevoked, cases[1].ID: campaign.OutcomeKept, cases[2].ID: campaign.OutcomeKept}
	plan := []campaign.PlanItem{
		{Seq: 1, Kind: campaign.OpRemoveMembership, UserID: "00u1", GroupID: "00g1", CaseIDs: []int64{cases[0].ID}},
		{Seq: 2, Kind: campaign.ItemManual, UserID: "00u1", GroupID: "00g2", AppID: "0oa1", CaseIDs: []int64{cases[0].ID, cases[1].ID}, Reason: "rule"},
	}
	history := []campaign.Certification{
		{EntitlementKey: campaign.EntitlementKey{UserID: "00u2", Kind: campaign.KindApp, EntitlementID: "0oa1"},
			CertifiedAt: t0.Add(time.Second / 3), Outcome: campaign.OutcomeKept, DecidedBy: "iam@x.com", AcceptUntil: t0.AddDate(0, 6, 0)},
	}
	ev := campaign.Event{Type: "campaign.closed", Actor: campaign.System}

	// A plan with a repeated number fails the close: nothing is written.
	bad := append(append([]campaign.PlanItem(nil), plan...), plan[0])
	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, outcomes, bad, history, ev); err == nil {
		t.Fatal("a plan with a repeated number must fail")
	}
	foreign := map[int64]string{cases[0].ID: campaign.OutcomeKept, 12345: campaign.OutcomeKept}
	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, foreign, plan, history, ev); !errors.Is(err, campaign.ErrInvalid) {
		t.Fatalf("outcome of a foreign case: err = %v, want ErrInvalid", err)
	}
	if got, _ := st.Cases(ctx, c.ID, campaign.CaseQuery{}); !reflect.DeepEqual(got, cases) {
		t.Fatalf("failed closes changed cases: %+v", got)
	}
	if p, err := st.Plan(ctx, c.ID); err != nil || len(p) != 0 {
		t.Fatalf("failed closes left a plan: %+v, %v", p, err)
	}
	if h, err := st.Certifications(ctx); err != nil || len(h) != 0 {
		t.Fatalf("failed closes left history: %+v, %v", h, err)
	}

	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, outcomes, plan, history, ev); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, outcomes, plan, history, ev); !errors.Is(err, campaign.ErrConflict) {
		t.Fatalf("second close: err = %v, want ErrConflict", err)
	}
	got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if g.Outcome != outcomes[g.ID] {
			t.Errorf("case %d outcome = %q, want %q", g.ID, g.Outcome, outcomes[g.ID])
		}
	}
	if p, err := st.Plan(ctx, c.ID); err != nil || !reflect.DeepEqual(p, plan) {
		t.Fatalf("plan = %+v, %v; want %+v", p, err, plan)
	}
	h, err := st.Certifications(ctx)
	want := history[0]
	want.CampaignID = c.ID
	if err != nil || len(h) != 1 || !reflect.DeepEqual(h[want.EntitlementKey], want) {
		t.Fatalf("history = %+v, %v; want %+v", h, err, want)
	}
	if cc, err := st.GetCampaign(ctx, c.ID); err != nil || cc.State != campaign.StateClosed || !cc.ClosedAt.Equal(st.Now()) {
		t.Fatalf("campaign = %+v, %v", cc, err)
	}
}

func TestCaseProgress(t *testing.T) {
	ctx := context.Background()
	mk := func(user, reviewer, member, decision, outcome string) campaign.CaseRecord {
		return campaign.CaseRecord{UserID: user, Kind: campaign.KindApp, EntitlementID: "0oa-" + user + member + decision + reviewer,
			ReviewerID: reviewer, MemberDecision: member, ReviewerDecision: decision, Outcome: outcome}
	}
	cases := []campaign.CaseRecord{
		mk("ann", "mgr1", "", "", ""),                                         // open for both
		mk("ann", "mgr1", campaign.DecisionKeep, "", ""),                      // open for the reviewer
		mk("bob", "mgr1", campaign.DecisionRevoke, "", ""),                    // member revoked: no reviewer work unless confirmed
		mk("cat", "mgr2", campaign.DecisionUnsure, campaign.DecisionKeep, ""), // done
		mk("dan", "", "", "", ""),                                             // the IAM team's
		mk("eve", "mgr2", "", "", campaign.OutcomeNoDecisionKept),             // closed by an outcome
	}
	for _, tc := range []struct {
		name string
		yaml string
		want campaign.Progression
	}{
		{"member revokes final", "name: Q4\n", campaign.Progression{
			MemberOpen:       map[string]int{"ann": 1, "dan": 1, "eve": 1},
			ReviewerOpen:     map[string]int{"mgr1": 2, "": 1},
			ReviewerMembers:  map[string][]string{"mgr1": {"ann"}, "": {"dan"}},
			ReviewerTotal:    map[string]int{"mgr1": 3, "mgr2": 2, "": 1},
			ReviewerAnswered: map[string]int{"mgr1": 2, "mgr2": 1},
			Total:            6}},
		{"member revokes confirmed", "name: Q4\nstages: {confirm_member_revokes: true}\n", campaign.Progression{
			MemberOpen:       map[string]int{"ann": 1, "dan": 1, "eve": 1},
			ReviewerOpen:     map[string]int{"mgr1": 3, "": 1},
			ReviewerMembers:  map[string][]string{"mgr1": {"ann", "bob"}, "": {"dan"}},
			ReviewerTotal:    map[string]int{"mgr1": 3, "mgr2": 2, "": 1},
			ReviewerAnswered: map[string]int{"mgr1": 2, "mgr2": 1},
			Total:            6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, snap := openCampaignStore(t)
			c := newCampaign(snap, tc.yaml)
			if _, err := st.CreateCampaign(ctx, c, append([]campaign.CaseRecord(nil), cases...), campaign.Event{Type: "campaign.launched"}); err != nil {
				t.Fatal(err)
			}
			got, err := st.CaseProgress(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Every open reviewer case got the campaign's creation time.
			for r := range got.ReviewerOpen {
				if r != "" && !got.ReviewerOldest[r].Equal(c.CreatedAt) {
					t.Errorf("oldest open case of %s assigned %v, want %v", r, got.ReviewerOldest[r], c.CreatedAt)
				}
			}
			got.ReviewerOldest = tc.want.ReviewerOldest
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("progress:\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
	st, _ := openCampaignStore(t)
	if _, err := st.CaseProgress(ctx, 42); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("missing campaign: err = %v", err)
	}
}

// syntheticCases makes n cases: 20 apps per user, a manager per 10 users.
func syntheticCases(n int) []campaign.CaseRecord {
	cases := make([]campaign.CaseRecord, n)
	for i := range cases {
		user := "00u" + strconv.Itoa(i/20)
		cases[i] = campaign.CaseRecord{UserID: user, Kind: campaign.KindApp, EntitlementID: "0oa" + strconv.Itoa(i%20),
			Label: "App " + strconv.Itoa(i%20), ViaGroups: []string{"00g" + strconv.Itoa(i%7)}, Flags: campaign.FlagUnusedApp,
			Risk: "medium", ManagerID: "00m" + strconv.Itoa(i/200), ReviewerID: "00m" + strconv.Itoa(i/200)}
	}
	return cases
}

func benchmarkCreateCampaign(b *testing.B, n int) {
	if testing.Short() {
		b.Skip("large benchmark; skipped with -short")
	}
	st, snap := openCampaignStore(b)
	cases := syntheticCases(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		createCampaign(b, st, snap, cases)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/case")
}

func BenchmarkCreateCampaign200k(b *testing.B) { benchmarkCreateCampaign(b, 200_000) }
func BenchmarkCreateCampaign2M(b *testing.B)   { benchmarkCreateCampaign(b, 2_000_000) }

func benchmarkCloseCampaign(b *testing.B, n int) {
	if testing.Short() {
		b.Skip("large benchmark; skipped with -short")
	}
	st, snap := openCampaignStore(b)
	cases := syntheticCases(n)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := createCampaign(b, st, snap, cases)
		outcomes := make(map[int64]string, n)
		for _, cs := range cases {
			outcomes[cs.ID] = campaign.OutcomeNoDecisionKept
		}
		closed := *c
		closed.State = campaign.StateClosed
		b.StartTimer()
		if err := st.CloseCampaign(context.Background(), &closed, campaign.StateStage1, outcomes, nil, nil,
			campaign.Event{Type: "campaign.closed"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCloseCampaign200k(b *testing.B) { benchmarkCloseCampaign(b, 200_000) }
func BenchmarkCloseCampaign2M(b *testing.B)   { benchmarkCloseCampaign(b, 2_000_000) }
