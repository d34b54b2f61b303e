package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// An answer that arrives after close is refused with a clear sentence and
// changes nothing: not the case, not its outcome, not the audit log.
func TestLateAnswerChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		by     string
		member string
		app    string
	}{
		{"manager after close", "mgr@x.com", "dev2@x.com", "GitHub"},
		{"manager changing a decision after close", "mgr@x.com", "dev1@x.com", "GitHub"},
		{"IAM reviewer after close", "iam@x.com", "ops@x.com", "GitHub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, org())
			c := h.launch(trustDef)
			h.toPlan(c)
			before := h.cases(c.ID)
			events, _ := h.st.Events(h.ctx, c.ID)
			err := h.try(c.ID, tc.by, tc.member, tc.app, "keep")
			wantErr(t, err, campaign.ErrConflict, "late answer")
			if msg := campaign.ErrorMessage(err); msg != "this campaign's stage 2 has ended; your answer was not recorded" {
				t.Errorf("message = %q", msg)
			}
			after := h.cases(c.ID)
			for k, b := range before {
				if a := after[k]; a.Outcome != b.Outcome || a.ReviewerDecision != b.ReviewerDecision {
					t.Errorf("%s changed: %+v -> %+v", k, b, a)
				}
			}
			if again, _ := h.st.Events(h.ctx, c.ID); len(again) != len(events) {
				t.Errorf("events %d -> %d", len(events), len(again))
			}
		})
	}
}

// crowd is a manager with n members, each holding the app "Tool" by a
// direct assignment.
func crowd(n int) *campaign.Snapshot {
	s := org()
	s.Apps = append(s.Apps, campaign.App{ID: "tool", Label: "Tool", Status: "ACTIVE"})
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("m%03d", i)
		s.Users = append(s.Users, campaign.User{ID: id, Login: id + "@x.com", Email: id + "@x.com", Status: campaign.StatusActive,
			Created: t0.AddDate(-1, 0, 0), LastLogin: t0.Add(-day), ManagerRef: "mgr"})
		s.AppAssignments = append(s.AppAssignments, campaign.AppAssignment{AppID: "tool", UserID: id, Scope: "USER", Created: t0.AddDate(-1, 0, 0)})
	}
	return s
}

// Answers racing a close on a real SQLite file: every answer is either in
// the plan or refused, never audited but left out.
func TestAnswersRacingCloseAreInThePlanOrRefused(t *testing.T) {
	const members = 60
	h := newHarness(t, crowd(members))
	c := h.launch(strings.Replace(trustDef, "name: Trust review", "name: Race\nscope: {apps: {include: [Tool]}}", 1))
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, members)
	for i := 0; i < members; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			errs[i] = h.try(c.ID, "mgr@x.com", fmt.Sprintf("m%03d@x.com", i), "Tool", "revoke")
		}(i)
	}
	var plan []campaign.PlanItem
	var closeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		_, plan, closeErr = h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
	}()
	close(start)
	wg.Wait()
	if closeErr != nil {
		t.Fatal(closeErr)
	}
	planned := map[string]bool{}
	for _, p := range plan {
		if p.Kind == campaign.OpUnassignApp {
			planned[p.UserID] = true
		}
	}
	events, err := h.st.Events(h.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, ev := range events {
		if ev.Type == "case.answered" {
			audited[fmt.Sprint(ev.Detail["user"])] = true
		}
	}
	cases := h.cases(c.ID)
	accepted := 0
	for i, err := range errs {
		id := fmt.Sprintf("m%03d", i)
		cs := cases[id+"/Tool"]
		switch {
		case err == nil:
			accepted++
			if !planned[id] || !audited[id] || cs.Outcome != campaign.OutcomeRevoked {
				t.Errorf("%s: accepted but planned=%v audited=%v outcome=%q", id, planned[id], audited[id], cs.Outcome)
			}
		case errors.Is(err, campaign.ErrConflict):
			if planned[id] || audited[id] || cs.ReviewerDecision != "" || cs.Outcome != campaign.OutcomeNoDecisionKept {
				t.Errorf("%s: refused (%v) but planned=%v audited=%v decision=%q outcome=%q", id, err, planned[id], audited[id],
					cs.ReviewerDecision, cs.Outcome)
			}
		default:
			t.Errorf("%s: %v", id, err)
		}
	}
	if len(audited) != accepted {
		t.Errorf("%d answers audited, %d accepted", len(audited), accepted)
	}
	t.Logf("%d of %d answers landed before the close", accepted, members)
}

