package campaign_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/store"
)

// oldCloseStore hides the streaming methods of a store, so the engine
// closes the way it did before close streamed its cases: every case in
// memory, outcomes and history handed to CloseCampaign.
type oldCloseStore struct{ campaign.Store }

// closeOnce launches a campaign on a fresh store holding org, answers a
// mix of its cases, closes it through st (wrapped by wrap) and returns
// what the close stored.
func closeOnce(t *testing.T, org *oktatest.Org, wrap func(*store.Store) campaign.Store) closeResult {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap := org.Snapshot()
	if _, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap)); err != nil {
		t.Fatal(err)
	}
	now := org.Now
	eng := &campaign.Engine{Store: wrap(st), Now: func() time.Time { return now }}
	yaml := "name: equiv\nowner: " + org.Users[0].Email + "\nremediation:\n  protected_users: [" + org.Users[1].Email + "]\n"
	def, err := campaign.ParseDefinition("e.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: yaml, Owner: campaign.System, Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var ups []campaign.CaseUpdate
	for i := range cases {
		cs := &cases[i]
		at := now.Add(time.Duration(i) * time.Second)
		switch i % 6 {
		case 0:
			cs.ReviewerDecision, cs.ReviewerAt, cs.DecidedBy = campaign.DecisionKeep, at, "boss"
		case 1:
			cs.ReviewerDecision, cs.ReviewerAt = campaign.DecisionRevoke, at
		case 2:
			cs.MemberDecision, cs.MemberAt = campaign.DecisionRevoke, at
		case 3:
			cs.MemberDecision, cs.MemberAt, cs.AcceptUntil = campaign.DecisionKeep, at, at.Add(90*24*time.Hour)
		default:
			continue // no decision: kept
		}
		ups = append(ups, campaign.CaseUpdate{Case: cs, ExpectReviewer: cs.ReviewerID})
	}
	if err := st.UpdateCases(ctx, ups, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	closed, plan, err := eng.Close(ctx, c.ID, campaign.System)
	if err != nil {
		t.Fatal(err)
	}
	r := closeResult{Cases: len(cases), State: closed.State, Digest: closed.PlanDigest, Plan: plan, Outcomes: map[int64]string{}}
	after, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range after {
		r.Outcomes[cs.ID] = cs.Outcome
	}
	if r.Stored, err = st.Plan(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if r.History, err = st.Certifications(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := st.Events(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Type == "campaign.closed" || ev.Type == "campaign.done" {
			d, _ := json.Marshal(ev.Detail)
			r.Events = append(r.Events, ev.Type+" "+string(d))
		}
	}
	return r
}

type closeResult struct {
	Cases    int
	State    campaign.State
	Digest   string
	Plan     []campaign.PlanItem
	Stored   []campaign.PlanItem
	Outcomes map[int64]string
	History  map[campaign.EntitlementKey]campaign.Certification
	Events   []string
}

// A close that streams its cases stores what the close that held them
// all did: the same outcome on every case, the same plan and digest, the
// same certification history and the same close events.
func TestStreamedCloseMatchesOldClose(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 7, Users: 400, Apps: 40, Groups: 90})
	streamed := closeOnce(t, org, func(s *store.Store) campaign.Store { return s })
	old := closeOnce(t, org, func(s *store.Store) campaign.Store { return oldCloseStore{s} })
	if streamed.Cases < 2000 {
		t.Fatalf("only %d cases: the org is too small to compare closes", streamed.Cases)
	}
	counts := map[string]int{}
	for _, o := range streamed.Outcomes {
		counts[o]++
	}
	for _, o := range []string{campaign.OutcomeKept, campaign.OutcomeRevoked, campaign.OutcomeRevokedByMember,
		campaign.OutcomeNoDecisionKept} {
		if counts[o] == 0 {
			t.Errorf("no case closed %s (%v): the comparison misses it", o, counts)
		}
	}
	if len(streamed.Plan) == 0 || len(streamed.History) == 0 {
		t.Fatalf("plan %d items, history %d records: nothing to compare", len(streamed.Plan), len(streamed.History))
	}
	t.Logf("%d cases, outcomes %v, %d plan items, %d history records", streamed.Cases, counts, len(streamed.Plan), len(streamed.History))
	if streamed.Digest != campaign.PlanDigest(streamed.Stored) {
		t.Errorf("digest %s is not the stored plan's %s", streamed.Digest, campaign.PlanDigest(streamed.Stored))
	}
	for name, pair := range map[string][2]any{
		"state": {streamed.State, old.State}, "digest": {streamed.Digest, old.Digest}, "plan": {streamed.Plan, old.Plan},
		"stored plan": {streamed.Stored, old.Stored}, "outcomes": {streamed.Outcomes, old.Outcomes},
		"history": {streamed.History, old.History}, "events": {streamed.Events, old.Events},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s differs:\nstreamed %v\nold      %v", name, pair[0], pair[1])
		}
	}
}
