package campaign_test

import (
	"context"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// Cases that are the IAM team's (a member with no manager, an escalation
// whose chain ended) can always be decided from Slack: by the named IAM
// reviewers, the definition's owner, the launcher, and, when the
// definition names no IAM reviewers of its own, the Slack admins.
func TestIAMCasesAreDecidable(t *testing.T) {
	const onlyName = "name: Bare\nstages: {self_attestation: {enabled: false}}\n"
	named := "name: Named\nowner: approver@x.com\nescalation: {iam_reviewers: [ceo@x.com]}\nstages: {self_attestation: {enabled: false}}\n"
	ownerOnly := "name: Owned\nowner: approver@x.com\nstages: {self_attestation: {enabled: false}}\n"
	slackAdmin := campaign.Actor{UserID: "peer", Email: "peer@x.com", Via: "slack", SlackUserID: "UADMIN"}
	for _, tc := range []struct {
		name     string
		def      string
		launcher campaign.Actor
		by       campaign.Actor
		allowed  bool
	}{
		{"bare definition: a Slack admin", onlyName, as("iam@x.com"), slackAdmin, true},
		{"bare definition: the launcher", onlyName, as("iam@x.com"), as("iam@x.com"), true},
		{"bare definition: anyone else", onlyName, as("iam@x.com"), as("mgr@x.com"), false},
		{"owner only: the owner", ownerOnly, as("iam@x.com"), slackAs("approver", "approver@x.com"), true},
		{"owner only: a Slack admin", ownerOnly, as("iam@x.com"), slackAdmin, true},
		{"named reviewers: the reviewer", named, as("iam@x.com"), as("ceo@x.com"), true},
		{"named reviewers: the owner", named, as("iam@x.com"), as("approver@x.com"), true},
		{"named reviewers: not a Slack admin", named, as("iam@x.com"), slackAdmin, false},
		{"owner by login", strings.Replace(ownerOnly, "approver@x.com", "approver.login", 1), as("iam@x.com"),
			slackAs("approver", "approver@x.com"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := org()
			user(s, "approver").Login = "approver.login"
			h := newHarness(t, s)
			h.eng.IsAdmin = func(_ context.Context, a campaign.Actor) bool { return a.SlackUserID == "UADMIN" }
			c := h.launchBy(tc.def, tc.launcher)
			_, err := h.eng.Answer(h.ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: tc.by, User: "ops@x.com",
				Entitlement: "GitHub", Decision: "revoke"})
			if tc.allowed && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.allowed {
				wantErr(t, err, campaign.ErrForbidden, "deciding an IAM case")
			}
		})
	}
}

// An escalation whose chain ends reaches the IAM team, whom the Slack
// admins stand for when the definition names nobody.
func TestEscalatedPastTheTopIsDecidable(t *testing.T) {
	s := org()
	user(s, "vp").ManagerRef = "" // mgr's chain: vp, then nobody
	h := newHarness(t, s)
	h.eng.IsAdmin = func(_ context.Context, a campaign.Actor) bool { return a.SlackUserID == "UADMIN" }
	c := h.launchBy("name: Chain\nstages: {self_attestation: {enabled: false}}\nescalation: {after: 1d}\n", as("iam@x.com"))
	for i := 0; i < 3; i++ {
		h.clock.Advance(day + 1)
		h.tick()
	}
	if cs := h.cases(c.ID)["dev1/GitHub"]; cs.ReviewerID != "" {
		t.Fatalf("dev1/GitHub escalated to %q, want the IAM team", cs.ReviewerID)
	}
	admin := campaign.Actor{UserID: "ceo", Email: "ceo@x.com", Via: "slack", SlackUserID: "UADMIN"}
	if _, err := h.eng.Answer(h.ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: admin, User: "dev1@x.com", Entitlement: "GitHub",
		Decision: "keep"}); err != nil {
		t.Fatalf("a Slack admin deciding an escalated case: %v", err)
	}
}

