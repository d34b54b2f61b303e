package campaign_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// withStages swaps baseDef's stages line.
func withStages(stages string) string {
	return strings.Replace(baseDef, "stages: {self_attestation: {duration: 7d}, manager: {duration: 7d}}", stages, 1)
}

func TestDelegation(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(withStages("stages: {self_attestation: {enabled: false}}"))
	del := func(by, member, to string) error {
		_, err := h.eng.Delegate(h.ctx, campaign.DelegateRequest{CampaignID: c.ID, Actor: as(by), Member: member, To: to})
		return err
	}
	wantErr(t, del("mgr@x.com", "dev1@x.com", "mgr@x.com"), campaign.ErrInvalid, "self-delegation")
	wantErr(t, del("mgr@x.com", "dev1@x.com", "dev1@x.com"), campaign.ErrInvalid, "delegating to the member")
	wantErr(t, del("peer@x.com", "dev1@x.com", "vp@x.com"), campaign.ErrForbidden, "delegating someone else's review")
	if err := del("mgr@x.com", "dev1@x.com", "peer@x.com"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, h.try(c.ID, "mgr@x.com", "dev1@x.com", "Jira", "keep"), campaign.ErrForbidden, "delegator answering")
	h.answer(c.ID, "peer@x.com", "dev1@x.com", "Jira", "keep")
	cs := h.cases(c.ID)["dev1/Jira"]
	if cs.ReviewerID != "peer" || cs.DelegatedBy != "mgr" || cs.DecidedBy != "peer@x.com" {
		t.Fatalf("delegated case = %+v", cs)
	}
	if h.cases(c.ID)["dev2/Jira"].ReviewerID != "mgr" {
		t.Fatal("delegation moved another member's cases")
	}
}

func TestCloseRules(t *testing.T) {
	tests := []struct {
		name      string
		def       string
		wantState campaign.State
		wantPlan  int
		outcome   string
	}{
		{name: "no answers keeps by default", def: baseDef, wantState: campaign.StateDone, outcome: "no-decision-kept"},
		{name: "no answers revoked when configured", def: baseDef + "remediation: {no_decision: revoke}\n",
			wantState: campaign.StateClosed, outcome: "no-decision-revoked", wantPlan: 1},
		{name: "report-only never plans", def: baseDef + "remediation: {mode: report-only, no_decision: revoke}\n",
			wantState: campaign.StateDone, outcome: "no-decision-revoked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, org())
			c := h.launch(tc.def)
			wantErr(t, func() error { _, _, err := h.eng.Close(h.ctx, c.ID, as("dev1@x.com")); return err }(),
				campaign.ErrForbidden, "a member closing")
			closed, plan, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
			if err != nil {
				t.Fatal(err)
			}
			if closed.State != tc.wantState {
				t.Errorf("state = %s, want %s", closed.State, tc.wantState)
			}
			if got := h.cases(c.ID)["ops/GitHub"].Outcome; got != tc.outcome {
				t.Errorf("ops/GitHub outcome = %s, want %s", got, tc.outcome)
			}
			ops := 0
			for _, p := range plan {
				if p.IsOperation() && p.UserID == "ops" {
					ops++
				}
			}
			if ops != tc.wantPlan {
				t.Errorf("operations for ops = %d, want %d", ops, tc.wantPlan)
			}
			_, _, err = h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
			wantErr(t, err, campaign.ErrConflict, "double close")
		})
	}
}

func TestProtectedGroupsAndUsers(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef + "remediation: {protected_groups: [aws-admins], protected_users: [dev1@x.com]}\n")
	h.answer(c.ID, "dev1@x.com", "dev1@x.com", "GitHub", "revoke")
	h.answer(c.ID, "dev2@x.com", "dev2@x.com", "AWS", "revoke")
	h.answer(c.ID, "dev2@x.com", "dev2@x.com", "Jira", "revoke")
	_, plan, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plan {
		if p.IsOperation() && (p.UserID == "dev1" || p.GroupID == "awsadm") {
			t.Errorf("protected access planned: %+v", p)
		}
	}
	var sawProtectedGroup, sawProtectedUser, removedEng bool
	for _, p := range plan {
		sawProtectedGroup = sawProtectedGroup || p.Kind == campaign.ItemManual && p.GroupID == "awsadm"
		sawProtectedUser = sawProtectedUser || p.Kind == campaign.ItemManual && p.UserID == "dev1"
		removedEng = removedEng || p.Kind == campaign.OpRemoveMembership && p.UserID == "dev2" && p.GroupID == "eng"
	}
	if !sawProtectedGroup || !sawProtectedUser || !removedEng {
		t.Errorf("plan = %+v", plan)
	}
}

