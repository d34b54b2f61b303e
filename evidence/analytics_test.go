package evidence_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/store"
)

// decisionsBy makes n stage-2 keep decisions by who on cases first..,
// gap apart, starting an hour after t0.
func decisionsBy(who string, first int64, n int, gap time.Duration) []evidence.Decision {
	var out []evidence.Decision
	for i := range n {
		out = append(out, evidence.Decision{AuditRef: evidence.AuditRef{AuditSeq: first + int64(i)}, CaseID: first + int64(i),
			At: t0.Add(time.Hour + time.Duration(i)*gap), Stage: "stage2", Decision: "keep", ActorID: who, ActorEmail: who + "@x.com"})
	}
	return out
}

func TestReviewerFlags(t *testing.T) {
	c := &campaign.Campaign{ID: 7, CreatedAt: t0, Stage2Started: t0}
	var cases []evidence.Case
	for i := int64(1); i <= 40; i++ {
		cs := evidence.Case{ID: i, UserID: fmt.Sprintf("u%d", i), Department: "Sales", Kind: "app", EntitlementID: "0oa1",
			Entitlement: "App 1", Flags: []string{}, Outcome: "kept"}
		if i > 30 {
			cs.Flags = []string{"stale_login"}
		}
		cases = append(cases, cs)
	}
	cases[4].UserID = "self" // case 5 is the deciding reviewer's own access
	for _, tc := range []struct {
		name      string
		decisions []evidence.Decision
		escalated []evidence.Escalation
		delivered []store.FormDelivery
		who       string
		flags     []string
		check     func(t *testing.T, rs evidence.ReviewerStats)
	}{
		{name: "slow and varied: no flag", who: "slow", decisions: append(decisionsBy("slow", 1, 5, time.Minute),
			evidence.Decision{CaseID: 6, At: t0.Add(2 * time.Hour), Stage: "stage2", Decision: "revoke", ActorID: "slow"}), flags: nil},
		{name: "fast: more than 10 under 2 s", who: "fast", decisions: decisionsBy("fast", 1, 20, time.Second), flags: []string{evidence.FlagFastDecisions},
			check: func(t *testing.T, rs evidence.ReviewerStats) {
				if rs.FastDecisions != 19 || rs.MinSeconds != 1 || rs.TimedFrom != "stage_start" {
					t.Errorf("stats %+v", rs)
				}
			}},
		{name: "all kept, some stale", who: "keeper", decisions: decisionsBy("keeper", 21, 15, time.Minute), flags: []string{evidence.FlagAllKeptStale},
			check: func(t *testing.T, rs evidence.ReviewerStats) {
				if rs.StaleKept != 5 || rs.KeptShare != 1 {
					t.Errorf("stats %+v", rs)
				}
			}},
		{name: "own access", who: "self", decisions: decisionsBy("self", 5, 1, time.Minute), flags: []string{evidence.FlagNotIndependent},
			check: func(t *testing.T, rs evidence.ReviewerStats) {
				if rs.OwnAccess != 1 || rs.OwnEscalation != 0 {
					t.Errorf("stats %+v", rs)
				}
			}},
		{name: "own escalation", who: "lazy", decisions: decisionsBy("lazy", 8, 1, time.Minute),
			escalated: []evidence.Escalation{{CaseID: 8, From: "lazy", To: "boss"}}, flags: []string{evidence.FlagNotIndependent},
			check: func(t *testing.T, rs evidence.ReviewerStats) {
				if rs.OwnEscalation != 1 {
					t.Errorf("stats %+v", rs)
				}
			}},
		{name: "timed from the form's delivery", who: "quick", decisions: decisionsBy("quick", 1, 3, 10*time.Second),
			delivered: []store.FormDelivery{{Ref: "r:7:quick:u1:1", SentAt: t0.Add(time.Hour - 5*time.Second)}}, flags: nil,
			check: func(t *testing.T, rs evidence.ReviewerStats) {
				if rs.TimedFrom != "mixed" || rs.WithinDelivery != 1 || rs.MinSeconds != 5 {
					t.Errorf("stats %+v", rs)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := evidence.DecisionsFile{Decisions: tc.decisions, Escalations: tc.escalated}
			a := evidence.Analyze(c, cases, d, tc.delivered, evidence.Thresholds{FastDecisionsMax: 10})
			i := slices.IndexFunc(a.Reviewers, func(rs evidence.ReviewerStats) bool { return rs.ReviewerID == tc.who })
			if i < 0 {
				t.Fatalf("no stats for %s: %+v", tc.who, a.Reviewers)
			}
			rs := a.Reviewers[i]
			if !slices.Equal(rs.Flags, tc.flags) && len(rs.Flags)+len(tc.flags) > 0 {
				t.Errorf("flags %v, want %v (%+v)", rs.Flags, tc.flags, rs)
			}
			if len(a.Flags) != len(tc.flags) {
				t.Errorf("flag list %+v", a.Flags)
			}
			if tc.check != nil {
				tc.check(t, rs)
			}
		})
	}
}
