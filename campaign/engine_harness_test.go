package campaign_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // a Monday

const day = 24 * time.Hour

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is an engine on a real SQLite store with a fake clock, recording
// every notification.
type harness struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	eng   *campaign.Engine
	clock *clock
	mu    sync.Mutex
	notes []campaign.Notification
}

func newHarness(t *testing.T, snap *campaign.Snapshot) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: t0}
	st.Now = clk.Now
	campaign.ResolveManagers(snap.Users)
	campaign.MarkRuleGroups(snap)
	if _, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap)); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, st: st, clock: clk}
	h.eng = &campaign.Engine{Store: st, Now: clk.Now,
		Notifier: campaign.NotifierFunc(func(_ context.Context, n campaign.Notification) error {
			h.mu.Lock()
			h.notes = append(h.notes, n)
			h.mu.Unlock()
			return nil
		}),
		Risk: func(kind, id, label string) string {
			if label == "Payroll" {
				return "critical"
			}
			return ""
		}}
	return h
}

func (h *harness) launch(defYAML string) *campaign.Campaign {
	h.t.Helper()
	def, err := campaign.ParseDefinition("test.yaml", []byte(defYAML))
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := h.eng.Launch(h.ctx, campaign.LaunchRequest{Definition: def, YAML: defYAML, Owner: as("iam@x.com"), Trigger: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func as(email string) campaign.Actor { return campaign.Actor{Email: email, Via: "test"} }

// answer records a decision and fails the test on error.
func (h *harness) answer(id int64, by, user, ent, decision string) {
	h.t.Helper()
	if err := h.try(id, by, user, ent, decision); err != nil {
		h.t.Fatalf("%s answers %s for %s/%s: %v", by, decision, user, ent, err)
	}
}

func (h *harness) try(id int64, by, user, ent, decision string) error {
	_, err := h.eng.Answer(h.ctx, campaign.AnswerRequest{CampaignID: id, Actor: as(by), User: user, Entitlement: ent, Decision: decision})
	return err
}

func (h *harness) tick() {
	h.t.Helper()
	if err := h.eng.Tick(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) state(id int64) campaign.State {
	h.t.Helper()
	c, err := h.st.GetCampaign(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.State
}

// outcomes maps "user/label" to each case's outcome.
func (h *harness) cases(id int64) map[string]campaign.CaseRecord {
	h.t.Helper()
	list, err := h.st.Cases(h.ctx, id, campaign.CaseQuery{})
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]campaign.CaseRecord{}
	for _, c := range list {
		out[c.UserID+"/"+c.Label] = c
	}
	return out
}

func (h *harness) notesTo(to, kind string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, x := range h.notes {
		if x.To == to && x.Kind == kind {
			n++
		}
	}
	return n
}

func wantErr(t *testing.T, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: err = %v, want %v", what, err, kind)
	}
}

// org is a small company: ceo > vp > mgr > dev1, dev2; ops has no manager.
// Engineering (an OKTA_GROUP) grants AWS and Jira; "aws-admins" grants AWS;
// "AD: Finance" (APP_GROUP) grants Payroll; "rule-eng" is managed by a
// group rule and grants Wiki; Everyone grants Slack (company-wide).
func org() *campaign.Snapshot {
	old := t0.AddDate(-1, 0, 0)
	u := func(id, mgr, dept string) campaign.User {
		return campaign.User{ID: id, Login: id + "@x.com", Email: id + "@x.com", FirstName: id, Status: campaign.StatusActive,
			Created: old, LastLogin: t0.Add(-day), Department: dept, ManagerRef: mgr}
	}
	s := &campaign.Snapshot{OrgURL: "https://x.okta.com", StartedAt: t0, CompletedAt: t0,
		Users: []campaign.User{u("ceo", "", "Exec"), u("vp", "ceo@x.com", "Eng"), u("mgr", "vp", "Eng"),
			u("dev1", "mgr", "Eng"), u("dev2", "mgr", "Eng"), u("peer", "vp", "Eng"), u("ops", "", "Ops"), u("iam", "ceo", "IAM"),
			u("approver", "ceo", "IAM")},
		Groups: []campaign.Group{{ID: "everyone", Name: "Everyone", Type: campaign.GroupBuiltIn},
			{ID: "eng", Name: "Engineering", Type: campaign.GroupOkta}, {ID: "awsadm", Name: "aws-admins", Type: campaign.GroupOkta},
			{ID: "adfin", Name: "AD: Finance", Type: campaign.GroupApp}, {ID: "ruleeng", Name: "rule-eng", Type: campaign.GroupOkta}},
		Rules: []campaign.GroupRule{{ID: "0pr1", Name: "eng rule", Status: campaign.StatusActive, GroupIDs: []string{"ruleeng"}}},
		Apps: []campaign.App{{ID: "slack", Label: "Slack", Status: "ACTIVE"}, {ID: "aws", Label: "AWS", Status: "ACTIVE"},
			{ID: "jira", Label: "Jira", Status: "ACTIVE"}, {ID: "payroll", Label: "Payroll", Status: "ACTIVE"},
			{ID: "wiki", Label: "Wiki", Status: "ACTIVE"}, {ID: "github", Label: "GitHub", Status: "ACTIVE"}},
		GroupAssignments: []campaign.GroupAssignment{{AppID: "slack", GroupID: "everyone"}, {AppID: "aws", GroupID: "eng"},
			{AppID: "jira", GroupID: "eng"}, {AppID: "aws", GroupID: "awsadm"}, {AppID: "payroll", GroupID: "adfin"},
			{AppID: "wiki", GroupID: "ruleeng"}},
		AppAssignments: []campaign.AppAssignment{{AppID: "github", UserID: "dev1", Scope: "USER", Created: old},
			{AppID: "github", UserID: "dev2", Scope: "USER", Created: t0.AddDate(0, -2, 0)}, {AppID: "github", UserID: "ops", Scope: "USER", Created: old}},
	}
	for _, x := range s.Users {
		s.Memberships = append(s.Memberships, campaign.Membership{GroupID: "everyone", UserID: x.ID})
	}
	for _, m := range [][2]string{{"eng", "dev1"}, {"eng", "dev2"}, {"awsadm", "dev2"}, {"adfin", "mgr"}, {"ruleeng", "dev1"}} {
		s.Memberships = append(s.Memberships, campaign.Membership{GroupID: m[0], UserID: m[1]})
	}
	return s
}
