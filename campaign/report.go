package campaign

import (
	"context"
	"sort"
	"strings"
	"time"
)

// Report is a campaign's progress and results, for people and auditors.
type Report struct {
	ID             int64            `json:"id"`
	Name           string           `json:"name"`
	State          State            `json:"state"`
	Owner          string           `json:"owner"`
	SnapshotID     int64            `json:"snapshot_id"`
	SnapshotDigest string           `json:"snapshot_sha256"`
	CreatedAt      time.Time        `json:"created_at"`
	Stage1Ends     time.Time        `json:"stage1_ends,omitempty"`
	Deadline       time.Time        `json:"deadline"`
	ClosedAt       time.Time        `json:"closed_at,omitempty"`
	Cases          int              `json:"cases"`
	Members        int              `json:"members"`
	MembersDone    int              `json:"members_answered_all"`
	ByState        map[string]int   `json:"cases_by_state"`
	PerTeam        []ProgressRow    `json:"progress_per_team"`
	PerReviewer    []ProgressRow    `json:"progress_per_reviewer"`
	PerApp         []OutcomeRow     `json:"outcomes_per_app"`
	Plan           map[string]int   `json:"plan"`
	PlanItems      []PlanItem       `json:"plan_items,omitempty"`
	caseRows       []CaseRecord     // for CSV
	people         map[string]*User // for names in CSV
}

// ProgressRow is one team's or reviewer's progress.
type ProgressRow struct {
	Name           string `json:"name"`
	Cases          int    `json:"cases"`
	MemberAnswered int    `json:"answered_by_member"`
	Decided        int    `json:"decided_by_reviewer"`
	Open           int    `json:"open"`
	Escalated      int    `json:"escalated"`
}

// OutcomeRow is one entitlement's outcomes.
type OutcomeRow struct {
	Label      string `json:"label"`
	Kind       string `json:"kind"`
	Cases      int    `json:"cases"`
	Kept       int    `json:"kept"`
	Revoked    int    `json:"revoked"`
	NoDecision int    `json:"no_decision"`
}

