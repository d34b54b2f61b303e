package evidence

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// Thresholds decide when a reviewer's pattern is flagged as possible
// rubber-stamping. A zero field takes DefaultThresholds' value.
type Thresholds struct {
	// FastDecisionSeconds: a decision made this soon after the reviewer's
	// previous one (or the form's delivery) counts as fast.
	FastDecisionSeconds float64 `json:"fast_decision_seconds"`
	// FastDecisionsMax: more fast decisions than this raises the
	// fast_decisions flag.
	FastDecisionsMax int `json:"fast_decisions_max"`
	// WithinDeliverySeconds: decisions made within this many seconds of
	// the form's delivery are counted.
	WithinDeliverySeconds float64 `json:"within_delivery_seconds"`
	// AllKeptMinCases: a reviewer who kept every one of at least this many
	// cases, some of them stale or unused, raises the all_kept_stale flag.
	AllKeptMinCases int `json:"all_kept_min_cases"`
}

// DefaultThresholds are the thresholds used when none are configured.
var DefaultThresholds = Thresholds{FastDecisionSeconds: 2, FastDecisionsMax: 50, WithinDeliverySeconds: 30, AllKeptMinCases: 10}

// withDefaults fills t's zero fields from DefaultThresholds.
func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds
	if t.FastDecisionSeconds > 0 {
		d.FastDecisionSeconds = t.FastDecisionSeconds
	}
	if t.FastDecisionsMax > 0 {
		d.FastDecisionsMax = t.FastDecisionsMax
	}
	if t.WithinDeliverySeconds > 0 {
		d.WithinDeliverySeconds = t.WithinDeliverySeconds
	}
	if t.AllKeptMinCases > 0 {
		d.AllKeptMinCases = t.AllKeptMinCases
	}
	return d
}

// AnalyticsFile is analytics.json: outcomes by team and entitlement, and
// each reviewer's pattern of decisions per stage with its flags.
type AnalyticsFile struct {
	SchemaVersion string           `json:"schema_version"`
	CampaignID    int64            `json:"campaign_id"`
	Thresholds    Thresholds       `json:"thresholds"`
	Outcomes      Outcomes         `json:"outcomes"`
	ByTeam        []GroupOutcomes  `json:"by_team"`
	ByEntitlement []GroupOutcomes  `json:"by_entitlement"`
	Reviewers     []ReviewerStats  `json:"reviewers"`
	Flags         []FlaggedPattern `json:"flags"`
	// Leavers cross-checks suspended and deprovisioned users' access.
	Leavers LeaverCheck `json:"leavers"`
}

// GroupOutcomes is the outcomes of one team's or one entitlement's cases.
type GroupOutcomes struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
	Outcomes
}

// ReviewerStats is one reviewer's decisions in one stage. Timings leave
// bulk confirmations out: one click decides many cases.
type ReviewerStats struct {
	Reviewer      string  `json:"reviewer"`
	ReviewerID    string  `json:"reviewer_id"`
	Stage         string  `json:"stage"`
	CasesDecided  int     `json:"cases_decided"`
	Decisions     int     `json:"decisions"`
	Kept          int     `json:"kept"`
	Revoked       int     `json:"revoked"`
	Unsure        int     `json:"unsure"`
	KeptShare     float64 `json:"kept_share"`
	Bulk          int     `json:"bulk"`
	StaleKept     int     `json:"stale_kept"`
	TimedFrom     string  `json:"timed_from"`
	MedianSeconds float64 `json:"median_seconds_per_decision"`
	MinSeconds    float64 `json:"min_seconds_per_decision"`
	// FastDecisions counts decisions made under the fast threshold after
	// the one before (or the delivery).
	FastDecisions int `json:"fast_decisions"`
	// WithinDelivery counts decisions made within the threshold of the
	// form's delivery; 0 when no delivery was recorded.
	WithinDelivery int `json:"within_delivery"`
	// OwnAccess and OwnEscalation count stage-2 decisions on the
	// reviewer's own access, and on cases escalated away from them.
	OwnAccess     int      `json:"own_access"`
	OwnEscalation int      `json:"own_escalation"`
	Flags         []string `json:"flags"`
}

// FlaggedPattern is one flag raised on one reviewer.
type FlaggedPattern struct {
	Reviewer string `json:"reviewer"`
	Stage    string `json:"stage"`
	Flag     string `json:"flag"`
	Detail   string `json:"detail"`
}

// Flag names.
const (
	FlagFastDecisions  = "fast_decisions"
	FlagAllKeptStale   = "all_kept_stale"
	FlagNotIndependent = "not_independent"
)

