package campaign_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// ownersDef: managers decide, then GitHub's owner dev2 and Jira's owner
// peer confirm; AWS, Wiki and Payroll have no owner.
const ownersDef = `name: Owners
owner: iam@x.com
stages:
  self_attestation: {enabled: false}
  manager: {duration: 7d}
  app_owner:
    enabled: true
    duration: 5d
    owners: {GitHub: [dev2@x.com], jira: [PEER@x.com, nobody@x.com]}
remediation: {no_decision: revoke}
`

func (h *harness) ownerDecide(id int64, by, app string, d map[int64]string) (int, error) {
	return h.eng.OwnerDecide(h.ctx, campaign.OwnerDecisionRequest{CampaignID: id, Actor: as(by), AppID: app, Decisions: d})
}

// TestOwnerStage runs a campaign through the app-owner stage: an owner's
// revoke overrides the managers' keep, a silent owner's case follows
// remediation.no_decision, an app without owners keeps its stage-2
// outcome, an owner's own access goes to the IAM team, only owners may
// decide, and a decision after the close is refused and not recorded.
func TestOwnerStage(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(ownersDef)
	if c.State != campaign.StateStage2 {
		t.Fatalf("state = %s", c.State)
	}
	for _, k := range [][2]string{{"dev1", "GitHub"}, {"dev1", "Jira"}, {"dev1", "AWS"}, {"dev1", "Wiki"},
		{"dev2", "GitHub"}, {"dev2", "Jira"}, {"dev2", "AWS"}} {
		h.answer(c.ID, "mgr@x.com", k[0], k[1], "keep")
	}
	h.answer(c.ID, "iam@x.com", "ops", "GitHub", "keep")
	h.answer(c.ID, "vp@x.com", "mgr", "Payroll", "keep")

	h.clock.Advance(7*day + time.Minute)
	h.tick()
	c, _ = h.st.GetCampaign(h.ctx, c.ID)
	if c.State != campaign.StateStage3 {
		t.Fatalf("after stage 2: state = %s, want stage3", c.State)
	}
	if !c.Stage3Started.Equal(h.clock.Now()) {
		t.Fatalf("stage 3 started %v, want %v", c.Stage3Started, h.clock.Now())
	}
	if want := h.clock.Now().Add(5 * day); !c.Deadline.Equal(want) {
		t.Fatalf("stage 3 deadline = %s, want %s", c.Deadline, want)
	}
	if h.notesTo("dev2", campaign.NoteOwnerForm) != 1 || h.notesTo("peer", campaign.NoteOwnerForm) != 1 || h.notesTo("", campaign.NoteOwnerForm) != 1 {
		t.Fatalf("owner forms: dev2 %d, peer %d, IAM %d", h.notesTo("dev2", campaign.NoteOwnerForm),
			h.notesTo("peer", campaign.NoteOwnerForm), h.notesTo("", campaign.NoteOwnerForm))
	}
	cases := h.cases(c.ID)
	id := func(k string) int64 { return cases[k].ID }

	// dev2 owns GitHub: decides dev1's and ops's case, never their own,
	// which is the IAM team's; peer does not own GitHub.
	work, err := h.eng.OwnerWork(h.ctx, c, "dev2")
	if err != nil || len(work) != 1 || work[0].AppID != "github" || len(work[0].Cases) != 2 {
		t.Fatalf("dev2's work: %+v, %v", work, err)
	}
	iamWork, _ := h.eng.OwnerWork(h.ctx, c, "")
	if len(iamWork) != 1 || len(iamWork[0].Cases) != 1 || iamWork[0].Cases[0].Case.UserID != "dev2" {
		t.Fatalf("IAM's owner work: %+v", iamWork)
	}
	_, err = h.ownerDecide(c.ID, "dev2@x.com", "github", map[int64]string{id("dev2/GitHub"): "keep"})
	wantErr(t, err, campaign.ErrForbidden, "owner on their own access")
	_, err = h.ownerDecide(c.ID, "peer@x.com", "github", map[int64]string{id("dev1/GitHub"): "revoke"})
	wantErr(t, err, campaign.ErrForbidden, "an owner of another app")
	_, err = h.ownerDecide(c.ID, "dev2@x.com", "github", map[int64]string{id("dev1/AWS"): "revoke"})
	wantErr(t, err, campaign.ErrForbidden, "a case of another app")
	_, err = h.ownerDecide(c.ID, "dev2@x.com", "github", map[int64]string{id("dev1/GitHub"): "unsure"})
	wantErr(t, err, campaign.ErrInvalid, "unsure from an owner")

	if n, err := h.ownerDecide(c.ID, "dev2@x.com", "github", map[int64]string{id("dev1/GitHub"): "revoke"}); err != nil || n != 1 {
		t.Fatalf("owner revoke: %d, %v", n, err)
	}
	if n, err := h.ownerDecide(c.ID, "iam@x.com", "github", map[int64]string{id("dev2/GitHub"): "keep"}); err != nil || n != 1 {
		t.Fatalf("IAM keeps the owner's own access: %d, %v", n, err)
	}
	h.answer(c.ID, "peer@x.com", "dev1", "Jira", "keep") // the CLI's answer, as an owner
	// Stage 2 is over for managers.
	wantErr(t, h.try(c.ID, "mgr@x.com", "dev1", "AWS", "revoke"), campaign.ErrConflict, "a manager's answer in stage 3")
	_, err = h.eng.Delegate(h.ctx, campaign.DelegateRequest{CampaignID: c.ID, Actor: as("mgr@x.com"), Member: "dev1", To: "peer@x.com"})
	wantErr(t, err, campaign.ErrConflict, "a delegation in stage 3")

	h.clock.Advance(5*day + time.Minute)
	h.tick()
	if s := h.state(c.ID); s != campaign.StateClosed {
		t.Fatalf("after stage 3: state = %s", s)
	}
	got := h.cases(c.ID)
	want := map[string]string{
		"dev1/GitHub": campaign.OutcomeRevoked,           // owner's revoke overrides the manager's keep
		"dev2/GitHub": campaign.OutcomeKept,              // the IAM team decided the owner's own access
		"ops/GitHub":  campaign.OutcomeNoDecisionRevoked, // owner silent: no_decision
		"dev1/Jira":   campaign.OutcomeKept,
		"dev2/Jira":   campaign.OutcomeNoDecisionRevoked,
		"dev1/AWS":    campaign.OutcomeKept, // no owner: stage 3 skipped
		"mgr/Payroll": campaign.OutcomeKept,
	}
	for k, o := range want {
		if got[k].Outcome != o {
			t.Errorf("%s: outcome %q, want %q", k, got[k].Outcome, o)
		}
	}
	// The owners' decisions are on the cases, with their deciders.
	if g := got["dev1/GitHub"]; g.OwnerDecision != campaign.DecisionRevoke || g.OwnerDecidedByID != "dev2" ||
		g.OwnerDecidedBy == "" || g.OwnerAt.IsZero() {
		t.Errorf("dev1/GitHub owner decision: %q by %q (%q) at %v; want revoke by dev2", g.OwnerDecision,
			g.OwnerDecidedBy, g.OwnerDecidedByID, g.OwnerAt)
	}
	if g := got["dev2/GitHub"]; g.OwnerDecision != campaign.DecisionKeep || g.OwnerDecidedByID != "iam" {
		t.Errorf("dev2/GitHub owner decision: %q by %q; want keep by the IAM team's iam", g.OwnerDecision, g.OwnerDecidedByID)
	}
	if g := got["ops/GitHub"]; g.OwnerDecision != "" {
		t.Errorf("ops/GitHub: owner decision %q, want none (silent owner)", g.OwnerDecision)
	}
	plan, err := h.st.Plan(h.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plan, func(p campaign.PlanItem) bool {
		return p.Kind == campaign.OpUnassignApp && p.UserID == "dev1" && p.AppID == "github"
	}) {
		t.Fatalf("plan lacks the owner's removal: %+v", plan)
	}
	rep, err := h.eng.Report(h.ctx, c.ID)
	if err != nil || rep.ByState["decided_by_owner"] != 3 {
		t.Fatalf("report: decided_by_owner = %d (%v), want 3", rep.ByState["decided_by_owner"], err)
	}
	certs, _ := h.st.Certifications(h.ctx)
	if by := certs[campaign.EntitlementKey{UserID: "dev1", Kind: campaign.KindApp, EntitlementID: "github"}].DecidedBy; by != "dev2@x.com" {
		t.Fatalf("certification of dev1/GitHub decided by %q, want the owner", by)
	}

	// A late decision is refused and leaves no trace.
	before, _ := h.st.Events(h.ctx, c.ID)
	_, err = h.ownerDecide(c.ID, "peer@x.com", "jira", map[int64]string{id("dev2/Jira"): "keep"})
	wantErr(t, err, campaign.ErrConflict, "an owner decision after the close")
	if after, _ := h.st.Events(h.ctx, c.ID); len(after) != len(before) {
		t.Fatalf("a refused decision added %d audit events", len(after)-len(before))
	}
	// The owner's decision is in the audit log, actor by Okta id.
	var found bool
	for _, ev := range before {
		if ev.Type == "case.answered" && ev.CaseID == id("dev1/GitHub") && ev.Detail["stage"] == "stage3" {
			found = ev.Actor.UserID == "dev2" && ev.Detail["decision"] == "revoke"
		}
	}
	if !found {
		t.Fatal("no stage-3 audit event for the owner's revoke by dev2")
	}
}

