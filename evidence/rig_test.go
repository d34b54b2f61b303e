package evidence_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
	"github.com/attestbot/attest/store"
)

// The rig runs one whole campaign with the engine and the executor on a
// real SQLite store and a fake clock: self-attestation, manager review by a
// fast reviewer (half a second a decision) and a slow one (a minute), an
// undecided case, close, approval and the Okta removals on a fake Okta.

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

const auditKey = "0123456789abcdef-evidence-test"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// rigDefinition reviews every app in two stages; escalation off.
const rigDefinition = `name: Q4 access review
description: quarterly review of app access
stages:
  self_attestation: {duration: 2d}
  manager: {duration: 3d}
escalation: {after: 0d}
approval: {approvers: [approver@x.com]}
`

// rigSnapshot is a small org: a CEO, two managers (fast and slow), four
// sales members with five apps each, two engineers with three apps each,
// and a suspended salesman with two apps nobody decides on.
func rigSnapshot() *campaign.Snapshot {
	s := &campaign.Snapshot{OrgURL: "https://example.okta.com", StartedAt: t0.Add(-time.Hour), CompletedAt: t0.Add(-50 * time.Minute)}
	user := func(id, dept, mgr string) {
		s.Users = append(s.Users, campaign.User{ID: id, Login: id + "@x.com", Email: id + "@x.com", FirstName: id, LastName: "Test",
			Status: "ACTIVE", Department: dept, ManagerRef: mgr, LastLogin: t0.Add(-24 * time.Hour)})
	}
	user("ceo", "Exec", "")
	user("iam", "IT", "ceo")
	user("approver", "IT", "ceo")
	user("fast", "Sales", "ceo@x.com")
	user("slow", "Engineering", "ceo@x.com")
	for i := 1; i <= 4; i++ {
		user(fmt.Sprintf("s%d", i), "Sales", "fast@x.com")
	}
	user("e1", "Engineering", "slow@x.com")
	user("e2", "Engineering", "slow@x.com")
	user("gone", "Sales", "fast@x.com") // a leaver: suspended, still holding two apps
	s.Users[len(s.Users)-1].Status = "SUSPENDED"
	for i := 1; i <= 5; i++ {
		s.Apps = append(s.Apps, campaign.App{ID: fmt.Sprintf("0oa%d", i), Name: fmt.Sprintf("app%d", i),
			Label: fmt.Sprintf("App %d", i), Status: "ACTIVE", SignOnMode: "SAML_2_0"})
	}
	assign := func(user string, apps int) {
		for i := 1; i <= apps; i++ {
			s.AppAssignments = append(s.AppAssignments, campaign.AppAssignment{AppID: fmt.Sprintf("0oa%d", i), UserID: user, Scope: "USER"})
		}
	}
	for i := 1; i <= 4; i++ {
		assign(fmt.Sprintf("s%d", i), 5)
	}
	assign("e1", 3)
	assign("e2", 3)
	assign("gone", 2)
	// A group (no app assigned to it) whose Okta member count lags.
	s.Groups = append(s.Groups, campaign.Group{ID: "00gSALES", Name: "Sales team", Type: "OKTA_GROUP"})
	for i := 1; i <= 4; i++ {
		s.Memberships = append(s.Memberships, campaign.Membership{GroupID: "00gSALES", UserID: fmt.Sprintf("s%d", i)})
	}
	campaign.ResolveManagers(s.Users)
	campaign.MarkRuleGroups(s)
	return s
}

// fakeOkta holds the direct app assignments and group memberships left.
type fakeOkta struct {
	mu      sync.Mutex
	assigns map[string]bool // app/user
	members map[string]bool // group/user
}

func (f *fakeOkta) HasMembership(_ context.Context, userID, groupID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.members[groupID+"/"+userID], nil
}

func (f *fakeOkta) AppAssignment(_ context.Context, appID, userID string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "USER", f.assigns[appID+"/"+userID], nil
}

func (f *fakeOkta) RemoveMembership(_ context.Context, userID, groupID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.members, groupID+"/"+userID)
	return nil
}

func (f *fakeOkta) UnassignApp(_ context.Context, userID, appID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.assigns, appID+"/"+userID)
	return nil
}

func (f *fakeOkta) AddMembership(_ context.Context, userID, groupID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[groupID+"/"+userID] = true
	return nil
}

// rig is the finished campaign.
type rig struct {
	st  *store.Store
	id  int64
	clk *clock
}

