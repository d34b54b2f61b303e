package campaign_test

import (
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// A fresh grant goes straight to the manager; their revoke closes the
// review at once with a plan for the approval path; the IAM team reviews
// grants to people without a manager.
func TestEventReview(t *testing.T) {
	h := newHarness(t, org())
	g := campaign.Grant{UserID: "dev2", Kind: campaign.KindApp, EntitlementID: "github", Label: "GitHub", GrantedBy: "admin@x.com",
		At: t0, EventID: "ev-1"}
	c, err := h.eng.LaunchEventReview(h.ctx, g, 24*time.Hour, []string{"iam@x.com"}, []string{"approver@x.com"})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != campaign.StateStage2 || h.notesTo("mgr", campaign.NoteReviewerForm) != 1 {
		t.Fatalf("event review: %s, notes %v", c.State, h.notes)
	}
	h.answer(c.ID, "mgr@x.com", "dev2@x.com", "GitHub", "revoke")
	got, err := h.st.GetCampaign(h.ctx, c.ID)
	if err != nil || got.State != campaign.StateClosed {
		t.Fatalf("after the decision: %v, %v; want closed", got, err)
	}
	plan, _ := h.st.Plan(h.ctx, c.ID)
	if len(plan) != 1 || plan[0].Kind != campaign.OpUnassignApp {
		t.Fatalf("plan = %+v", plan)
	}
	if got.Definition.Approval.Approvers[0] != "approver@x.com" {
		t.Fatalf("approvers lost on reload: %+v", got.Definition.Approval)
	}
	// No manager: the IAM reviewers decide.
	c2, err := h.eng.LaunchEventReview(h.ctx, campaign.Grant{UserID: "ops", Kind: campaign.KindApp, EntitlementID: "aws", Label: "AWS",
		EventID: "ev-2"}, 24*time.Hour, []string{"iam@x.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.answer(c2.ID, "iam@x.com", "ops@x.com", "AWS", "keep")
	if got, _ := h.st.GetCampaign(h.ctx, c2.ID); got.State != campaign.StateDone {
		t.Fatalf("kept grant: %s, want done (nothing to remove)", got.State)
	}
}
