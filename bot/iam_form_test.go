package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackdrive"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
)

// A member with no manager is the IAM team's: their reviewer form is
// posted in the approvals channel, and when an admin decides it there, the
// message that was clicked is the one updated (edited, no open buttons),
// and nothing is queued for a form in the admin's DM.
func TestIAMFormOfAMemberWithoutAManager(t *testing.T) {
	r := newRig(t)
	cases := r.launch()
	adminOkta := r.org.Users[1].ID
	member := ""
	for _, cs := range cases {
		if cs.ReviewerID == "" && cs.UserID != adminOkta {
			member = cs.UserID
			break
		}
	}
	if member == "" {
		t.Fatal("the synthetic org has no member without a manager")
	}
	r.clock.Advance(7*24*time.Hour + time.Minute) // stage 2
	if err := r.eng.Tick(r.ctx); err != nil {
		t.Fatal(err)
	}
	r.decideIAMForm(member, cases)
}

// An escalation whose chain ends is the IAM team's too. Here the admin
// reviewed the member at first and decided one case in their DM; the rest
// went up to the CEO, who stayed silent, and on to the IAM team. When the
// admin decides those from the approvals channel, the channel's form is
// updated, not the admin's old DM form (whose view holds only the admin's
// own decision).
func TestIAMFormAfterTheChainEnds(t *testing.T) {
	r := newRig(t)
	cases := r.launch()
	adminOkta := r.org.Users[1].ID
	byMember := map[string][]campaign.CaseRecord{}
	for _, cs := range cases {
		if cs.ReviewerID == adminOkta {
			byMember[cs.UserID] = append(byMember[cs.UserID], cs)
		}
	}
	member := ""
	for m, cs := range byMember {
		if len(cs) >= 2 && (member == "" || m < member) {
			member = m
		}
	}
	if member == "" {
		t.Fatal("the admin reviews no member with two cases")
	}
	r.clock.Advance(7*24*time.Hour + time.Minute) // stage 2
	if err := r.eng.Tick(r.ctx); err != nil {
		t.Fatal(err)
	}
	theirs := caseSet(byMember[member])
	var dmForm slacktest.Message
	r.eventually("the admin's reviewer form for the member", func() bool {
		for _, f := range reviewerForms(r.dm(adminOkta), "reviewer_submit") {
			if ids := slackdrive.CaseBlocks(f); len(ids) > 0 && theirs[ids[0]] {
				dmForm = f
				return true
			}
		}
		return false
	})
	first := slackdrive.CaseBlocks(dmForm)[0]
	r.click(r.admin, dmForm, "reviewer_submit", map[string]string{first: "keep"})
	r.eventually("the admin's one decision recorded", func() bool {
		cs, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: member})
		for _, c := range cs {
			if "case:"+itoa(c.ID) == first {
				return c.ReviewerDecision == "keep"
			}
		}
		return false
	})
	// Two silent levels: the admin, then the CEO, whose chain ends.
	for level := 1; level <= 2; level++ {
		r.clock.Advance(2*24*time.Hour + time.Minute)
		if err := r.eng.Tick(r.ctx); err != nil {
			t.Fatal(err)
		}
	}
	open := 0
	cs, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: member})
	for _, c := range cs {
		if "case:"+itoa(c.ID) != first && (c.ReviewerID != "" || c.EscalationLevel != 2) {
			t.Fatalf("case %d: reviewer %q level %d; want the IAM team at level 2", c.ID, c.ReviewerID, c.EscalationLevel)
		}
		if c.ReviewerID == "" {
			open++
		}
	}
	if open == 0 {
		t.Fatal("nothing escalated to the IAM team")
	}
	dmUpdates := r.updatesOf("update:r:1:" + adminOkta + ":" + member + ":")
	r.decideIAMForm(member, cases)
	if got := r.updatesOf("update:r:1:" + adminOkta + ":" + member + ":"); got != dmUpdates {
		t.Fatalf("updates of the admin's DM form: %d, then %d after the channel decision", dmUpdates, got)
	}
}

// launch starts the rig's campaign as the admin and returns its cases.
func (r *rig) launch() []campaign.CaseRecord {
	r.t.Helper()
	if got := r.slash(r.admin, "start quarterly"); !strings.Contains(got, "Launched campaign 1") {
		r.t.Fatalf("admin start: %q", got)
	}
	cases, err := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	if err != nil || len(cases) == 0 {
		r.t.Fatalf("cases: %d, %v", len(cases), err)
	}
	return cases
}

// decideIAMForm has the admin keep every case on the IAM team's form for
// member in the approvals channel, and checks that the message clicked is
// the one updated and nobody else's.
func (r *rig) decideIAMForm(member string, cases []campaign.CaseRecord) {
	r.t.Helper()
	var mine []campaign.CaseRecord
	for _, cs := range cases {
		if cs.UserID == member {
			mine = append(mine, cs)
		}
	}
	theirs := caseSet(mine)
	var form slacktest.Message
	r.eventually("the IAM form posted in the approvals channel", func() bool {
		for _, f := range reviewerForms(r.slack.Messages(approvals), "reviewer_submit") {
			if ids := slackdrive.CaseBlocks(f); len(ids) > 0 && theirs[ids[0]] {
				form = f
				return true
			}
		}
		return false
	})
	choices := map[string]string{}
	for _, id := range slackdrive.CaseBlocks(form) {
		choices[id] = "keep"
	}
	channelUpdates := r.updatesOf("update:r:1::" + member + ":")
	r.click(r.admin, form, "reviewer_submit", choices)
	r.eventually("the decisions recorded", func() bool {
		cs, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{UserID: member})
		for _, c := range cs {
			if choices["case:"+itoa(c.ID)] != "" && c.ReviewerDecision != "keep" {
				return false
			}
		}
		return true
	})
	r.eventually("the channel's form replaced by the decisions", func() bool {
		for _, m := range r.slack.Messages(approvals) {
			if m.TS == form.TS {
				return m.Edited > 0 && !strings.Contains(string(m.Blocks), `"reviewer_submit"`)
			}
		}
		return false
	})
	if got := r.updatesOf("update:r:1::" + member + ":"); got != channelUpdates+1 {
		r.t.Fatalf("updates of the channel's form: %d, want %d", got, channelUpdates+1)
	}
	if got, _ := r.st.OutboxProgress(r.ctx, "update:r:1:"+r.org.Users[1].ID+":"+member+":"); got["pending"]+got["sending"]+got["failed"] > 0 {
		r.t.Fatalf("an update for a form in the admin's DM is stuck: %v", got)
	}
	for _, e := range r.ephemeralTo(r.admin.ID) {
		r.t.Errorf("the admin was told: %q", e)
	}
}

// updatesOf counts the outbox items whose key starts with prefix.
func (r *rig) updatesOf(prefix string) int {
	r.t.Helper()
	got, err := r.st.OutboxProgress(r.ctx, prefix)
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, c := range got {
		n += c
	}
	return n
}

// caseSet is the case block ids of cases.
func caseSet(cases []campaign.CaseRecord) map[string]bool {
	out := map[string]bool{}
	for _, cs := range cases {
		out["case:"+itoa(cs.ID)] = true
	}
	return out
}