func TestCommentRequiredForCriticalAccess(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef + "decisions: {require_comment_for: [critical]}\n")
	wantErr(t, h.try(c.ID, "mgr@x.com", "mgr@x.com", "Payroll", "keep"), campaign.ErrInvalid, "critical without comment")
	_, err := h.eng.Answer(h.ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: as("mgr@x.com"), User: "mgr@x.com",
		Entitlement: "Payroll", Decision: "keep", Comment: "I run payroll"})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRemindersBatchedAndNeverAfterDone(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef)
	h.answer(c.ID, "ops@x.com", "ops@x.com", "GitHub", "keep")
	h.clock.Advance(4*day + time.Hour) // past "3 days before the stage 1 deadline"
	h.tick()
	h.tick()
	if n := h.notesTo("dev1", campaign.NoteReminder); n != 1 {
		t.Errorf("dev1 reminders = %d, want exactly 1 for the slot", n)
	}
	if n := h.notesTo("ops", campaign.NoteReminder); n != 0 {
		t.Errorf("ops finished and was reminded %d times", n)
	}
	if n := h.notesTo("mgr", campaign.NoteReminder); n != 2 {
		// mgr is a member with open cases and a manager whose team is open.
		t.Errorf("mgr reminders = %d, want 2 (own cases, team progress)", n)
	}
	h.clock.Advance(2 * day) // the 1-day-before slot
	h.tick()
	if n := h.notesTo("dev1", campaign.NoteReminder); n != 2 {
		t.Errorf("dev1 reminders after second slot = %d, want 2", n)
	}
}

func TestRecertificationDueDatesAndAcceptUntil(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(withStages("stages: {self_attestation: {enabled: false}}"))
	until := t0.Add(30 * day)
	if _, err := h.eng.Answer(h.ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: as("mgr@x.com"), User: "dev1@x.com",
		Entitlement: "GitHub", Decision: "keep", AcceptUntil: until}); err != nil {
		t.Fatal(err)
	}
	h.answer(c.ID, "mgr@x.com", "dev2@x.com", "GitHub", "keep")
	h.clock.Advance(day)
	if _, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com")); err != nil {
		t.Fatal(err)
	}
	def, err := campaign.ParseDefinition("r.yaml", []byte("name: GitHub recert\nowner: iam@x.com\nscope: {apps: {include: [GitHub]}}\nrecertification: {period: 90d}\n"))
	if err != nil {
		t.Fatal(err)
	}
	due, err := h.eng.NextDue(h.ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]campaign.Due{}
	for _, d := range due {
		got[d.UserID] = d
	}
	if d := got["dev1"]; !d.DueAt.Equal(until) || d.Reason != "accept-until" {
		t.Errorf("dev1 due %v (%s), want accept-until %v", d.DueAt, d.Reason, until)
	}
	if d := got["dev2"]; !d.DueAt.Equal(t0.Add(day+90*day)) || d.Reason != "certified" {
		t.Errorf("dev2 due %v (%s)", d.DueAt, d.Reason)
	}
	if d := got["ops"]; !d.DueAt.Equal(t0.AddDate(-1, 0, 0).Add(90*day)) || d.Reason != "never certified" {
		t.Errorf("ops due %v (%s): never certified counts from the assignment", d.DueAt, d.Reason)
	}
	// ops is overdue: a small campaign covers exactly that.
	rc, err := h.eng.LaunchDue(h.ctx, def, "")
	if err != nil || rc == nil {
		t.Fatalf("LaunchDue: %v %v", rc, err)
	}
	if cs := h.cases(rc.ID); len(cs) != 1 || cs["ops/GitHub"].ID == 0 {
		t.Fatalf("recertification cases = %v", cs)
	}
	if again, err := h.eng.LaunchDue(h.ctx, def, ""); err != nil || again != nil {
		t.Fatalf("second LaunchDue while one is open = %v, %v; want nothing", again, err)
	}
}