// TestOwnerStageFenced: a decision that reaches the store after the
// close began (the campaign left stage 3) is refused.
func TestOwnerStageFenced(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(ownersDef)
	h.answer(c.ID, "mgr@x.com", "dev1", "GitHub", "keep")
	h.clock.Advance(7*day + time.Minute)
	h.tick()
	cases := h.cases(c.ID)
	if _, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com")); err != nil {
		t.Fatal(err)
	}
	_, err := h.ownerDecide(c.ID, "dev2@x.com", "github", map[int64]string{cases["dev1/GitHub"].ID: "revoke"})
	wantErr(t, err, campaign.ErrConflict, "decision on a closed campaign")
	if o := h.cases(c.ID)["dev1/GitHub"].Outcome; o != campaign.OutcomeNoDecisionRevoked {
		t.Fatalf("closed by hand in stage 3: silent owner's case = %q", o)
	}
}

// TestOwnerStageSkipped: when no kept access has an owner, stage 2 ends
// in the close, and cases keep their stage-2 outcome.
func TestOwnerStageSkipped(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(strings.Replace(ownersDef, "owners: {GitHub: [dev2@x.com], jira: [PEER@x.com, nobody@x.com]}",
		"owners: {Wiki: [peer@x.com]}", 1))
	h.answer(c.ID, "mgr@x.com", "dev1", "Wiki", "revoke")
	h.answer(c.ID, "mgr@x.com", "dev1", "GitHub", "keep")
	h.clock.Advance(7*day + time.Minute)
	h.tick()
	if s := h.state(c.ID); s != campaign.StateClosed {
		t.Fatalf("state = %s, want closed (no owner stage)", s)
	}
	if h.notesTo("peer", campaign.NoteOwnerForm) != 0 {
		t.Fatal("an owner with nothing kept got a form")
	}
	got := h.cases(c.ID)
	if got["dev1/GitHub"].Outcome != campaign.OutcomeKept || got["dev1/Wiki"].Outcome != campaign.OutcomeRevoked {
		t.Fatalf("outcomes: GitHub %q, Wiki %q", got["dev1/GitHub"].Outcome, got["dev1/Wiki"].Outcome)
	}
}

