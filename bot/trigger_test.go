package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackdrive"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/hookevent"
)

// An Okta event granting a critical app reaches the user's manager as a
// Slack form; their "revoke" closes the review and puts the removal up
// for approval in the approvals channel.
func TestGrantEventThroughSlack(t *testing.T) {
	r := newRig(t)
	// A user with a manager the bot can reach, and an app no group grants
	// them: revoking the grant is then an unassignment Okta accepts.
	snap := r.org.Snapshot()
	grants := map[[2]string]bool{} // user, app granted through a group
	for _, ga := range snap.GroupAssignments {
		for _, m := range snap.Memberships {
			if m.GroupID == ga.GroupID {
				grants[[2]string{m.UserID, ga.AppID}] = true
			}
		}
	}
	var user, mgr string
	var app campaign.App
	for _, u := range r.org.Users[3:] {
		if u.Status != "ACTIVE" || u.ManagerID == "" {
			continue
		}
		for _, a := range snap.Apps {
			if a.Status == "ACTIVE" && !grants[[2]string{u.ID, a.ID}] {
				user, mgr, app = u.ID, u.ManagerID, a
				break
			}
		}
		if user != "" {
			break
		}
	}
	if user == "" {
		t.Fatal("the synthetic org has no user without a group grant of some app")
	}
	rules := campaign.RiskRules{Apps: map[string]string{app.Label: "critical"}}
	r.eng.Risk = rules.Level
	tr := &hooks.Triggers{Engine: r.eng, Risk: rules.Level, DecideWithin: 24 * time.Hour}
	ev := hookevent.Event{UUID: "ev-grant-1", EventType: "application.user_membership.add", Published: r.org.Now,
		Actor:  hookevent.Actor{ID: "00uadmin", AlternateID: "admin@example.com"},
		Target: []hookevent.Target{{ID: app.ID, Type: "AppInstance", DisplayName: app.Label}, {ID: user, Type: "User"}}}
	if err := tr.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	r.eventually("manager gets the grant review", func() bool { return len(reviewerForms(r.dm(mgr), "reviewer_submit")) > 0 })
	f := reviewerForms(r.dm(mgr), "reviewer_submit")[0]
	ids := slackdrive.CaseBlocks(f)
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

// A risk detection posts its alert to the security channel through the
// outbox, once even when the event is handled again after a retry.
func TestRiskAlertThroughSlack(t *testing.T) {
	r := newRig(t)
	const security = "CSECURITY"
	r.slack.AddChannel(security, "security-alerts")
	tr := &hooks.Triggers{Engine: r.eng, Alert: func(ctx context.Context, key, text string) error {
		return r.h.PostTo(ctx, security, key, text)
	}}
	user := r.org.Users[4]
	var ev hookevent.Event
	raw := fmt.Sprintf(`{"uuid":"ev-risk-1","eventType":"user.risk.detect","outcome":{"result":"SUCCESS"},
	"target":[{"id":%q,"type":"User","alternateId":%q}],
	"debugContext":{"debugData":{"risk":"{previousLevel=LOW, level=HIGH, detectionName=Session Influenced User Risk}"}}}`, user.ID, user.Email)
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := tr.Handle(r.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	// Both deliveries are queued by now: once the outbox holds nothing
	// left to send, no duplicate can still arrive.
	r.eventually("outbox drained", func() bool {
		c, err := r.st.OutboxCounts(r.ctx)
		return err == nil && c["pending"] == 0 && c["sending"] == 0 && c["sent"] > 0
	})
	if c, _ := r.st.OutboxCounts(r.ctx); c["failed"] != 0 {
		t.Fatalf("outbox = %v; nothing may fail", c)
	}
	msgs := r.slack.Messages(security)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, user.Email) || !strings.Contains(msgs[0].Text, "HIGH") {
		t.Fatalf("security channel: %+v, want one HIGH alert naming %s", msgs, user.Email)
	}
	if n := len(r.slack.Messages(approvals)); n != 0 {
		t.Fatalf("%d alert(s) went to the approvals channel instead", n)
	}
}