// Members whose accounts are suspended or deprovisioned get no stage-1
// form and are not waited for; their cases go straight to their managers.
func TestSuspendedMembersSkipSelfAttestation(t *testing.T) {
	for _, status := range []string{campaign.StatusSuspended, campaign.StatusDeprovisioned} {
		t.Run(status, func(t *testing.T) {
			s := org()
			user(s, "dev2").Status = status
			h := newHarness(t, s)
			c := h.launch(baseDef)
			if n := h.notesTo("dev2", campaign.NoteMemberForm); n != 0 {
				t.Fatalf("dev2 got %d stage-1 forms", n)
			}
			if h.notesTo("dev1", campaign.NoteMemberForm) != 1 {
				t.Fatal("dev1 got no form")
			}
			// The manager decides dev2's access already.
			h.answer(c.ID, "mgr@x.com", "dev2@x.com", "AWS", "revoke")
			// dev2 cannot act at all.
			wantErr(t, h.try(c.ID, "dev2@x.com", "dev2@x.com", "Jira", "keep"), campaign.ErrForbidden, "a suspended member answering")
			for _, a := range [][2]string{{"dev1", "AWS"}, {"dev1", "Jira"}, {"dev1", "Wiki"}, {"dev1", "GitHub"}, {"mgr", "Payroll"}} {
				h.answer(c.ID, a[0]+"@x.com", a[0]+"@x.com", a[1], "keep")
			}
			if h.state(c.ID) != campaign.StateStage1 {
				t.Fatal("stage 1 ended before ops answered")
			}
			h.answer(c.ID, "ops@x.com", "ops@x.com", "GitHub", "keep")
			if got := h.state(c.ID); got != campaign.StateStage2 {
				t.Fatalf("state = %s: stage 1 waits for a %s member", got, status)
			}
			if cs := h.cases(c.ID)["dev2/AWS"]; cs.ReviewerDecision != "revoke" || cs.MemberDecision != "" {
				t.Fatalf("dev2/AWS = %+v", cs)
			}
		})
	}
}

// A stage 1 that waits for nobody (every member suspended) ends at launch.
func TestStageOneWithNobodyToAskEndsAtLaunch(t *testing.T) {
	s := org()
	for i := range s.Users {
		if s.Users[i].ID != "iam" {
			s.Users[i].Status = campaign.StatusSuspended
		}
	}
	h := newHarness(t, s)
	c := h.launch(baseDef)
	if c.State != campaign.StateStage2 || len(h.notes) == 0 {
		t.Fatalf("state = %s, notes %+v", c.State, h.notes)
	}
	for _, n := range h.notes {
		if n.Kind == campaign.NoteMemberForm {
			t.Fatalf("a stage-1 form was sent: %+v", n)
		}
	}
}

// MayDecideForIAM is the same check, for the Slack layer's forms.
func TestMayDecideForIAMMatchesAnswer(t *testing.T) {
	s := org()
	user(s, "approver").Login = "approver.login"
	h := newHarness(t, s)
	h.eng.IsAdmin = func(_ context.Context, a campaign.Actor) bool { return a.SlackUserID == "UADMIN" }
	c := h.launchBy("name: Owned\nowner: approver.login\nstages: {self_attestation: {enabled: false}}\n", as("iam@x.com"))
	for _, tc := range []struct {
		name string
		a    campaign.Actor
		want bool
	}{
		{"the owner, named by login, clicking in Slack", slackAs("approver", "approver@x.com"), true},
		{"the launcher", as("iam@x.com"), true},
		{"a Slack admin", campaign.Actor{UserID: "peer", Email: "peer@x.com", Via: "slack", SlackUserID: "UADMIN"}, true},
		{"a manager", slackAs("mgr", "mgr@x.com"), false},
		{"a stranger", slackAs("00u-none", "x@y.z"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.eng.MayDecideForIAM(h.ctx, c, tc.a); got != tc.want {
				t.Fatalf("MayDecideForIAM = %v, want %v", got, tc.want)
			}
		})
	}
}

// A manager whose account is suspended or deprovisioned could never
// decide: their members' cases go to the next active manager up, at
// launch and on escalation.
func TestInactiveManagersAreSkipped(t *testing.T) {
	t.Run("at launch", func(t *testing.T) {
		s := org()
		user(s, "mgr").Status = campaign.StatusDeprovisioned
		h := newHarness(t, s)
		c := h.launch(trustDef)
		if cs := h.cases(c.ID)["dev1/GitHub"]; cs.ReviewerID != "vp" {
			t.Fatalf("dev1/GitHub goes to %q, want vp", cs.ReviewerID)
		}
		h.answer(c.ID, "vp@x.com", "dev1@x.com", "GitHub", "revoke")
	})
	t.Run("on escalation", func(t *testing.T) {
		s := org()
		user(s, "vp").Status = campaign.StatusSuspended
		h := newHarness(t, s)
		c := h.launch(strings.Replace(trustDef, "name: Trust review", "name: Trust review\nescalation: {after: 1d}", 1))
		h.clock.Advance(day + 1)
		h.tick()
		if cs := h.cases(c.ID)["dev1/GitHub"]; cs.ReviewerID != "ceo" {
			t.Fatalf("dev1/GitHub escalated to %q, want ceo past the suspended vp", cs.ReviewerID)
		}
	})
}