// TestOwnerStageSharesDeadline: a launch with a deadline ends stage 3 at
// that deadline, the stages sharing it in proportion.
func TestOwnerStageSharesDeadline(t *testing.T) {
	h := newHarness(t, org())
	def, err := campaign.ParseDefinition("d.yaml", []byte(ownersDef))
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(24 * day) // manager 7d + owner 5d, doubled
	c, err := h.eng.Launch(h.ctx, campaign.LaunchRequest{Definition: def, YAML: ownersDef, Owner: as("iam@x.com"), Deadline: end})
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(14 * day); !c.Deadline.Equal(want) {
		t.Fatalf("stage 2 ends %s, want %s", c.Deadline, want)
	}
	h.answer(c.ID, "mgr@x.com", "dev1", "GitHub", "keep")
	h.clock.Advance(14 * day)
	h.tick()
	c, _ = h.st.GetCampaign(h.ctx, c.ID)
	if c.State != campaign.StateStage3 || !c.Deadline.Equal(end) {
		t.Fatalf("stage 3: state %s, deadline %s, want %s", c.State, c.Deadline, end)
	}
}

// TestResolveOwners: owners by list (label or id, email or login) and by
// group pattern; inactive accounts own nothing; unknown names reported.
func TestResolveOwners(t *testing.T) {
	s := org()
	s.Groups = append(s.Groups, campaign.Group{ID: "own-gh", Name: "app-owners-github", Type: campaign.GroupOkta})
	s.Memberships = append(s.Memberships, campaign.Membership{GroupID: "own-gh", UserID: "vp"},
		campaign.Membership{GroupID: "own-gh", UserID: "ops"})
	for i := range s.Users {
		if s.Users[i].ID == "ops" {
			s.Users[i].Status = campaign.StatusSuspended
		}
	}
	owners, unresolved := campaign.ResolveOwners(s, campaign.OwnerStage{
		Owners:      map[string][]string{"payroll": {"MGR@x.com"}, "Jira": {"ghost@x.com"}, "Nope": {"vp@x.com"}},
		OwnersGroup: "app-owners-{label}",
	})
	if got := owners["github"]; !slices.Equal(got, []string{"vp"}) {
		t.Errorf("GitHub owners by group = %v, want [vp] (ops is suspended)", got)
	}
	if got := owners["payroll"]; !slices.Equal(got, []string{"mgr"}) {
		t.Errorf("Payroll owners by id and login = %v", got)
	}
	if _, ok := owners["jira"]; ok {
		t.Errorf("Jira has an owner nobody could resolve: %v", owners["jira"])
	}
	if len(unresolved) != 2 || !strings.Contains(strings.Join(unresolved, ";"), "ghost@x.com") ||
		!strings.Contains(strings.Join(unresolved, ";"), `"Nope"`) {
		t.Errorf("unresolved = %v", unresolved)
	}
}

