package campaign_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

func TestRiskRules(t *testing.T) {
	r := campaign.RiskRules{
		Apps:   map[string]string{"Payroll": "critical", "AWS *": "high", "0oa42": "medium", "AWS Dev*": "low"},
		Groups: map[string]string{"*-admins": "critical"},
	}
	tests := []struct{ kind, id, label, want string }{
		{"app", "0oa1", "payroll", "critical"},
		{"app", "0oa2", "AWS Production", "high"},
		{"app", "0oa3", "AWS Dev Sandbox", "high"}, // the riskiest pattern wins
		{"app", "0oa42", "Wiki", "medium"},         // by id
		{"app", "0oa42", "Payroll", "medium"},      // an id rule beats a label rule
		{"app", "0oa5", "Slack", ""},
		{"group", "00g1", "aws-admins", "critical"},
		{"group", "00g2", "Payroll", ""}, // app rules do not rate groups
	}
	for _, tc := range tests {
		if got := r.Level(tc.kind, tc.id, tc.label); got != tc.want {
			t.Errorf("Level(%s %s %q) = %q, want %q", tc.kind, tc.id, tc.label, got, tc.want)
		}
	}
	cases := []campaign.CaseRecord{{Label: "b", Risk: "low"}, {Label: "a", Risk: ""}, {Label: "z", Risk: "critical"}, {Label: "c", Risk: "low"}}
	campaign.SortByRisk(cases)
	if cases[0].Label != "z" || cases[1].Label != "b" || cases[2].Label != "c" || cases[3].Label != "a" {
		t.Fatalf("order = %v", cases)
	}
}

// A definition can scope a campaign to critical access; a plan that
// removes critical access needs one approval more than the definition asks.
func TestRiskScopeAndCriticalApproval(t *testing.T) {
	h := newHarness(t, org())
	h.eng.Risk = campaign.RiskRules{Apps: map[string]string{"GitHub": "critical"}}.Level
	def := strings.Replace(baseDef, "[approver@x.com, iam@x.com]", "[approver@x.com, vp@x.com]", 1)
	c := h.launch(def + "scope: {risk: [critical]}\nremediation: {no_decision: revoke}\n")
	for k, cs := range h.cases(c.ID) {
		if cs.Risk != "critical" || cs.Label != "GitHub" {
			t.Fatalf("case %s in a critical-only campaign: %+v", k, cs)
		}
	}
	if _, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com")); err != nil {
		t.Fatal(err)
	}
	got, n, err := h.eng.Approve(h.ctx, c.ID, as("approver@x.com"))
	if err != nil || got.State != campaign.StateClosed || n != 1 {
		t.Fatalf("first approval: state %v, %d approvals, %v; want still closed", got.State, n, err)
	}
	got, n, err = h.eng.Approve(h.ctx, c.ID, as("vp@x.com"))
	if err != nil || got.State != campaign.StateApproved || n != 2 {
		t.Fatalf("second approval: state %v, %d approvals, %v; want approved", got.State, n, err)
	}
}