// Analyze computes the analytics from the cases, the decisions and the
// forms' delivery times.
func Analyze(c *campaign.Campaign, cases []Case, d DecisionsFile, deliveries []store.FormDelivery, t Thresholds) AnalyticsFile {
	t = t.withDefaults()
	a := AnalyticsFile{SchemaVersion: SchemaVersion, CampaignID: c.ID, Thresholds: t,
		ByTeam: []GroupOutcomes{}, ByEntitlement: []GroupOutcomes{}, Reviewers: []ReviewerStats{}, Flags: []FlaggedPattern{},
		Leavers: LeaverCheck{Items: []LeaverCase{}}}
	teams, ents := map[string]*GroupOutcomes{}, map[string]*GroupOutcomes{}
	byID := make(map[int64]*Case, len(cases))
	for i := range cases {
		cs := &cases[i]
		byID[cs.ID] = cs
		a.Outcomes.add(cs.Outcome)
		team := cs.Department
		if team == "" {
			team = "(no department)"
		}
		group(teams, team, "").add(cs.Outcome)
		group(ents, cs.Kind+"/"+cs.EntitlementID, cs.Kind).add(cs.Outcome)
		ents[cs.Kind+"/"+cs.EntitlementID].Name = cs.Entitlement
	}
	a.ByTeam, a.ByEntitlement = sortedGroups(teams), sortedGroups(ents)
	escalatedFrom := map[int64][]string{}
	for _, e := range d.Escalations {
		escalatedFrom[e.CaseID] = append(escalatedFrom[e.CaseID], e.From)
	}
	delivered := deliveryIndex(deliveries)
	type key struct{ who, stage string }
	groups := map[key][]Decision{}
	var order []key
	for _, dec := range d.Decisions {
		k := key{firstOf(dec.ActorID, dec.ActorEmail), dec.Stage}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], dec)
	}
	for _, k := range order {
		rs := reviewerStats(c, groups[k], byID, escalatedFrom, delivered, t)
		a.Reviewers = append(a.Reviewers, rs)
	}
	sort.Slice(a.Reviewers, func(i, j int) bool {
		x, y := a.Reviewers[i], a.Reviewers[j]
		if x.Stage != y.Stage {
			return x.Stage > y.Stage // stage2 (reviewers) first
		}
		if len(x.Flags) != len(y.Flags) {
			return len(x.Flags) > len(y.Flags)
		}
		return x.Reviewer < y.Reviewer
	})
	for _, r := range a.Reviewers {
		for _, f := range r.Flags {
			a.Flags = append(a.Flags, FlaggedPattern{Reviewer: r.Reviewer, Stage: r.Stage, Flag: f, Detail: flagDetail(r, f, t)})
		}
	}
	return a
}

func group(m map[string]*GroupOutcomes, name, kind string) *Outcomes {
	if m[name] == nil {
		m[name] = &GroupOutcomes{Name: name, Kind: kind}
	}
	return &m[name].Outcomes
}

// sortedGroups orders groups by case count, then name.
func sortedGroups(m map[string]*GroupOutcomes) []GroupOutcomes {
	out := make([]GroupOutcomes, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cases != out[j].Cases {
			return out[i].Cases > out[j].Cases
		}
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}

// flagDetail says in a sentence why flag f was raised on r.
func flagDetail(r ReviewerStats, f string, t Thresholds) string {
	switch f {
	case FlagFastDecisions:
		return fmt.Sprintf("%d decisions took under %gs each (more than %d); median %.1fs", r.FastDecisions,
			t.FastDecisionSeconds, t.FastDecisionsMax, r.MedianSeconds)
	case FlagAllKeptStale:
		return fmt.Sprintf("kept all %d cases, %d of them stale or unused", r.CasesDecided, r.StaleKept)
	case FlagNotIndependent:
		return fmt.Sprintf("%d decisions on their own access, %d on cases escalated away from them", r.OwnAccess, r.OwnEscalation)
	}
	return f
}

// deliveryIndex maps a form ("m:<campaign>:<member>" or
// "r:<campaign>:<reviewer>:<member>", without the page) to when its first
// page reached Slack.
func deliveryIndex(ds []store.FormDelivery) map[string]time.Time {
	out := map[string]time.Time{}
	for _, d := range ds {
		i := strings.LastIndexByte(d.Ref, ':')
		if i < 0 {
			continue
		}
		form := d.Ref[:i]
		if old, ok := out[form]; !ok || d.SentAt.Before(old) {
			out[form] = d.SentAt
		}
	}
	return out
}