// TestOwnerStageDefinition: parsing and validation of stages.app_owner.
func TestOwnerStageDefinition(t *testing.T) {
	d, err := campaign.ParseDefinition("d.yaml", []byte("name: x\n"))
	if err != nil || d.Stages.AppOwner.On() {
		t.Fatalf("default: on=%v err=%v", d.Stages.AppOwner.On(), err)
	}
	d, err = campaign.ParseDefinition("d.yaml", []byte("name: x\nstages: {app_owner: {enabled: true, owners_group: 'own-{id}'}}\n"))
	if err != nil || !d.Stages.AppOwner.On() || d.Stages.AppOwner.Duration != campaign.DefaultOwnerStageDuration {
		t.Fatalf("enabled: %+v, %v", d.Stages.AppOwner, err)
	}
	// The shipped example stays valid and means what it says.
	raw, err := os.ReadFile(filepath.Join("..", "campaigns", "app-owners.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err = campaign.ParseDefinition("app-owners.yaml", raw)
	if err != nil || !d.Stages.AppOwner.On() || d.Stages.AppOwner.OwnersGroup != "app-owners-{label}" || len(d.Stages.AppOwner.Owners["Salesforce"]) != 2 {
		t.Fatalf("campaigns/app-owners.yaml: %+v, %v", d.Stages.AppOwner, err)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"fixed group":  {"stages: {app_owner: {owners_group: app-owners}}", "stages.app_owner.owners_group: \"app-owners\" names one group"},
		"attribute":    {"stages: {app_owner: {owners_attribute: owner-email}}", "stages.app_owner.owners_attribute: \"owner-email\" is not an app profile attribute name"},
		"not an email": {"stages: {app_owner: {owners: {Jira: [alice]}}}", "stages.app_owner.owners.Jira: \"alice\" is not an email"},
		"empty list":   {"stages: {app_owner: {owners: {Jira: []}}}", "stages.app_owner.owners.Jira: lists nobody"},
		"unknown key":  {"stages: {app_owner: {owner: [a@x.com]}}", "field owner not found"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := campaign.ParseDefinition("d.yaml", []byte("name: x\n"+tc.yaml+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestOwnerStageReminders: owners with undecided cases are reminded at
// the stage's reminder slots, once per slot; an owner who decided
// everything is not.
func TestOwnerStageReminders(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(ownersDef)
	h.answer(c.ID, "mgr@x.com", "dev1", "GitHub", "keep")
	h.answer(c.ID, "mgr@x.com", "dev1", "Jira", "keep")
	h.clock.Advance(7*day + time.Minute)
	h.tick()
	cases := h.cases(c.ID)
	// peer decides their one case (dev2's Jira was left to the
	// no-decision rule, revoke, so no owner sees it); dev2 leaves GitHub open.
	if _, err := h.ownerDecide(c.ID, "peer@x.com", "jira", map[int64]string{cases["dev1/Jira"].ID: "keep"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2*day + time.Minute) // 3 days before the 5-day stage's end
	h.tick()
	h.tick()
	if n := h.notesTo("dev2", campaign.NoteReminder); n != 1 {
		t.Fatalf("dev2 reminded %d times, want 1", n)
	}
	if n := h.notesTo("peer", campaign.NoteReminder); n != 0 {
		t.Fatalf("peer, who decided everything, reminded %d times", n)
	}
	h.clock.Advance(2 * day) // the 1-day slot
	h.tick()
	if n := h.notesTo("dev2", campaign.NoteReminder); n != 2 {
		t.Fatalf("dev2 reminded %d times after the second slot, want 2", n)
	}
}
