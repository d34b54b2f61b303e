package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// streamCases are n app cases of distinct users, answered as given.
func streamCases(n int, prefix string) []campaign.CaseRecord {
	out := make([]campaign.CaseRecord, n)
	for i := range out {
		out[i] = campaign.CaseRecord{UserID: fmt.Sprintf("%s%02d", prefix, i), Kind: campaign.KindApp, EntitlementID: "0oa1",
			Label: "GitHub", Direct: true, ReviewerID: "mgr"}
	}
	return out
}

// EachCase hands over a campaign's cases, and only its own, in id order,
// a page at a time: the same cases Cases returns.
func TestEachCasePages(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := streamCases(23, "u")
	for i := range cases {
		switch i % 4 {
		case 0:
			cases[i].MemberDecision, cases[i].DecidedBy = campaign.DecisionKeep, "mgr@x.com"
		case 1:
			cases[i].ReviewerDecision, cases[i].Direct, cases[i].ViaGroups = campaign.DecisionRevoke, false, []string{"00g1", "00g2"}
		case 2:
			cases[i].OwnerDecision, cases[i].OwnerDecidedBy = campaign.DecisionKeep, "owner@x.com"
		case 3:
			if i%8 == 3 { // every answer, in bytes that could pass for the packing's own
				c := &cases[i]
				c.MemberDecision, c.ReviewerDecision, c.DecidedBy = campaign.DecisionRevoke, campaign.DecisionKeep, "ünï,cödé:1@x.com"
				c.OwnerDecision, c.OwnerDecidedBy = campaign.DecisionRevoke, "o:w,n,0:"
			}
		}
	}
	c := createCampaign(t, st, snap, cases)
	other := newCampaign(snap, "name: Q4\n")
	if _, err := st.CreateCampaign(ctx, other, streamCases(5, "w"), campaign.Event{At: t0, Type: "campaign.launched",
		Actor: owner}); err != nil {
		t.Fatal(err)
	}
	want, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []campaign.CaseRecord
	pages := 0
	if err := st.EachCase(ctx, c.ID, 4, func(page []campaign.CaseRecord) error {
		if len(page) == 0 || len(page) > 4 {
			t.Errorf("page of %d cases, want 1 to 4", len(page))
		}
		pages++
		got = append(got, page...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pages != 6 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d pages, cases %+v; want 6 pages of %+v", pages, got, want)
	}
	var decided []campaign.CaseRecord
	if err := st.EachCaseDecision(ctx, c.ID, 5, func(page []campaign.CaseRecord) error {
		decided = append(decided, page...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(decided) != len(want) {
		t.Fatalf("EachCaseDecision: %d cases, want %d", len(decided), len(want))
	}
	for i, w := range want {
		d := decided[i]
		if d.ID != w.ID || d.CampaignID != w.CampaignID || d.UserID != w.UserID || d.Kind != w.Kind ||
			d.EntitlementID != w.EntitlementID || d.Direct != w.Direct || !reflect.DeepEqual(d.ViaGroups, w.ViaGroups) ||
			d.MemberDecision != w.MemberDecision || d.ReviewerDecision != w.ReviewerDecision || d.DecidedBy != w.DecidedBy ||
			d.OwnerDecision != w.OwnerDecision || d.OwnerDecidedBy != w.OwnerDecidedBy {
			t.Errorf("EachCaseDecision case %d = %+v, want the decision fields of %+v", i, d, w)
		}
	}
	stop := errors.New("stop")
	if err := st.EachCase(ctx, c.ID, 4, func([]campaign.CaseRecord) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want fn's", err)
	}
	if err := st.EachCase(ctx, 999, 4, func([]campaign.CaseRecord) error { t.Error("a page of no campaign"); return nil }); err != nil {
		t.Fatal(err)
	}
}

// CloseCampaignCases writes outcomes from id lists and makes the history
// from the cases: a decided case's decider, or its user when none is
// recorded or the member revoked it, or the stage-3 decider given; its
// accept-until; nothing for cases closed without a decision. A close
// naming a foreign case stores nothing.
func TestCloseCampaignCases(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := streamCases(5, "u")
	until := t0.AddDate(0, 6, 0)
	cases[0].ReviewerDecision, cases[0].DecidedBy, cases[0].AcceptUntil = campaign.DecisionKeep, "mgr@x.com", until
	cases[1].ReviewerDecision = campaign.DecisionRevoke                                // decider: the user
	cases[2].MemberDecision, cases[2].DecidedBy = campaign.DecisionRevoke, "mgr@x.com" // member revoke: the user
	cases[3].ReviewerDecision, cases[3].DecidedBy = campaign.DecisionKeep, "mgr@x.com" // owner decides in stage 3
	c := createCampaign(t, st, snap, cases)
	closed := *c
	closed.State, closed.ClosedAt = campaign.StateClosed, t0.Add(2*time.Hour+time.Second/3)
	outcomes := map[string][]int64{
		campaign.OutcomeKept:              {cases[0].ID, cases[3].ID},
		campaign.OutcomeRevoked:           {cases[1].ID},
		campaign.OutcomeRevokedByMember:   {cases[2].ID},
		campaign.OutcomeNoDecisionRevoked: {cases[4].ID},
	}
	deciders := map[int64]string{cases[3].ID: "owner@x.com"}
	plan := []campaign.PlanItem{{Seq: 1, Kind: campaign.OpUnassignApp, UserID: "u01", AppID: "0oa1", CaseIDs: []int64{cases[1].ID}}}
	ev := campaign.Event{Type: "campaign.closed", Actor: campaign.System}

	foreign := map[string][]int64{campaign.OutcomeKept: {cases[0].ID, 12345}}
	if err := st.CloseCampaignCases(ctx, &closed, campaign.StateStage1, foreign, nil, plan, ev); !errors.Is(err, campaign.ErrInvalid) {
		t.Fatalf("outcome of a foreign case: err = %v, want ErrInvalid", err)
	}
	if h, err := st.Certifications(ctx); err != nil || len(h) != 0 {
		t.Fatalf("a failed close left history: %+v, %v", h, err)
	}
	if p, err := st.Plan(ctx, c.ID); err != nil || len(p) != 0 {
		t.Fatalf("a failed close left a plan: %+v, %v", p, err)
	}

	if err := st.CloseCampaignCases(ctx, &closed, campaign.StateStage1, outcomes, deciders, plan, ev); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseCampaignCases(ctx, &closed, campaign.StateStage1, outcomes, deciders, plan, ev); !errors.Is(err, campaign.ErrConflict) {
		t.Fatalf("second close: err = %v, want ErrConflict", err)
	}
	got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for o, ids := range outcomes {
		for _, id := range ids {
			if g := got[id-got[0].ID]; g.ID != id || g.Outcome != o {
				t.Errorf("case %d outcome = %q, want %q", id, g.Outcome, o)
			}
		}
	}
	if p, err := st.Plan(ctx, c.ID); err != nil || !reflect.DeepEqual(p, plan) {
		t.Fatalf("plan = %+v, %v; want %+v", p, err, plan)
	}
	if cc, err := st.GetCampaign(ctx, c.ID); err != nil || cc.PlanDigest != campaign.PlanDigest(plan) {
		t.Fatalf("campaign = %+v, %v; want the plan's digest", cc, err)
	}
	cert := func(i int, outcome, by string, until time.Time) campaign.Certification {
		return campaign.Certification{EntitlementKey: campaign.EntitlementKey{UserID: cases[i].UserID, Kind: campaign.KindApp,
			EntitlementID: "0oa1"}, CertifiedAt: closed.ClosedAt, Outcome: outcome, DecidedBy: by, CampaignID: c.ID, AcceptUntil: until}
	}
	want := map[campaign.EntitlementKey]campaign.Certification{}
	for _, w := range []campaign.Certification{
		cert(0, campaign.OutcomeKept, "mgr@x.com", until),
		cert(1, campaign.OutcomeRevoked, "u01", time.Time{}),
		cert(2, campaign.OutcomeRevokedByMember, "u02", time.Time{}),
		cert(3, campaign.OutcomeKept, "owner@x.com", time.Time{}),
	} {
		want[w.EntitlementKey] = w
	}
	h, err := st.Certifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(want) {
		t.Errorf("%d history records, want %d", len(h), len(want))
	}
	for k, w := range want {
		if g := h[k]; !reflect.DeepEqual(g, w) || !g.CertifiedAt.Equal(w.CertifiedAt) {
			t.Errorf("history of %v = %+v, want %+v", k, g, w)
		}
	}
}

// A close writes long runs of consecutive case ids as id ranges and the
// rest id by id, with the same result; a run reaching into another
// campaign's cases, or past the last case, stores nothing.
func TestCloseOutcomeRuns(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := streamCases(60, "u")
	c := createCampaign(t, st, snap, cases)
	other := createCampaign(t, st, snap, streamCases(20, "o"))
	otherCases, err := st.Cases(ctx, other.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	closed := *c
	closed.State, closed.ClosedAt = campaign.StateClosed, t0.Add(2*time.Hour)
	ev := campaign.Event{Type: "campaign.closed", Actor: campaign.System}
	ids := func(from, to int) []int64 {
		var out []int64
		for i := from; i < to; i++ {
			out = append(out, cases[i].ID)
		}
		return out
	}
	for name, bad := range map[string]map[string][]int64{
		"into another campaign": {campaign.OutcomeKept: append(ids(40, 60), otherCases[0].ID, otherCases[1].ID)},
		"past the last case":    {campaign.OutcomeKept: append(ids(50, 60), otherCases[19].ID+1, otherCases[19].ID+2)},
	} {
		// Consecutive ids across the two campaigns form one run.
		if err := st.CloseCampaignCases(ctx, &closed, campaign.StateStage1, bad, nil, nil, ev); !errors.Is(err, campaign.ErrInvalid) {
			t.Fatalf("%s: err = %v, want ErrInvalid", name, err)
		}
		if got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{}); err != nil || got[45].Outcome != "" {
			t.Fatalf("%s: a failed close wrote outcomes: %+v, %v", name, got[45], err)
		}
	}
	outcomes := map[string][]int64{campaign.OutcomeNoDecisionRevoked: ids(0, 40)}
	for i := 40; i < 60; i++ {
		o := campaign.OutcomeKept
		if i%2 == 1 {
			o = campaign.OutcomeRevoked
		}
		outcomes[o] = append(outcomes[o], cases[i].ID)
	}
	if runs, rest := outcomeRuns(outcomes); len(runs) != 1 || len(rest[campaign.OutcomeKept]) != 10 {
		t.Fatalf("runs = %+v, rest = %v: want one run and 20 single ids", runs, rest)
	}
	if err := st.CloseCampaignCases(ctx, &closed, campaign.StateStage1, outcomes, nil, nil, ev); err != nil {
		t.Fatal(err)
	}
	got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for o, ids := range outcomes {
		for _, id := range ids {
			if g := got[id-got[0].ID]; g.Outcome != o {
				t.Errorf("case %d outcome = %q, want %q", id, g.Outcome, o)
			}
		}
	}
	if oc, err := st.Cases(ctx, other.ID, campaign.CaseQuery{}); err != nil || oc[0].Outcome != "" {
		t.Fatalf("the other campaign's case got an outcome: %+v, %v", oc[0], err)
	}
}

// Two launches written in slices side by side interleave their ids:
// EachCase still hands over each campaign's cases, all of them and only
// them, in id order, no page longer than asked, and none empty.
func TestEachCaseAcrossInterleavedLaunches(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	a := createCampaign(t, st, snap, streamCases(3, "a"))
	b := createCampaign(t, st, snap, streamCases(2, "b"))
	for i, add := range []struct {
		id    int64
		cases []campaign.CaseRecord
	}{{b.ID, streamCases(7, "c")}, {a.ID, streamCases(4, "d")}, {b.ID, streamCases(1, "e")}, {a.ID, streamCases(2, "f")}} {
		if err := st.AddCases(ctx, add.id, t0, add.cases); err != nil {
			t.Fatalf("slice %d: %v", i, err)
		}
	}
	for _, c := range []*campaign.Campaign{a, b} {
		want, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var got []campaign.CaseRecord
		if err := st.EachCase(ctx, c.ID, 2, func(page []campaign.CaseRecord) error {
			if len(page) == 0 || len(page) > 2 {
				t.Errorf("campaign %d: page of %d cases, want 1 or 2", c.ID, len(page))
			}
			got = append(got, page...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("campaign %d: EachCase gave %d cases, Cases %d; want the same", c.ID, len(got), len(want))
		}
	}
}

// MemberOpen finds a case its member still owes, of one member or of
// anyone, and never counts orphaned cases (a suspended member owes
// nothing) or another campaign's.
func TestMemberOpen(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := streamCases(4, "u") // u00 answered, u01 open, u02 orphaned, u03 answered
	cases[0].MemberDecision = campaign.DecisionKeep
	cases[2].Flags = campaign.FlagOrphaned
	cases[3].MemberDecision = campaign.DecisionRevoke
	c := createCampaign(t, st, snap, cases)
	done := streamCases(3, "d")
	done[0].MemberDecision, done[1].MemberDecision, done[2].Flags = campaign.DecisionKeep, campaign.DecisionUnsure, campaign.FlagOrphaned
	d := createCampaign(t, st, snap, done)
	for _, tc := range []struct {
		campaign int64
		user     string
		want     bool
	}{{c.ID, "", true}, {c.ID, "u01", true}, {c.ID, "u00", false}, {c.ID, "u02", false}, {c.ID, "u03", false},
		{c.ID, "d00", false}, {d.ID, "", false}, {d.ID, "u01", false}, {999, "", false}} {
		if got, err := st.MemberOpen(ctx, tc.campaign, tc.user); err != nil || got != tc.want {
			t.Errorf("MemberOpen(%d, %q) = %v, %v; want %v", tc.campaign, tc.user, got, err, tc.want)
		}
	}
}

// A close's outcomes go to case_outcomes, not into the cases rows, and
// read back everywhere a case's outcome is read (Cases, EachCase,
// CaseProgress's open reviews, the history); an outcome kept in
// cases.outcome, as cases closed before migration 0017 have it, reads
// back too.
func TestOutcomesReadBackFromEitherPlace(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	legacy := streamCases(3, "l")
	for i := range legacy {
		legacy[i].Outcome = campaign.OutcomeNoDecisionKept
	}
	old := createCampaign(t, st, snap, legacy)
	cases := streamCases(20, "u")
	cases[3].ReviewerDecision, cases[3].DecidedBy = campaign.DecisionKeep, "mgr@x.com"
	c := createCampaign(t, st, snap, cases)
	closed := *c
	closed.State, closed.ClosedAt = campaign.StateClosed, t0.Add(time.Hour)
	outcomes := map[string][]int64{campaign.OutcomeNoDecisionRevoked: {}, campaign.OutcomeKept: {cases[3].ID}}
	for i := range cases {
		if i != 3 {
			outcomes[campaign.OutcomeNoDecisionRevoked] = append(outcomes[campaign.OutcomeNoDecisionRevoked], cases[i].ID)
		}
	}
	if err := st.CloseCampaignCases(ctx, &closed, campaign.StateStage1, outcomes, nil, nil,
		campaign.Event{Type: "campaign.closed", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	var inRows, inTable int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE campaign_id = ? AND outcome <> ''`, c.ID).Scan(&inRows); err != nil {
		t.Fatal(err)
	}
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_outcomes`).Scan(&inTable); err != nil {
		t.Fatal(err)
	}
	if inRows != 0 || inTable != len(cases) {
		t.Fatalf("%d outcomes in cases rows, %d in case_outcomes; want 0 and %d", inRows, inTable, len(cases))
	}
	for _, k := range []struct {
		c    *campaign.Campaign
		want func(i int) string
	}{
		{old, func(int) string { return campaign.OutcomeNoDecisionKept }},
		{c, func(i int) string {
			if i == 3 {
				return campaign.OutcomeKept
			}
			return campaign.OutcomeNoDecisionRevoked
		}},
	} {
		got, err := st.Cases(ctx, k.c.ID, campaign.CaseQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var paged []campaign.CaseRecord
		if err := st.EachCase(ctx, k.c.ID, 7, func(p []campaign.CaseRecord) error { paged = append(paged, p...); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i].Outcome != k.want(i) || paged[i].Outcome != k.want(i) {
				t.Errorf("campaign %d case %d: outcome %q (Cases), %q (EachCase); want %q", k.c.ID, i, got[i].Outcome, paged[i].Outcome, k.want(i))
			}
		}
		p, err := st.CaseProgress(ctx, k.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.ReviewerOpen) != 0 {
			t.Errorf("campaign %d: open reviews %v after close, want none", k.c.ID, p.ReviewerOpen)
		}
	}
	h, err := st.Certifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := h[campaign.EntitlementKey{UserID: cases[3].UserID, Kind: campaign.KindApp, EntitlementID: "0oa1"}]; got.Outcome != campaign.OutcomeKept {
		t.Errorf("history of the kept case: %+v", got)
	}
}

// On PostgreSQL a launch takes its case ids at once and writes numbered
// slices in any order, side by side; ids taken are never handed out
// again, used or not. SQLite, with its one writer, takes none.
func TestReserveCaseIDs(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, streamCases(1, "a"))
	first, ok, err := st.ReserveCaseIDs(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if st.db.d != dialectPostgres {
		if ok {
			t.Fatal("SQLite reserved case ids")
		}
		if err := st.AddCasesFrom(ctx, c.ID, t0, 100, streamCases(2, "b")); !errors.Is(err, campaign.ErrInvalid) {
			t.Fatalf("numbered slices on SQLite: err = %v, want ErrInvalid", err)
		}
		return
	}
	if !ok {
		t.Fatal("PostgreSQL reserved no case ids")
	}
	slices := streamCases(5, "b")
	if err := st.AddCasesFrom(ctx, c.ID, t0, first+3, slices[3:]); err != nil {
		t.Fatal(err)
	}
	other := createCampaign(t, st, snap, streamCases(2, "o")) // takes ids after the reserved ones
	if err := st.AddCasesFrom(ctx, c.ID, t0, first, slices[:3]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ReserveCaseIDs(ctx, 4); err != nil { // taken, never used
		t.Fatal(err)
	}
	if err := st.AddCases(ctx, other.ID, t0, streamCases(1, "p")); err != nil {
		t.Fatal(err)
	}
	got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d cases, want 6", len(got))
	}
	for i, cs := range got[1:] {
		if cs.ID != first+int64(i) || cs.UserID != slices[i].UserID {
			t.Errorf("case %d: id %d user %s; want id %d user %s", i, cs.ID, cs.UserID, first+int64(i), slices[i].UserID)
		}
	}
	others, err := st.Cases(ctx, other.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(others) != 3 || others[0].ID <= first+4 || others[2].ID <= others[1].ID+4 {
		t.Fatalf("the other campaign's ids %d, %d, %d: want them after the reserved block, the last after the 4 ids taken since",
			others[0].ID, others[1].ID, others[2].ID)
	}
	if err := st.AddCasesFrom(ctx, c.ID, t0, first, streamCases(1, "b")); err == nil {
		t.Fatal("a slice numbered over existing cases was written")
	}
}

// A packed answer value that is cut, padded or mislabelled is an error.
func TestUnpackAnswers(t *testing.T) {
	got, err := unpackAnswers([]byte("6,4,0,1,3:revokekeepxa:b"))
	if err != nil || string(got[0]) != "revoke" || string(got[1]) != "keep" || len(got[2]) != 0 || string(got[3]) != "x" ||
		string(got[4]) != "a:b" {
		t.Fatalf("unpack = %q, %v", got, err)
	}
	if got, err := unpackAnswers(nil); err != nil || !reflect.DeepEqual(got, [5][]byte{}) {
		t.Fatalf("empty = %q, %v", got, err)
	}
	for _, bad := range []string{"6,4,0,1:revokekeepx", "6,4,0,1,3:revokekeepxa:", "6,4,0,1,3:revokekeepxa:bc",
		"6,4,0,1,3,0:revokekeepxa:b", "6,4,0,1,x:revokekeepxa:b", "-1,4,0,1,3:revokekeepxa:b", "6,4,0,1,3", "revoke"} {
		if _, err := unpackAnswers([]byte(bad)); err == nil {
			t.Errorf("%q unpacked", bad)
		}
	}
}
