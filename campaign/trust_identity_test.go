package campaign_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// trustDef reviews without self-attestation, so a test reaches a plan in
// one answer: mgr revokes dev1's direct GitHub assignment.
const trustDef = `name: Trust review
owner: iam@x.com
approval: {approvers: [approver@x.com, iam@x.com, vp@x.com, ceo@x.com]}
stages: {self_attestation: {enabled: false}, manager: {duration: 7d}}
`

// slackAs is a Slack actor as the user map gives it: the Okta id and the
// email the map knows.
func slackAs(oktaID, email string) campaign.Actor {
	return campaign.Actor{UserID: oktaID, Email: email, Via: "slack", SlackUserID: "U" + strings.ToUpper(oktaID)}
}

func cliAs(name string) campaign.Actor { return campaign.Actor{Email: name, Via: "cli"} }

// launchBy launches def with the given owner and fails the test on error.
func (h *harness) launchBy(defYAML string, owner campaign.Actor) *campaign.Campaign {
	h.t.Helper()
	def, err := campaign.ParseDefinition("test.yaml", []byte(defYAML))
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := h.eng.Launch(h.ctx, campaign.LaunchRequest{Definition: def, YAML: defYAML, Owner: owner, Trigger: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// resync stores a new latest snapshot: org() changed by fn.
func (h *harness) resync(fn func(s *campaign.Snapshot)) {
	h.t.Helper()
	s := org()
	fn(s)
	campaign.ResolveManagers(s.Users)
	campaign.MarkRuleGroups(s)
	if _, err := h.st.SaveSnapshot(h.ctx, s, campaign.Count(s)); err != nil {
		h.t.Fatal(err)
	}
}

// toPlan answers and closes a trustDef campaign, leaving one removal.
func (h *harness) toPlan(c *campaign.Campaign) {
	h.t.Helper()
	h.answer(c.ID, "mgr@x.com", "dev1@x.com", "GitHub", "revoke")
	if closed, _, err := h.eng.Close(h.ctx, c.ID, campaign.System); err != nil || closed.State != campaign.StateClosed {
		h.t.Fatalf("close: %v, %v", closed, err)
	}
}

func user(s *campaign.Snapshot, id string) *campaign.User {
	for i := range s.Users {
		if s.Users[i].ID == id {
			return &s.Users[i]
		}
	}
	panic("no user " + id)
}

// The launcher never approves their own plan, however they are named:
// launched by login from the CLI and approving from Slack (known there by
// email), or launched from Slack and approving after a rename.
func TestLauncherCannotApproveUnderAnotherName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		snap    func(s *campaign.Snapshot)
		launch  campaign.Actor
		rename  func(s *campaign.Snapshot) // a later sync, nil for none
		approve []campaign.Actor
	}{
		{name: "cli by login, slack by email",
			snap:    func(s *campaign.Snapshot) { user(s, "iam").Login = "iam.login" },
			launch:  cliAs("iam.login"),
			approve: []campaign.Actor{slackAs("iam", "iam@x.com"), cliAs("iam@x.com"), cliAs("IAM.LOGIN")}},
		{name: "slack, then the email is renamed",
			launch: slackAs("iam", "iam@x.com"),
			rename: func(s *campaign.Snapshot) { u := user(s, "iam"); u.Email, u.Login = "iam.new@x.com", "iam.new@x.com" },
			approve: []campaign.Actor{slackAs("iam", "iam.new@x.com"), cliAs("iam.new@x.com"),
				cliAs("iam@x.com")}}, // the old email, nobody's now: the campaign's snapshot says who it was
		{name: "cli by email, slack by id with a stale email",
			launch:  cliAs("iam@x.com"),
			approve: []campaign.Actor{slackAs("iam", "someone.else@x.com")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := org()
			if tc.snap != nil {
				tc.snap(s)
			}
			h := newHarness(t, s)
			c := h.launchBy(trustDef, tc.launch)
			if c.OwnerID != "iam" {
				t.Fatalf("owner id = %q, want iam", c.OwnerID)
			}
			h.toPlan(c)
			if tc.rename != nil {
				h.resync(func(s2 *campaign.Snapshot) {
					if tc.snap != nil {
						tc.snap(s2)
					}
					tc.rename(s2)
				})
			}
			for _, a := range tc.approve {
				_, _, err := h.eng.Approve(h.ctx, c.ID, a)
				wantErr(t, err, campaign.ErrForbidden, "the launcher approving as "+a.Email)
			}
			if _, _, err := h.eng.Approve(h.ctx, c.ID, slackAs("approver", "approver@x.com")); err != nil {
				t.Fatalf("another approver: %v", err)
			}
			if got := h.state(c.ID); got != campaign.StateApproved {
				t.Fatalf("state = %s, want approved", got)
			}
		})
	}
}

// Nobody acts who is not an active user of the directory: --as a stranger,
// a deprovisioned user, an Okta id the directory does not know, an email
// two users share.
func TestActorMustBeInTheDirectory(t *testing.T) {
	s := org()
	user(s, "peer").Status = campaign.StatusDeprovisioned
	user(s, "ops").Email = "shared@x.com" // two users with one email
	user(s, "dev2").Email = "shared@x.com"
	h := newHarness(t, s)
	c := h.launch(trustDef)
	for _, a := range []campaign.Actor{cliAs("stranger@x.com"), cliAs("peer@x.com"), slackAs("00u-gone", "gone@x.com"),
		cliAs("shared@x.com"), {Via: "cli"}} {
		t.Run(a.Email+a.UserID, func(t *testing.T) {
			_, err := h.eng.Answer(h.ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: a, User: "dev1@x.com", Entitlement: "GitHub",
				Decision: "revoke"})
			wantErr(t, err, campaign.ErrForbidden, "answer")
			if campaign.ErrorMessage(err) == "" {
				t.Errorf("no sentence for the person: %v", err)
			}
			_, _, err = h.eng.Close(h.ctx, c.ID, a)
			wantErr(t, err, campaign.ErrForbidden, "close")
			def, _ := campaign.ParseDefinition("t.yaml", []byte(trustDef))
			_, err = h.eng.Launch(h.ctx, campaign.LaunchRequest{Definition: def, Owner: a, Trigger: "cli"})
			wantErr(t, err, campaign.ErrForbidden, "launch")
		})
	}
	// A login names one user even where it is someone else's email.
	if _, _, err := h.eng.Close(h.ctx, c.ID, cliAs("dev2@x.com")); !errors.Is(err, campaign.ErrForbidden) ||
		!strings.Contains(err.Error(), "may not administer") {
		t.Fatalf("dev2 by login is dev2, who may not administer: %v", err)
	}
}