func TestMissedCronRunRunsOnceAtStartup(t *testing.T) {
	h := newHarness(t, org())
	def, err := campaign.ParseDefinition("w.yaml", []byte(baseDef+"schedule: {cron: \"0 8 * * 1\", timezone: Europe/Berlin}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := &campaign.Scheduler{Engine: h.eng, Definitions: func() ([]campaign.DefinitionFile, error) {
		return []campaign.DefinitionFile{{Path: "w.yaml", Def: def}}, nil
	}}
	started := h.clock.Now() // Monday 09:00 UTC: this week's slot has passed
	if err := s.Tick(h.ctx, started); err != nil {
		t.Fatal(err)
	}
	if list, _ := h.st.ListCampaigns(h.ctx); len(list) != 0 {
		t.Fatal("a new schedule fired for a slot before it started")
	}
	h.clock.Advance(7 * day) // next Monday 09:00 UTC = 10:00 Berlin: the 08:00 slot is due
	for i := 0; i < 2; i++ {
		if err := s.Tick(h.ctx, started); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := h.st.ListCampaigns(h.ctx); len(list) != 1 {
		t.Fatalf("campaigns after the slot = %d, want 1", len(list))
	}
	// The process is down for three weeks: at start-up the missed slot
	// runs once, not three times.
	h.clock.Advance(21 * day)
	restarted := h.clock.Now()
	for i := 0; i < 2; i++ {
		if err := s.Tick(h.ctx, restarted); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := h.st.ListCampaigns(h.ctx); len(list) != 2 {
		t.Fatalf("campaigns after downtime = %d, want 2", len(list))
	}
}

func TestConfirmAllAsAnsweredByMember(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		h := newHarness(t, org())
		def := baseDef
		if disabled {
			def += "decisions: {disable_bulk: true}\n"
		}
		c := h.launch(def)
		h.answer(c.ID, "dev1@x.com", "dev1@x.com", "Jira", "keep")
		h.answer(c.ID, "dev1@x.com", "dev1@x.com", "GitHub", "unsure")
		h.clock.Advance(7*day + time.Minute)
		h.tick()
		_, err := h.eng.ConfirmMember(h.ctx, c.ID, as("peer@x.com"), "dev1@x.com")
		if !disabled {
			wantErr(t, err, campaign.ErrForbidden, "someone else's members")
		}
		n, err := h.eng.ConfirmMember(h.ctx, c.ID, as("mgr@x.com"), "dev1@x.com")
		if disabled {
			wantErr(t, err, campaign.ErrForbidden, "bulk disabled")
			continue
		}
		if err != nil || n != 1 {
			t.Fatalf("confirmed %d, %v; want 1 (Jira; GitHub was unsure)", n, err)
		}
		cs := h.cases(c.ID)
		if cs["dev1/Jira"].ReviewerDecision != "keep" || cs["dev1/GitHub"].ReviewerDecision != "" {
			t.Fatalf("after bulk: Jira %q GitHub %q", cs["dev1/Jira"].ReviewerDecision, cs["dev1/GitHub"].ReviewerDecision)
		}
	}
}

// A launch numbers its cases member by member, each member's app cases
// before their group cases, in id order: the order of the cases table's
// unique index, which the launch then appends to.
func TestLaunchNumbersCasesMemberByMember(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef + "entitlements: {groups: [\"*\"]}\n")
	list, err := h.st.Cases(h.ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for i, cs := range list {
		kinds[cs.Kind] = true
		if i == 0 {
			continue
		}
		p := list[i-1]
		if p.ID >= cs.ID {
			t.Fatalf("cases not in id order: %d then %d", p.ID, cs.ID)
		}
		if slices.Compare([]string{p.UserID, p.Kind, p.EntitlementID}, []string{cs.UserID, cs.Kind, cs.EntitlementID}) > 0 {
			t.Errorf("case %d (%s %s %s) numbered before case %d (%s %s %s)", p.ID, p.UserID, p.Kind, p.EntitlementID,
				cs.ID, cs.UserID, cs.Kind, cs.EntitlementID)
		}
	}
	if !kinds[campaign.KindApp] || !kinds[campaign.KindGroup] || len(list) < 10 {
		t.Fatalf("want app and group cases, got %d cases of kinds %v", len(list), kinds)
	}
}

// A launch builds its cases from the snapshot without the app assignments
// its groups imply, and still reviews an app held through a group the
// snapshot does not show: from the saved snapshot, through the store.
func TestLaunchWithoutImpliedAssignments(t *testing.T) {
	snap := org()
	snap.AppAssignments = append(snap.AppAssignments,
		campaign.AppAssignment{AppID: "jira", UserID: "dev1", Scope: campaign.ScopeGroup}, // through eng
		campaign.AppAssignment{AppID: "wiki", UserID: "dev2", Scope: campaign.ScopeGroup}) // through no group it has
	h := newHarness(t, snap)
	var implied int
	if err := h.st.DB().QueryRowContext(h.ctx, `SELECT implied FROM dir_app_users WHERE app_id = 'jira' AND user_id = 'dev1'`).
		Scan(&implied); err != nil || implied != 1 {
		t.Fatalf("dev1's Jira through eng is not marked implied: %d, %v", implied, err)
	}
	c := h.launch(baseDef)
	cases := h.cases(c.ID)
	jira, wiki := cases["dev1/Jira"], cases["dev2/Wiki"]
	if jira.ID == 0 || jira.Direct || !slices.Equal(jira.ViaGroups, []string{"eng"}) {
		t.Errorf("dev1's Jira: %+v, want held through eng", jira)
	}
	if wiki.ID == 0 || wiki.Direct || len(wiki.ViaGroups) != 0 {
		t.Errorf("dev2's Wiki: %+v, want a case held through no known group", wiki)
	}
}