// Every state-changing write of a closing or closed campaign is refused
// in its own transaction: delegation, confirm-all, escalation, cancel.
func TestClosedCampaignRefusesEveryWrite(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(strings.Replace(trustDef, "stages: {self_attestation: {enabled: false}, manager: {duration: 7d}}",
		"stages: {self_attestation: {duration: 7d}, manager: {duration: 7d}}\nescalation: {after: 1d}", 1))
	h.answer(c.ID, "dev1@x.com", "dev1@x.com", "Jira", "keep")
	if _, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com")); err != nil {
		t.Fatal(err)
	}
	before := h.cases(c.ID)
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"delegate", func() error {
			_, err := h.eng.Delegate(h.ctx, campaign.DelegateRequest{CampaignID: c.ID, Actor: as("mgr@x.com"), Member: "dev1@x.com", To: "peer@x.com"})
			return err
		}},
		{"confirm all", func() error { _, err := h.eng.ConfirmMember(h.ctx, c.ID, as("mgr@x.com"), "dev1@x.com"); return err }},
		{"member answer", func() error { return h.try(c.ID, "dev1@x.com", "dev1@x.com", "AWS", "keep") }},
		{"close again", func() error { _, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com")); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.do(), campaign.ErrConflict, tc.name) })
	}
	h.clock.Advance(5 * day)
	h.tick() // no escalation of a closed campaign
	after := h.cases(c.ID)
	for k, b := range before {
		if a := after[k]; a.ReviewerID != b.ReviewerID || a.MemberDecision != b.MemberDecision || a.Outcome != b.Outcome {
			t.Errorf("%s changed: %+v -> %+v", k, b, a)
		}
	}
}

// hookStore runs onReadAll once, the first time a whole campaign's cases
// are read (what close does to plan), to land a write at that instant.
type hookStore struct {
	*store.Store
	once      sync.Once
	onReadAll func()
}

func (s *hookStore) Cases(ctx context.Context, id int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error) {
	if q == (campaign.CaseQuery{}) && s.onReadAll != nil {
		s.once.Do(s.onReadAll)
	}
	return s.Store.Cases(ctx, id, q)
}

// EachCaseDecision is how close reads a whole campaign's cases when it
// streams them.
func (s *hookStore) EachCaseDecision(ctx context.Context, id int64, pageSize int, fn func([]campaign.CaseRecord) error) error {
	if s.onReadAll != nil {
		s.once.Do(s.onReadAll)
	}
	return s.Store.EachCaseDecision(ctx, id, pageSize, fn)
}

// The old race, made deterministic: an answer committed while close is
// planning. It is refused, not audited and left out of the plan.
func TestAnswerWhileClosePlansIsRefused(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(trustDef)
	h.answer(c.ID, "mgr@x.com", "dev1@x.com", "GitHub", "revoke")
	var during error
	h.eng.Store = &hookStore{Store: h.st, onReadAll: func() {
		during = h.try(c.ID, "mgr@x.com", "dev2@x.com", "GitHub", "revoke")
	}}
	_, plan, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, during, campaign.ErrConflict, "answer while close plans")
	for _, p := range plan {
		if p.UserID == "dev2" && p.Kind == campaign.OpUnassignApp {
			t.Fatal("the refused answer is in the plan")
		}
	}
	if cs := h.cases(c.ID)["dev2/GitHub"]; cs.ReviewerDecision != "" || cs.Outcome != campaign.OutcomeNoDecisionKept {
		t.Fatalf("dev2/GitHub = %+v", cs)
	}
	events, _ := h.st.Events(h.ctx, c.ID)
	for _, ev := range events {
		if ev.Type == "case.answered" && ev.Detail["user"] == "dev2" {
			t.Fatalf("the refused answer was audited: %+v", ev)
		}
	}
}

// stageMover ends stage 1 just before the first case write, as a deadline
// passing mid-answer would.
type stageMover struct {
	*store.Store
	once sync.Once
	c    *campaign.Campaign
}

func (s *stageMover) UpdateCases(ctx context.Context, ups []campaign.CaseUpdate, evs []campaign.Event) error {
	s.once.Do(func() {
		next := *s.c
		next.State = campaign.StateStage2
		_ = s.Store.MoveCampaign(ctx, &next, campaign.StateStage1, campaign.Event{Type: "campaign.stage_changed", Actor: campaign.System})
	})
	return s.Store.UpdateCases(ctx, ups, evs)
}

// Stage 1 ending under an answer: the member's answer is refused (stage 1
// has ended), a reviewer's decision on a case with no member stage is
// still theirs in stage 2 and is recorded.
func TestStageChangeUnderAnAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, by, member, app string
		ok                    bool
	}{
		{"member", "dev1@x.com", "dev1@x.com", "AWS", false},
		{"reviewer of a suspended member", "mgr@x.com", "dev2@x.com", "AWS", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := org()
			user(s, "dev2").Status = campaign.StatusSuspended
			h := newHarness(t, s)
			c := h.launch(baseDef)
			h.eng.Store = &stageMover{Store: h.st, c: c}
			err := h.try(c.ID, tc.by, tc.member, tc.app, "revoke")
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok && campaign.ErrorMessage(err) != "this campaign's stage 1 has ended; your answer was not recorded" {
				t.Fatalf("err = %v", err)
			}
			if h.state(c.ID) != campaign.StateStage2 {
				t.Fatalf("state %s", h.state(c.ID))
			}
		})
	}
}