// A CLI action's audit entry records --as as typed, the operating-system
// user and the host, beside the Okta user it resolved to.
func TestCLIActionRecordsOSUserAndHost(t *testing.T) {
	s := org()
	user(s, "iam").Login = "iam.login"
	h := newHarness(t, s)
	c := h.launch(trustDef)
	h.answer(c.ID, "mgr@x.com", "dev1@x.com", "GitHub", "revoke")
	a := campaign.Actor{Email: "IAM.Login", Via: "cli", OSUser: "alice", Host: "bastion-1"}
	if _, _, err := h.eng.Close(h.ctx, c.ID, a); err != nil {
		t.Fatal(err)
	}
	events, err := h.st.Events(h.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events {
		if ev.Type != "campaign.closed" {
			continue
		}
		found = true
		if ev.Actor.UserID != "iam" || ev.Detail["os_user"] != "alice" || ev.Detail["host"] != "bastion-1" || ev.Detail["as"] != "IAM.Login" {
			t.Fatalf("closed by %+v, detail %v", ev.Actor, ev.Detail)
		}
	}
	if !found {
		t.Fatal("no campaign.closed event")
	}
}

// One approver is one Okta user: approving again under a new email after
// a rename does not make two approvals.
func TestApprovalCountsPeopleNotEmails(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(strings.Replace(trustDef, "approval: {", "approval: {required: 2, ", 1))
	h.toPlan(c)
	if _, n, err := h.eng.Approve(h.ctx, c.ID, cliAs("approver@x.com")); err != nil || n != 1 {
		t.Fatalf("first approval: %d, %v", n, err)
	}
	h.resync(func(s *campaign.Snapshot) { u := user(s, "approver"); u.Email, u.Login = "appr2@x.com", "appr2@x.com" })
	got, n, err := h.eng.Approve(h.ctx, c.ID, cliAs("appr2@x.com"))
	if err != nil || n != 1 || got.State != campaign.StateClosed {
		t.Fatalf("the same person again: %d approvals, %v, %v", n, got.State, err)
	}
	st, err := h.eng.ApprovalStatus(h.ctx, c.ID)
	if err != nil || st.Required != 2 || st.Approved != 1 {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// A member renamed since launch is found by their new email as well as
// their old one, and answers for themself under either.
func TestRenamedMemberIsTheSamePerson(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef)
	h.resync(func(s *campaign.Snapshot) { u := user(s, "dev1"); u.Email, u.Login = "dev.one@x.com", "dev.one@x.com" })
	h.answer(c.ID, "dev.one@x.com", "dev.one@x.com", "AWS", "keep")
	h.answer(c.ID, "dev.one@x.com", "dev1@x.com", "Jira", "keep")
	wantErr(t, h.try(c.ID, "dev.one@x.com", "dev2@x.com", "AWS", "keep"), campaign.ErrForbidden, "answering for someone else")
	cases := h.cases(c.ID)
	if cases["dev1/AWS"].MemberDecision != "keep" || cases["dev1/Jira"].MemberDecision != "keep" {
		t.Fatalf("dev1's answers: %+v %+v", cases["dev1/AWS"], cases["dev1/Jira"])
	}
}
