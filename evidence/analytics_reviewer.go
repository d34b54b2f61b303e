package evidence

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
)

// reviewerStats computes one reviewer's stats in one stage from their
// decisions (audit order).
//
// Seconds per decision: each decision not made in bulk is timed from the
// later of the reviewer's previous decision in the stage and the moment
// the form holding the case reached Slack; without a recorded delivery
// (CLI answers, or a store without the outbox row), from the stage's start.
// Decisions submitted together (one form's Submit: the same action time)
// share that time equally: a reviewer who reads a five-case form for two
// minutes spends 24 s a decision, not 120 s on one and none on four.
func reviewerStats(c *campaign.Campaign, decs []Decision, cases map[int64]*Case, escalatedFrom map[int64][]string,
	delivered map[string]time.Time, t Thresholds) ReviewerStats {
	first := decs[0]
	rs := ReviewerStats{Reviewer: firstOf(first.ActorEmail, first.ActorID), ReviewerID: first.ActorID, Stage: first.Stage,
		Flags: []string{}}
	sort.SliceStable(decs, func(i, j int) bool { return actionTime(decs[i]).Before(actionTime(decs[j])) })
	latest := map[int64]Decision{}
	var gaps []float64
	var prev time.Time
	fromDelivery, fromStart := 0, 0
	// group holds the non-bulk decisions made at one action time, timed
	// together once the next decision's time differs.
	var group []time.Time // each decision's timing base
	var groupAt time.Time
	flush := func() {
		if len(group) == 0 {
			return
		}
		base := group[0]
		for _, b := range group[1:] {
			base = maxTime(base, b)
		}
		per := math.Max(0, groupAt.Sub(maxTime(prev, base)).Seconds()) / float64(len(group))
		for range group {
			gaps = append(gaps, per)
			if per < t.FastDecisionSeconds {
				rs.FastDecisions++
			}
		}
		prev = maxTime(prev, groupAt)
		group = group[:0]
	}
	for _, d := range decs {
		rs.Decisions++
		latest[d.CaseID] = d
		when := actionTime(d)
		cs := cases[d.CaseID]
		if (d.Stage == string(campaign.StateStage2) || d.Stage == string(campaign.StateStage3)) && cs != nil {
			if d.ActorID != "" && d.ActorID == cs.UserID || d.ActorEmail != "" && strings.EqualFold(d.ActorEmail, cs.UserEmail) {
				rs.OwnAccess++
			}
			if d.ActorID != "" && slices.Contains(escalatedFrom[d.CaseID], d.ActorID) {
				rs.OwnEscalation++
			}
		}
		if len(group) > 0 && !when.Equal(groupAt) {
			flush()
		}
		if d.Bulk {
			rs.Bulk++
			prev = maxTime(prev, when)
			continue
		}
		base, ok := formDelivery(c, d, cs, delivered)
		if ok {
			fromDelivery++
			if s := when.Sub(base).Seconds(); s <= t.WithinDeliverySeconds && s >= 0 {
				rs.WithinDelivery++
			}
		} else {
			fromStart++
			base = stageStart(c, d.Stage)
		}
		group, groupAt = append(group, base), when
	}
	flush()
	for id, d := range latest {
		rs.CasesDecided++
		switch d.Decision {
		case campaign.DecisionKeep:
			rs.Kept++
			if cs := cases[id]; cs != nil && (slices.Contains(cs.Flags, "stale_login") || slices.Contains(cs.Flags, "unused_app")) {
				rs.StaleKept++
			}
		case campaign.DecisionRevoke:
			rs.Revoked++
		default:
			rs.Unsure++
		}
	}
	if rs.CasesDecided > 0 {
		rs.KeptShare = math.Round(float64(rs.Kept)/float64(rs.CasesDecided)*1000) / 1000
	}
	switch {
	case len(gaps) == 0:
		rs.TimedFrom = "bulk_only"
	case fromStart == 0:
		rs.TimedFrom = "delivery"
	case fromDelivery == 0:
		rs.TimedFrom = "stage_start"
	default:
		rs.TimedFrom = "mixed"
	}
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		rs.MinSeconds = round3(gaps[0])
		rs.MedianSeconds = round3(median(gaps))
	}
	if rs.FastDecisions > t.FastDecisionsMax {
		rs.Flags = append(rs.Flags, FlagFastDecisions)
	}
	if rs.CasesDecided >= t.AllKeptMinCases && rs.Kept == rs.CasesDecided && rs.StaleKept > 0 {
		rs.Flags = append(rs.Flags, FlagAllKeptStale)
	}
	if rs.OwnAccess+rs.OwnEscalation > 0 {
		rs.Flags = append(rs.Flags, FlagNotIndependent)
	}
	return rs
}

// actionTime is when a decision was made: Slack's action_ts when the
// click carried one, else the time the audit log recorded.
func actionTime(d Decision) time.Time {
	if d.SlackActionTS != "" {
		if f, err := strconv.ParseFloat(d.SlackActionTS, 64); err == nil && f > 0 {
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC()
		}
	}
	return d.At
}

// formDelivery returns when the form holding decision d's case reached
// the decider, if the outbox recorded it.
func formDelivery(c *campaign.Campaign, d Decision, cs *Case, delivered map[string]time.Time) (time.Time, bool) {
	if cs == nil {
		return time.Time{}, false
	}
	if d.Stage == string(campaign.StateStage1) {
		t, ok := delivered[fmt.Sprintf("m:%d:%s", c.ID, cs.UserID)]
		return t, ok
	}
	if t, ok := delivered[fmt.Sprintf("r:%d:%s:%s", c.ID, d.ActorID, cs.UserID)]; ok {
		return t, true
	}
	t, ok := delivered[fmt.Sprintf("r:%d::%s", c.ID, cs.UserID)] // the IAM team's forms
	return t, ok
}

// stageStart is when a stage began.
func stageStart(c *campaign.Campaign, stage string) time.Time {
	if stage == string(campaign.StateStage2) && !c.Stage2Started.IsZero() {
		return c.Stage2Started
	}
	return c.CreatedAt
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// median of sorted xs.
func median(xs []float64) float64 {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
