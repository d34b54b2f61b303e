package campaign_test

import (
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
