package campaign_test

import (
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

const baseDef = `name: Q4 review
owner: iam@x.com
approval: {approvers: [approver@x.com, iam@x.com]}
stages: {self_attestation: {duration: 7d}, manager: {duration: 7d}}
escalation: {after: 2d}
`

func TestHappyPath(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef)
	if c.State != campaign.StateStage1 || c.SnapshotDigest == "" || !c.Deadline.Equal(t0.Add(14*day)) {
		t.Fatalf("launched %+v", c)
	}
	if h.notesTo("dev1", campaign.NoteMemberForm) != 1 || h.notesTo("mgr", campaign.NoteMemberForm) != 1 {
		t.Fatalf("member forms not sent: %+v", h.notes)
	}
	// Stage 1: members answer; a member changes their mind.
	h.answer(c.ID, "dev1@x.com", "dev1@x.com", "AWS", "keep")
	h.answer(c.ID, "dev1@x.com", "dev1@x.com", "AWS", "revoke")
	h.answer(c.ID, "dev1@x.com", "dev1@x.com", "Jira", "keep")
	h.answer(c.ID, "dev1@x.com", "dev1@x.com", "Wiki", "unsure")
	h.answer(c.ID, "dev1@x.com", "dev1@x.com", "GitHub", "keep")
	h.answer(c.ID, "dev2@x.com", "dev2@x.com", "AWS", "keep")
	h.answer(c.ID, "dev2@x.com", "dev2@x.com", "Jira", "keep")
	h.answer(c.ID, "dev2@x.com", "dev2@x.com", "GitHub", "revoke")
	h.answer(c.ID, "mgr@x.com", "mgr@x.com", "Payroll", "keep")
	if h.state(c.ID) != campaign.StateStage1 {
		t.Fatal("stage 1 ended before ops answered")
	}
	// The last member answering ends stage 1 early.
	h.answer(c.ID, "ops@x.com", "ops@x.com", "GitHub", "keep")
	if got := h.state(c.ID); got != campaign.StateStage2 {
		t.Fatalf("state after every member answered = %s, want stage2", got)
	}
	if h.notesTo("mgr", campaign.NoteReviewerForm) != 1 || h.notesTo("", campaign.NoteReviewerForm) != 1 {
		t.Fatalf("reviewer forms: %+v", h.notes)
	}
	// Stage 2: the manager decides; the member's revoke needs no confirmation.
	wantErr(t, h.try(c.ID, "mgr@x.com", "dev1@x.com", "AWS", "keep"), campaign.ErrConflict, "confirming a member revoke")
	h.answer(c.ID, "mgr@x.com", "dev1@x.com", "Jira", "keep")
	h.answer(c.ID, "mgr@x.com", "dev1@x.com", "Wiki", "revoke")
	h.answer(c.ID, "mgr@x.com", "dev1@x.com", "GitHub", "revoke")
	h.answer(c.ID, "mgr@x.com", "dev2@x.com", "AWS", "revoke")
	h.answer(c.ID, "vp@x.com", "mgr@x.com", "Payroll", "revoke")
	h.answer(c.ID, "iam@x.com", "ops@x.com", "GitHub", "keep")
	closed, plan, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
	if err != nil {
		t.Fatal(err)
	}
	if closed.State != campaign.StateClosed {
		t.Fatalf("state = %s", closed.State)
	}
	cases := h.cases(c.ID)
	want := map[string]string{"dev1/AWS": "revoked-by-member", "dev1/Jira": "kept", "dev1/Wiki": "revoked", "dev1/GitHub": "revoked",
		"dev2/AWS": "revoked", "dev2/Jira": "no-decision-kept", "dev2/GitHub": "revoked-by-member", "mgr/Payroll": "revoked", "ops/GitHub": "kept"}
	for k, w := range want {
		if got := cases[k].Outcome; got != w {
			t.Errorf("%s outcome = %q, want %q", k, got, w)
		}
	}
	// The plan: direct GitHub grants are unassigned; dev2's AWS comes from
	// Engineering (which also grants Jira, kept: conflict) and aws-admins
	// (removed); dev1's AWS via Engineering conflicts with the kept Jira;
	// Wiki's group is rule-managed and Payroll's is mastered in AD: manual.
	got := map[string]string{}
	for _, p := range plan {
		got[p.UserID+" "+p.Kind+" "+p.GroupID+p.AppID] = p.Reason
	}
	for _, k := range []string{"dev1 unassign_app github", "dev2 unassign_app github", "dev2 remove_membership awsadm",
		"dev2 conflict eng", "dev1 conflict eng", "dev1 manual ruleengwiki", "mgr manual adfinpayroll"} {
		if _, ok := got[k]; !ok {
			t.Errorf("plan lacks %q; plan = %v", k, got)
		}
	}
	if r := got["dev2 conflict eng"]; !strings.Contains(r, `"Jira"`) {
		t.Errorf("conflict should name the kept Jira: %q", r)
	}
	if len(plan) != 7 {
		t.Errorf("plan has %d items, want 7: %v", len(plan), got)
	}
	// Approval: the launcher may not approve; an approver may.
	_, _, err = h.eng.Approve(h.ctx, c.ID, as("iam@x.com"))
	wantErr(t, err, campaign.ErrForbidden, "launcher approving")
	_, _, err = h.eng.Approve(h.ctx, c.ID, as("dev1@x.com"))
	wantErr(t, err, campaign.ErrForbidden, "non-approver approving")
	done, n, err := h.eng.Approve(h.ctx, c.ID, as("approver@x.com"))
	if err != nil || done.State != campaign.StateApproved || n != 1 {
		t.Fatalf("approve: %v, state %v, approvals %d", err, done, n)
	}
}