// Report builds a campaign's report. Case states counted: answered by
// member, confirmed by manager, escalated, delegated, no decision, kept,
// revoked, and the plan's conflicts and manual items.
func (e *Engine) Report(ctx context.Context, id int64) (*Report, error) {
	c, err := e.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	cases, err := e.Store.Cases(ctx, id, CaseQuery{})
	if err != nil {
		return nil, err
	}
	plan, err := e.Store.Plan(ctx, id)
	if err != nil {
		return nil, err
	}
	snap, err := e.Store.LoadSnapshot(ctx, c.SnapshotID)
	if err != nil {
		return nil, err
	}
	people := make(map[string]*User, len(snap.Users))
	for i := range snap.Users {
		people[snap.Users[i].ID] = &snap.Users[i]
	}
	r := &Report{ID: c.ID, Name: c.Name, State: c.State, Owner: c.Owner, SnapshotID: c.SnapshotID, SnapshotDigest: c.SnapshotDigest,
		CreatedAt: c.CreatedAt, Stage1Ends: c.Stage1Ends, Deadline: c.Deadline, ClosedAt: c.ClosedAt, Cases: len(cases),
		ByState: map[string]int{}, Plan: map[string]int{}, PlanItems: plan, caseRows: cases, people: people}
	for _, k := range []string{"answered_by_member", "confirmed_by_manager", "escalated", "delegated", "no_decision",
		"kept", "revoked", "conflict", "manual"} {
		r.ByState[k] = 0
	}
	ownerDecided, ownerOpen, err := e.ownerReport(ctx, c, cases)
	if err != nil {
		return nil, err
	}
	if c.Definition.Stages.AppOwner.On() {
		r.ByState["decided_by_owner"] = len(ownerDecided)
	}
	teams, reviewers := map[string]*ProgressRow{}, map[string]*ProgressRow{}
	apps := map[string]*OutcomeRow{}
	memberOpen := map[string]int{}
	row := func(m map[string]*ProgressRow, name string) *ProgressRow {
		if m[name] == nil {
			m[name] = &ProgressRow{Name: name}
		}
		return m[name]
	}
	for i := range cases {
		cs := &cases[i]
		dept := "(no department)"
		if u := people[cs.UserID]; u != nil && u.Department != "" {
			dept = u.Department
		}
		reviewer := "IAM team"
		if u := people[cs.ReviewerID]; u != nil {
			reviewer = firstNonEmpty(u.Email, u.Login)
		}
		open := cs.Outcome == "" && (c.State == StateStage1 && cs.MemberDecision == "" ||
			c.State == StateStage2 && cs.ReviewerDecision == "" && cs.NeedsReviewer(c.Definition) || ownerOpen[cs.ID])
		for _, p := range []*ProgressRow{row(teams, dept), row(reviewers, reviewer)} {
			p.Cases++
			if cs.MemberDecision != "" {
				p.MemberAnswered++
			}
			if cs.ReviewerDecision != "" {
				p.Decided++
			}
			if open {
				p.Open++
			}
			if cs.EscalationLevel > 0 {
				p.Escalated++
			}
		}
		if cs.MemberDecision == "" {
			memberOpen[cs.UserID]++
		} else if _, ok := memberOpen[cs.UserID]; !ok {
			memberOpen[cs.UserID] = 0
		}
		count(r.ByState, "answered_by_member", cs.MemberDecision != "")
		count(r.ByState, "confirmed_by_manager", cs.ReviewerDecision != "")
		count(r.ByState, "escalated", cs.EscalationLevel > 0)
		count(r.ByState, "delegated", cs.DelegatedBy != "")
		count(r.ByState, "no_decision", cs.Outcome == OutcomeNoDecisionKept || cs.Outcome == OutcomeNoDecisionRevoked)
		count(r.ByState, "kept", cs.Outcome == OutcomeKept || cs.Outcome == OutcomeNoDecisionKept)
		count(r.ByState, "revoked", Revoked(cs.Outcome))
		a := apps[cs.Kind+"/"+cs.EntitlementID]
		if a == nil {
			a = &OutcomeRow{Label: cs.Label, Kind: cs.Kind}
			apps[cs.Kind+"/"+cs.EntitlementID] = a
		}
		a.Cases++
		count2(&a.Kept, cs.Outcome == OutcomeKept || cs.Outcome == OutcomeNoDecisionKept)
		count2(&a.Revoked, Revoked(cs.Outcome))
		count2(&a.NoDecision, cs.Outcome == OutcomeNoDecisionKept || cs.Outcome == OutcomeNoDecisionRevoked)
	}
	r.Members = len(memberOpen)
	for _, n := range memberOpen {
		if n == 0 {
			r.MembersDone++
		}
	}
	for _, p := range plan {
		r.Plan[p.Kind]++
		switch p.Kind {
		case ItemConflict:
			r.ByState["conflict"] += len(p.CaseIDs)
		case ItemManual:
			r.ByState["manual"] += len(p.CaseIDs)
		}
	}
	r.PerTeam, r.PerReviewer = sortedRows(teams), sortedRows(reviewers)
	for _, a := range apps {
		r.PerApp = append(r.PerApp, *a)
	}
	sort.Slice(r.PerApp, func(i, j int) bool {
		if r.PerApp[i].Cases != r.PerApp[j].Cases {
			return r.PerApp[i].Cases > r.PerApp[j].Cases
		}
		return strings.ToLower(r.PerApp[i].Label) < strings.ToLower(r.PerApp[j].Label)
	})
	return r, nil
}

func count(m map[string]int, k string, ok bool) {
	if ok {
		m[k]++
	}
}

func count2(n *int, ok bool) {
	if ok {
		*n++
	}
}

func sortedRows(m map[string]*ProgressRow) []ProgressRow {
	out := make([]ProgressRow, 0, len(m))
	for _, p := range m {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Open != out[j].Open {
			return out[i].Open > out[j].Open
		}
		return out[i].Name < out[j].Name
	})
	return out
}