// runCampaign runs the whole campaign and returns the store holding it.
func runCampaign(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	// The audit chain is keyed, as with store.audit_key set.
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"), store.WithAuditKey([]byte(auditKey)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: t0}
	st.Now = clk.Now
	snap := rigSnapshot()
	counts := campaign.Count(snap)
	counts.Read = &campaign.ReadRecord{Complete: true, Pages: map[string]int{campaign.ReadUsers: 2, campaign.ReadGroupMembers: 1},
		Failed: []campaign.FailedRead{}, GroupMemberCounts: map[string]int{"00gSALES": 5}}
	counts.Read.Reconcile(snap)
	// HR: s2 has left (Okta still has them active); e2 has no HR row.
	var hr []campaign.HRRecord
	for _, u := range snap.Users {
		switch u.ID {
		case "s2":
			hr = append(hr, campaign.HRRecord{Email: u.Email, Status: "Terminated"})
		case "e2":
		default:
			hr = append(hr, campaign.HRRecord{Email: u.Email, Status: "Active"})
		}
	}
	counts.HR = campaign.CheckHR(snap.Users, hr, t0.Add(-time.Hour))
	if _, err := st.SaveSnapshot(ctx, snap, counts); err != nil {
		t.Fatal(err)
	}
	eng := &campaign.Engine{Store: st, Now: clk.Now, Admins: []string{"iam@x.com"}}
	def, err := campaign.ParseDefinition("q4.yaml", []byte(rigDefinition))
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: rigDefinition,
		Owner: campaign.Actor{Email: "iam@x.com", Via: "cli"}, Trigger: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(by, user, app, decision string, slack bool) {
		t.Helper()
		a := campaign.Actor{Email: by + "@x.com", Via: "cli"}
		if slack {
			a = campaign.Actor{Email: by + "@x.com", Via: "slack", SlackUserID: "U" + by, SlackTeamID: "T1",
				SlackActionTS: fmt.Sprintf("%d.%06d", clk.Now().Unix(), clk.Now().Nanosecond()/1000), PayloadSHA256: fmt.Sprintf("%064x", clk.Now().UnixNano())}
		}
		if _, err := eng.Answer(ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: a, User: user, Entitlement: app, Decision: decision}); err != nil {
			t.Fatalf("%s answers %s on %s/%s: %v", by, decision, user, app, err)
		}
	}
	// Stage 1: s1 keeps everything; e1 does not need App 3.
	clk.Advance(2 * time.Hour)
	for i := 1; i <= 5; i++ {
		answer("s1", "s1", fmt.Sprintf("App %d", i), "keep", false)
	}
	answer("e1", "e1", "App 3", "revoke", false)
	clk.Advance(2 * 24 * time.Hour)
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	// The fast reviewer's form for s1 reaches Slack; twenty decisions follow
	// half a second apart.
	clk.Advance(10 * time.Minute)
	deliver(t, st, fmt.Sprintf("r:%d:fast:s1:1", c.ID))
	clk.Advance(5 * time.Second)
	for i := 1; i <= 4; i++ {
		for a := 1; a <= 5; a++ {
			d := "keep"
			if i == 4 && a >= 4 {
				d = "revoke"
			}
			answer("fast", fmt.Sprintf("s%d", i), fmt.Sprintf("App %d", a), d, true)
			clk.Advance(500 * time.Millisecond)
		}
	}
	// The slow reviewer takes a minute a decision and leaves one open.
	for _, x := range []struct{ user, app, d string }{{"e1", "App 1", "keep"}, {"e1", "App 2", "revoke"}, {"e2", "App 1", "keep"}, {"e2", "App 2", "keep"}} {
		clk.Advance(time.Minute)
		answer("slow", x.user, x.app, x.d, false)
	}
	clk.Advance(time.Hour)
	if _, _, err := eng.Close(ctx, c.ID, campaign.Actor{Email: "iam@x.com", Via: "cli"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if _, _, err := eng.Approve(ctx, c.ID, campaign.Actor{Email: "approver@x.com", Via: "cli"}); err != nil {
		t.Fatal(err)
	}
	okta := &fakeOkta{assigns: map[string]bool{}, members: map[string]bool{}}
	for _, a := range snap.AppAssignments {
		okta.assigns[a.AppID+"/"+a.UserID] = true
	}
	x := &campaign.Executor{Store: st, Ops: st, Okta: okta, Now: clk.Now, Worker: "test:1", Workers: 1}
	clk.Advance(10 * time.Minute)
	if err := x.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Run(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return &rig{st: st, id: c.ID, clk: clk}
}

// deliver records a form page as sent to Slack now.
func deliver(t *testing.T, st *store.Store, ref string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Enqueue(ctx, slackrec.OutboxItem{Key: "post:" + ref + ":v1", Kind: slackrec.KindPost, Target: "okta:fast", Ref: ref,
		Payload: slackrec.Payload{Text: "form"}}); err != nil {
		t.Fatal(err)
	}
	items, err := st.ClaimOutbox(ctx, st.Now(), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim outbox: %v, %d items", err, len(items))
	}
	if err := st.OutboxSent(ctx, items[0].ID, "D1", "1.1"); err != nil {
		t.Fatal(err)
	}
}
