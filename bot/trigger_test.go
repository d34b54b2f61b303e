package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/hooks"
)

// An Okta event granting a critical app reaches the user's manager as a
// Slack form; their "revoke" closes the review and puts the removal up
// for approval in the approvals channel.
func TestGrantEventThroughSlack(t *testing.T) {
	r := newRig(t)
	app := r.org.Apps[0]
	rules := campaign.RiskRules{Apps: map[string]string{app.Label: "critical"}}
	r.eng.Risk = rules.Level
	// A user with a manager the bot can reach.
	var user, mgr string
	for _, u := range r.org.Users[3:] {
		if u.Status == "ACTIVE" && u.ManagerID != "" {
			user, mgr = u.ID, u.ManagerID
			break
		}
	}
	tr := &hooks.Triggers{Engine: r.eng, Risk: rules.Level, DecideWithin: 24 * time.Hour}
	ev := hooks.Event{UUID: "ev-grant-1", EventType: "application.user_membership.add", Published: r.org.Now,
		Actor:  hooks.Actor{ID: "00uadmin", AlternateID: "admin@example.com"},
		Target: []hooks.Target{{ID: app.ID, Type: "AppInstance", DisplayName: app.Label}, {ID: user, Type: "User"}}}
	if err := tr.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	r.eventually("manager gets the grant review", func() bool { return len(reviewerForms(r.dm(mgr), "reviewer_submit")) > 0 })
	f := reviewerForms(r.dm(mgr), "reviewer_submit")[0]
	ids := caseIDs(f)
	if len(ids) != 1 || !strings.Contains(string(f.Blocks), app.Label) {
		t.Fatalf("grant review form: %s", f.Blocks)
	}
	r.click(r.slackOf[mgr], f, "reviewer_submit", map[string]string{ids[0]: "revoke"})
	r.eventually("review closed", func() bool {
		list, _ := r.st.ListCampaigns(r.ctx)
		return len(list) == 1 && list[0].State == campaign.StateClosed
	})
	r.eventually("removal up for approval", func() bool { return len(reviewerForms(r.slack.Messages(approvals), "plan_approve")) > 0 })
}
