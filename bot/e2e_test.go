package bot_test

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackdrive"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
)

// TestCampaignThroughSlack drives a whole campaign through the fake Slack,
// over Socket Mode and over HTTP request URLs (signed requests): a refused
// and an accepted slash command, member answers (and a click on someone
// else's form), manager answers, one escalation, close, approvals refused
// for a non-approver and for the launcher, and the approval.
func TestCampaignThroughSlack(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) { campaignThroughSlack(t, tr) })
	}
}

func campaignThroughSlack(t *testing.T, tr transport) {
	r := newRigOver(t, tr)
	outsider := r.slackOf[r.org.Users[len(r.org.Users)-1].ID]
	if got := r.slash(outsider, "start quarterly"); !strings.Contains(got, "Only IAM admins") {
		t.Fatalf("non-admin start: %q", got)
	}
	if got := r.slash(r.admin, "start quarterly"); !strings.Contains(got, "Launched campaign 1") {
		t.Fatalf("admin start: %q", got)
	}
	r.eventually("launcher told the forms are delivered", func() bool {
		for _, m := range r.dm(r.org.Users[1].ID) {
			if strings.Contains(m.Text, "forms delivered") && strings.Contains(m.Text, "(100%)") {
				return true
			}
		}
		return false
	})
	cases, err := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	if err != nil || len(cases) == 0 {
		t.Fatalf("cases: %d, %v", len(cases), err)
	}
	byUser := map[string][]campaign.CaseRecord{}
	for _, c := range cases {
		byUser[c.UserID] = append(byUser[c.UserID], c)
	}
	// m answers; m2's manager will stay silent and be escalated.
	var m, m2 string
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	sort.Strings(users)
	// m's revoked cases must make an Okta operation (a membership not
	// managed by a group rule, or an assignment no group also grants), or
	// the plan is manual only and there is nothing to approve.
	c1, err := r.st.GetCampaign(r.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.st.LoadSnapshot(r.ctx, c1.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	index := campaign.NewIndex(snap)
	removable := func(cs []campaign.CaseRecord) bool {
		revoked := slices.Clone(cs)
		for i := range revoked {
			revoked[i].Outcome = campaign.OutcomeRevoked
		}
		plan := campaign.BuildPlan(index, c1.Definition, revoked)
		return slices.ContainsFunc(plan, func(p campaign.PlanItem) bool { return p.IsOperation() })
	}
	for _, u := range users {
		cs := byUser[u]
		mgr, err := r.st.FindUser(r.ctx, 1, cs[0].ReviewerID)
		if cs[0].ReviewerID == "" || err != nil || mgr.ManagerID == "" || cs[0].ReviewerID == r.org.Users[1].ID {
			continue
		}
		switch {
		case m == "" && len(cs) >= 2 && removable(cs):
			m = u
		case m != "" && m2 == "" && cs[0].ReviewerID != byUser[m][0].ReviewerID:
			m2 = u
		}
	}
	if m == "" || m2 == "" {
		t.Fatal("the synthetic org lacks two members with different managers")
	}
	r.eventually("member form delivered", func() bool { return len(r.dm(m)) > 0 })
	form := r.dm(m)[0]
	ids := slackdrive.CaseBlocks(form)
	if len(ids) == 0 || !strings.Contains(string(form.Blocks), "Submit") || !strings.Contains(string(form.Blocks), `"unsure"`) {
		t.Fatalf("member form: %s", form.Blocks)
	}
	// Someone else clicking m's Submit is refused and changes nothing.
	r.click(outsider, form, "member_submit", map[string]string{ids[0]: "revoke"})
	r.eventually("refusal shown", func() bool { return len(r.ephemeralTo(outsider.ID)) > 0 })
	if got, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: m}); got[0].MemberDecision != "" {
		t.Fatal("an outsider's click was recorded")
	}
	// m revokes the first entitlement and keeps the rest; the manager
	// revokes the rest later.
	choices := map[string]string{}
	for i, id := range ids {
		choices[id] = "keep"
		if i == 0 {
			choices[id] = "revoke"
		}
	}
	r.click(r.slackOf[m], form, "member_submit", choices)
	r.eventually("form replaced by the answers", func() bool {
		msgs := r.dm(m)
		return len(msgs) > 0 && msgs[0].Edited > 0 && strings.Contains(string(msgs[0].Blocks), "Edit answers")
	})
	got, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: m})
	answered := 0
	for _, c := range got {
		if c.MemberDecision != "" {
			answered++
		}
	}
	if answered != len(ids) {
		t.Fatalf("answers recorded = %d, want %d", answered, len(ids))
	}

	// Stage 2: the deadline passes; managers get forms.
	r.clock.Advance(7*24*time.Hour + time.Minute)
	if err := r.eng.Tick(r.ctx); err != nil {
		t.Fatal(err)
	}
	mgr := byUser[m][0].ReviewerID
	mine := map[string]bool{}
	for _, c := range byUser[m] {
		mine["case:"+itoa(c.ID)] = true
	}
	// The manager gets one form per member: find m's.
	var rform slacktest.Message
	r.eventually("reviewer form for m delivered", func() bool {
		for _, f := range reviewerForms(r.dm(mgr), "reviewer_submit") {
			if ids := slackdrive.CaseBlocks(f); len(ids) > 0 && mine[ids[0]] {
				rform = f
				return true
			}
		}
		return false
	})
	rids := slackdrive.CaseBlocks(rform)
	rchoices := map[string]string{}
	for _, id := range rids {
		rchoices[id] = "revoke"
	}
	r.click(r.slackOf[mgr], rform, "reviewer_submit", rchoices)
	r.eventually("reviewer decisions recorded", func() bool {
		cs, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: m})
		for _, c := range cs {
			if c.NeedsReviewer(&campaign.Definition{}) && c.ReviewerDecision == "" {
				return false
			}
		}
		return true
	})

	// m2's manager stays silent: after the delay the cases go up a level.
	r.clock.Advance(2*24*time.Hour + time.Minute)
	if err := r.eng.Tick(r.ctx); err != nil {
		t.Fatal(err)
	}
	esc, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: m2})
	if esc[0].EscalationLevel != 1 || esc[0].ReviewerID == byUser[m2][0].ReviewerID {
		t.Fatalf("m2's cases not escalated: %+v", esc[0])
	}
	r.eventually("escalated form delivered", func() bool { return len(reviewerForms(r.dm(esc[0].ReviewerID), "reviewer_submit")) > 0 })

	// Close, then the approval message and its guarded buttons.
	if got := r.slash(r.admin, "close 1"); !strings.Contains(got, "is closed") {
		t.Fatalf("close: %q", got)
	}
	r.eventually("plan posted", func() bool { return len(reviewerForms(r.slack.Messages(approvals), "plan_approve")) > 0 })
	approval := reviewerForms(r.slack.Messages(approvals), "plan_approve")[0]
	if !strings.Contains(string(approval.Blocks), "Approve") || !strings.Contains(string(approval.Blocks), "Reject") {
		t.Fatalf("approval message: %s", approval.Blocks)
	}
	r.click(outsider, approval, "plan_approve", nil)
	r.eventually("non-approver refused", func() bool { return len(r.ephemeralTo(outsider.ID)) > 1 })
	r.click(r.admin, approval, "plan_approve", nil)
	r.eventually("launcher refused", func() bool {
		for _, e := range r.ephemeralTo(r.admin.ID) {
			if strings.Contains(e, "may not approve") {
				return true
			}
		}
		return false
	})
	if c, _ := r.st.GetCampaign(r.ctx, 1); c.State != campaign.StateClosed {
		t.Fatalf("state after refused approvals = %s", c.State)
	}
	r.click(r.approver, approval, "plan_approve", nil)
	r.eventually("approved", func() bool { c, _ := r.st.GetCampaign(r.ctx, 1); return c.State == campaign.StateApproved })
	r.eventually("approval message updated", func() bool {
		for _, msg := range r.slack.Messages(approvals) {
			if msg.TS == approval.TS {
				return msg.Edited > 0 && !strings.Contains(string(msg.Blocks), "plan_approve")
			}
		}
		return false
	})
	events, _ := r.st.Events(r.ctx, 1)
	var approvedBy string
	for _, e := range events {
		if e.Type == "plan.approved" {
			approvedBy = e.Actor.SlackUserID
			if sha, _ := e.Detail["payload_sha256"].(string); len(sha) != 64 || e.Detail["slack_action_ts"] == nil {
				t.Fatalf("approval evidence lacks the payload hash or action ts: %v", e.Detail)
			}
		}
	}
	if approvedBy != r.approver.ID {
		t.Fatalf("approval evidence names %q, want the approver's Slack id %s", approvedBy, r.approver.ID)
	}
	if tr == httpMode {
		// Everything came over signed HTTP, nothing over a socket.
		reqs := r.slack.HTTPRequests()
		if r.slack.ConnectionsOpened() != 0 || len(reqs) < 8 {
			t.Fatalf("socket connections %d, HTTP requests %d", r.slack.ConnectionsOpened(), len(reqs))
		}
		for _, req := range reqs {
			if req.Status != 200 || req.Header.Get("X-Slack-Signature") == "" {
				t.Errorf("%s answered %d %s", req.URL, req.Status, req.Err)
			}
		}
	}
}

// reviewerForms keeps the messages that carry a given button.
func reviewerForms(msgs []slacktest.Message, action string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range msgs {
		if strings.Contains(string(m.Blocks), `"`+action+`"`) {
			out = append(out, m)
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