// Bind keeps a binding while its rule is configured and its id exists,
// whatever the label is now; it binds what labels and patterns match now;
// id rules need no binding.
func TestRiskRulesBind(t *testing.T) {
	r := campaign.RiskRules{
		Apps:   map[string]string{"Payroll": "critical", "AWS *": "high", "0oa9": "low"},
		Groups: map[string]string{"*-admins": "high"},
	}
	t1 := t0.Add(day)
	prev := []campaign.RiskBinding{
		{Kind: "app", ID: "0oa1", Rule: "Payroll", Level: "high", Label: "Payroll", BoundAt: t0, SnapshotID: 1},
		{Kind: "app", ID: "0oa2", Rule: "Payroll", Level: "critical", Label: "Payroll", BoundAt: t0, SnapshotID: 1},   // app gone
		{Kind: "app", ID: "0oa3", Rule: "Treasury", Level: "critical", Label: "Treasury", BoundAt: t0, SnapshotID: 1}, // rule gone
	}
	targets := []campaign.RiskTarget{
		{Kind: "app", ID: "0oa1", Label: "Payroll (legacy)"}, // renamed
		{Kind: "app", ID: "0oa3", Label: "Treasury"},
		{Kind: "app", ID: "0oa4", Label: "AWS Prod"},
		{Kind: "app", ID: "0oa9", Label: "Payroll"}, // rated by its id rule
		{Kind: "group", ID: "00g1", Label: "aws-admins"},
		{Kind: "group", ID: "00g2", Label: "Payroll"},
	}
	got := r.Bind(targets, prev, 2, t1)
	want := []campaign.RiskBinding{
		{Kind: "app", ID: "0oa1", Rule: "Payroll", Level: "critical", Label: "Payroll", BoundAt: t0, SnapshotID: 1},
		{Kind: "app", ID: "0oa4", Rule: "AWS *", Level: "high", Label: "AWS Prod", BoundAt: t1, SnapshotID: 2},
		{Kind: "group", ID: "00g1", Rule: "*-admins", Level: "high", Label: "aws-admins", BoundAt: t1, SnapshotID: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Bind =\n%+v\nwant\n%+v", got, want)
	}
}

// An app rated by its label at one sync, then renamed in Okta, is still
// rated at the next: its cases are critical and removing it takes the extra
// approval. With the rule removed, the next sync drops the binding. On the
// old code (Engine.Risk = RiskRules.Level) the renamed app is unrated and
// one approval suffices.
func TestRiskBindingSurvivesRename(t *testing.T) {
	h := newHarness(t, oktaIDs(org()))
	rules := campaign.RiskRules{Apps: map[string]string{"GitHub": "critical"}}
	book := &campaign.RiskBook{Rules: rules, Store: h.st, Now: h.clock.Now}
	h.eng.Risk = book.Level
	first, err := h.st.LatestSnapshot(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := book.Bind(h.ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	renamed := oktaIDs(org())
	for i := range renamed.Apps {
		if renamed.Apps[i].ID == "0oagithub" {
			renamed.Apps[i].Label = "GitHub (legacy)"
		}
	}
	campaign.ResolveManagers(renamed.Users)
	second, err := h.st.SaveSnapshot(h.ctx, renamed, campaign.Count(renamed))
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(day)
	bound, err := book.Bind(h.ctx, second)
	if err != nil || len(bound) != 1 || bound[0].ID != "0oagithub" || bound[0].Label != "GitHub" || !bound[0].BoundAt.Equal(t0) {
		t.Fatalf("bindings after the rename = %+v, %v; want github bound at the first sync as GitHub", bound, err)
	}
	if lvl := rules.Level(campaign.KindApp, "0oagithub", "GitHub (legacy)"); lvl != "" {
		t.Fatalf("by label alone the renamed app is %q; this test would not tell the old code apart", lvl)
	}
	// Another process (serve) reads the persisted bindings.
	fresh := &campaign.RiskBook{Rules: rules, Store: h.st}
	if lvl := fresh.Level(campaign.KindApp, "0oagithub", "GitHub (legacy)"); lvl != "critical" {
		t.Fatalf("a new book rates the renamed app %q, want critical", lvl)
	}

	def := strings.Replace(baseDef, "[approver@x.com, iam@x.com]", "[approver@x.com, vp@x.com]", 1)
	c := h.launch(def + "scope: {risk: [critical]}\nremediation: {no_decision: revoke}\n")
	cases := h.cases(c.ID)
	if len(cases) == 0 {
		t.Fatal("a critical-only campaign after the rename has no cases: the renamed app lost its rating")
	}
	for k, cs := range cases {
		if cs.Risk != "critical" || cs.Label != "GitHub (legacy)" {
			t.Fatalf("case %s: %+v; want the renamed GitHub, critical", k, cs)
		}
	}
	if _, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com")); err != nil {
		t.Fatal(err)
	}
	got, n, err := h.eng.Approve(h.ctx, c.ID, as("approver@x.com"))
	if err != nil || got.State != campaign.StateClosed || n != 1 {
		t.Fatalf("first approval: state %v, %d approvals, %v; want still closed (critical access)", got.State, n, err)
	}

	// The rule leaves the configuration: the binding goes at the next sync.
	book.Rules = campaign.RiskRules{Apps: map[string]string{"Jira": "low"}}
	if lvl := book.Level(campaign.KindApp, "0oagithub", "GitHub (legacy)"); lvl != "" {
		t.Fatalf("with its rule removed the renamed app is %q before the sync, want unrated", lvl)
	}
	if _, err := book.Bind(h.ctx, second); err != nil {
		t.Fatal(err)
	}
	left, err := h.st.RiskBindings(h.ctx)
	if err != nil || len(left) != 1 || left[0].ID != "0oajira" {
		t.Fatalf("bindings after the rule was removed = %+v, %v; want only jira's", left, err)
	}
}

// Without a store the book rates as the rules do.
func TestRiskBookWithoutStore(t *testing.T) {
	book := &campaign.RiskBook{Rules: campaign.RiskRules{Apps: map[string]string{"Pay*": "high"}}}
	if got := book.Level(campaign.KindApp, "0oa1", "Payroll"); got != "high" {
		t.Fatalf("Level = %q, want high", got)
	}
	if b, err := book.Bind(context.Background(), 1); b != nil || err != nil {
		t.Fatalf("Bind = %v, %v; want nothing", b, err)
	}
}

// oktaIDs gives the fixture's apps ids unlike their labels, as Okta's are
// ("0oa…"), since a rule key equal to an id is an id rule.
func oktaIDs(s *campaign.Snapshot) *campaign.Snapshot {
	for i := range s.Apps {
		s.Apps[i].ID = "0oa" + s.Apps[i].ID
	}
	for i := range s.AppAssignments {
		s.AppAssignments[i].AppID = "0oa" + s.AppAssignments[i].AppID
	}
	for i := range s.GroupAssignments {
		s.GroupAssignments[i].AppID = "0oa" + s.GroupAssignments[i].AppID
	}
	return s
}