func TestStage1AuthorizationAndLateAnswers(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef)
	wantErr(t, h.try(c.ID, "mgr@x.com", "dev1@x.com", "AWS", "keep"), campaign.ErrForbidden, "manager answering in stage 1")
	wantErr(t, h.try(c.ID, "stranger@evil.com", "dev1@x.com", "AWS", "keep"), campaign.ErrForbidden, "unknown user")
	wantErr(t, h.try(c.ID, "dev1@x.com", "dev1@x.com", "AWS", "maybe"), campaign.ErrInvalid, "bad decision")
	wantErr(t, h.try(c.ID, "dev1@x.com", "dev1@x.com", "Nope", "keep"), campaign.ErrNotFound, "unknown app")
	h.clock.Advance(7*day + time.Minute)
	// No tick ran: the answer itself sees stage 1 is over.
	wantErr(t, h.try(c.ID, "dev1@x.com", "dev1@x.com", "AWS", "keep"), campaign.ErrForbidden, "member answering in stage 2")
	if h.state(c.ID) != campaign.StateStage2 {
		t.Fatal("late answer should have moved the campaign to stage 2")
	}
	h.clock.Advance(7 * day)
	err := h.try(c.ID, "mgr@x.com", "dev1@x.com", "AWS", "keep")
	wantErr(t, err, campaign.ErrConflict, "answer after the deadline")
	if !strings.Contains(err.Error(), "no longer accepted") {
		t.Errorf("late answer error should say answers are no longer accepted: %v", err)
	}
}

func TestSilentMembersAndManagersEscalateTwoLevels(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef)
	h.clock.Advance(7 * day)
	h.tick()
	if h.state(c.ID) != campaign.StateStage2 {
		t.Fatal("stage 1 deadline should start stage 2")
	}
	h.clock.Advance(2*day + time.Minute)
	h.tick()
	cs := h.cases(c.ID)
	if r := cs["dev1/AWS"]; r.ReviewerID != "vp" || r.EscalationLevel != 1 {
		t.Fatalf("after one delay dev1/AWS reviewer = %s level %d, want vp 1", r.ReviewerID, r.EscalationLevel)
	}
	if r := cs["mgr/Payroll"]; r.ReviewerID != "ceo" || r.EscalationLevel != 1 {
		t.Fatalf("mgr/Payroll reviewer = %s, want ceo", r.ReviewerID)
	}
	h.tick() // nothing more is due yet
	if r := h.cases(c.ID)["dev1/AWS"]; r.EscalationLevel != 1 {
		t.Fatalf("tick escalated again too early: level %d", r.EscalationLevel)
	}
	wantErr(t, h.try(c.ID, "mgr@x.com", "dev1@x.com", "AWS", "keep"), campaign.ErrForbidden, "escalated-away manager")
	h.clock.Advance(2*day + time.Minute)
	h.tick()
	cs = h.cases(c.ID)
	if r := cs["dev1/AWS"]; r.ReviewerID != "ceo" || r.EscalationLevel != 2 {
		t.Fatalf("after two delays reviewer = %s level %d, want ceo 2", r.ReviewerID, r.EscalationLevel)
	}
	// The CEO's chain ends: the next escalation goes to the IAM team.
	if r := cs["mgr/Payroll"]; r.ReviewerID != "" || r.EscalationLevel != 2 {
		t.Fatalf("mgr/Payroll reviewer = %q level %d, want IAM team 2", r.ReviewerID, r.EscalationLevel)
	}
	h.answer(c.ID, "ceo@x.com", "dev1@x.com", "AWS", "revoke")
	if h.notesTo("ceo", campaign.NoteEscalated) == 0 {
		t.Error("no escalation notice to the ceo")
	}
	events, err := h.st.Events(h.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	esc := 0
	for _, e := range events {
		if e.Type == "case.escalated" {
			esc++
		}
	}
	if esc == 0 {
		t.Error("escalations not in the audit log")
	}
}

func TestNoManagerGoesToIAMTeam(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(withStages("stages: {self_attestation: {enabled: false}, manager: {duration: 7d}}"))
	if c.State != campaign.StateStage2 {
		t.Fatalf("self-attestation off: state = %s", c.State)
	}
	wantErr(t, h.try(c.ID, "mgr@x.com", "ops@x.com", "GitHub", "keep"), campaign.ErrForbidden, "a manager deciding IAM cases")
	wantErr(t, h.try(c.ID, "ops@x.com", "ops@x.com", "GitHub", "keep"), campaign.ErrForbidden, "self review")
	h.answer(c.ID, "iam@x.com", "ops@x.com", "GitHub", "revoke")
}
