package handlers

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// fanOutRig is the engine, the real store and its outbox, and this
// package's Notifier, as serve wires them, on a fake clock: mgr manages
// dev1 and dev2, who each hold GitHub and Jira directly.
type fanOutRig struct {
	ctx  context.Context
	st   *store.Store
	eng  *campaign.Engine
	out  *Notifier
	mu   sync.Mutex
	now  time.Time
	sent int // forms the notifier took before it "died"
}

func newFanOutRig(t *testing.T) *fanOutRig {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &fanOutRig{ctx: ctx, st: st, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	st.Now = r.clock
	old := r.now.AddDate(-1, 0, 0)
	u := func(id, mgr string) campaign.User {
		return campaign.User{ID: id, Login: id + "@x.com", Email: id + "@x.com", FirstName: id, Status: campaign.StatusActive,
			Created: old, LastLogin: r.now.Add(-time.Hour), ManagerRef: mgr}
	}
	snap := &campaign.Snapshot{OrgURL: "https://x.okta.com", StartedAt: r.now, CompletedAt: r.now,
		Users: []campaign.User{u("iam", ""), u("mgr", ""), u("dev1", "mgr"), u("dev2", "mgr")},
		Apps:  []campaign.App{{ID: "github", Label: "GitHub", Status: "ACTIVE"}, {ID: "jira", Label: "Jira", Status: "ACTIVE"}}}
	for _, who := range []string{"dev1", "dev2"} {
		for _, app := range []string{"github", "jira"} {
			snap.AppAssignments = append(snap.AppAssignments, campaign.AppAssignment{AppID: app, UserID: who, Scope: "USER", Created: old})
		}
	}
	campaign.ResolveManagers(snap.Users)
	if _, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap)); err != nil {
		t.Fatal(err)
	}
	r.eng = &campaign.Engine{Store: st, Now: r.clock}
	r.out = &Notifier{Outbox: st, Campaigns: st, Owners: r.eng, Settings: Settings{ApprovalsChannel: "C0APPROVALS"}, Now: r.clock}
	return r
}

func (r *fanOutRig) clock() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }

func (r *fanOutRig) advance(d time.Duration) { r.mu.Lock(); r.now = r.now.Add(d); r.mu.Unlock() }

// dieAfter makes the engine's notifier take k forms and fail the rest,
// as a process killed part-way through a fan-out would.
func (r *fanOutRig) dieAfter(k int) {
	r.eng.Notifier = campaign.NotifierFunc(func(ctx context.Context, n campaign.Notification) error {
		if r.sent >= k {
			return errors.New("killed")
		}
		r.sent++
		return r.out.Notify(ctx, n)
	})
}

// posts counts the outbox's posts under a key prefix, in any state.
func (r *fanOutRig) posts(t *testing.T, prefix string) int {
	t.Helper()
	states, err := r.st.OutboxProgress(r.ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range states {
		n += k
	}
	return n
}

func (r *fanOutRig) launch(t *testing.T, def string) *campaign.Campaign {
	t.Helper()
	d, err := campaign.ParseDefinition("d.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.eng.Launch(r.ctx, campaign.LaunchRequest{Definition: d, YAML: def, Owner: campaign.Actor{Email: "iam@x.com"}, Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// resume is the leader's tick after the starter's lease ran out, with
// Slack's outbox reachable again.
func (r *fanOutRig) resume(t *testing.T) {
	t.Helper()
	r.eng.Notifier = r.out
	r.advance(3 * time.Minute)
	if err := r.eng.Tick(r.ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMemberFanOutResumedOnce: a launch killed after the first member's
// form, whose message was then posted, is resumed by the tick: the other
// member's form is queued, the posted one is not queued again, and the
// keys are the stage's, one per member and page.
func TestMemberFanOutResumedOnce(t *testing.T) {
	r := newFanOutRig(t)
	r.dieAfter(1)
	c := r.launch(t, "name: Q4\nowner: iam@x.com\nstages: {self_attestation: {duration: 7d}, manager: {duration: 7d}}\n")
	all := fmt.Sprintf("post:m:%d:", c.ID)
	if n := r.posts(t, all); n != 1 {
		t.Fatalf("member forms queued before the kill: %d, want 1", n)
	}
	// The sender posts what was queued.
	items, err := r.st.ClaimOutbox(r.ctx, r.clock(), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %d items, %v", len(items), err)
	}
	if err := r.st.OutboxSent(r.ctx, items[0].ID, "D1", "1.0"); err != nil {
		t.Fatal(err)
	}

	r.resume(t)
	for _, m := range []string{"dev1", "dev2"} {
		key := fmt.Sprintf("post:m:%d:%s:1:v1", c.ID, m)
		if n := r.posts(t, key); n != 1 {
			t.Errorf("%s: %d posts keyed %s, want 1", m, n, key)
		}
	}
	if n := r.posts(t, all); n != 2 {
		t.Errorf("member form posts after the resume: %d, want 2", n)
	}
	// A completed fan-out is not redone, and a retry of a keyed form
	// queues nothing.
	r.resume(t)
	if err := r.out.Notify(r.ctx, campaign.Notification{Kind: campaign.NoteMemberForm, To: "dev1", CampaignID: c.ID,
		Key: campaign.FormKey(c.ID, campaign.StateStage1, "dev1")}); err != nil {
		t.Fatal(err)
	}
	if n := r.posts(t, all); n != 2 {
		t.Errorf("member form posts after more ticks: %d, want 2", n)
	}
}

// TestReviewerFanOutResumedOnce: stage 2's manager forms were keyed by a
// random version, so a re-queue would have sent each twice. Now a launch
// killed before any reviewer form is resumed once per (reviewer, member,
// page) under the stage's key; a form the reviewer opened from the Home
// tab meanwhile is not queued again; an escalation still posts a new
// version.
func TestReviewerFanOutResumedOnce(t *testing.T) {
	r := newFanOutRig(t)
	r.dieAfter(0)
	c := r.launch(t, "name: Managers\nowner: iam@x.com\nstages: {self_attestation: {enabled: false}, manager: {duration: 7d}}\n")
	all := fmt.Sprintf("post:r:%d:", c.ID)
	if n := r.posts(t, all); n != 0 {
		t.Fatalf("reviewer forms queued before the kill: %d, want 0", n)
	}
	if err := r.out.SendReviewerForms(r.ctx, c, "mgr", []string{"dev1"}, "home123"); err != nil {
		t.Fatal(err)
	}

	r.resume(t)
	r.resume(t)
	for _, m := range []string{"dev1", "dev2"} {
		if n := r.posts(t, fmt.Sprintf("post:r:%d:mgr:%s:1:", c.ID, m)); n != 1 {
			t.Errorf("mgr's form for %s posted %d times, want 1", m, n)
		}
	}
	key := fmt.Sprintf("post:r:%d:mgr:dev2:1:%s", c.ID, campaign.FormKey(c.ID, campaign.StateStage2, "mgr"))
	if n := r.posts(t, key); n != 1 {
		t.Errorf("no post keyed %s", key)
	}
	if err := r.out.Notify(r.ctx, campaign.Notification{Kind: campaign.NoteEscalated, To: "mgr", CampaignID: c.ID,
		Members: []string{"dev1"}}); err != nil {
		t.Fatal(err)
	}
	if n := r.posts(t, fmt.Sprintf("post:r:%d:mgr:dev1:1:", c.ID)); n != 2 {
		t.Errorf("an escalation's new version of mgr's form: %d posts, want 2", n)
	}
	ok, err := r.st.HasEvent(r.ctx, c.ID, campaign.FormsQueuedType(campaign.StateStage2))
	if err != nil || !ok {
		t.Errorf("resumed fan-out not recorded: %v, %v", ok, err)
	}
}

// TestKeyedReminderQueuedOnce: a reminder the engine keys per person and
// slot is queued once however often it is retried; one without a key (an
// older caller) still gets a key of its own.
func TestKeyedReminderQueuedOnce(t *testing.T) {
	r := newFanOutRig(t)
	r.eng.Notifier = r.out
	c := r.launch(t, "name: Q4\nowner: iam@x.com\n")
	key := fmt.Sprintf("remind:%d:member:dev1:2026-11-06T09:00:00Z", c.ID)
	for i := 0; i < 2; i++ {
		r.advance(time.Second)
		if err := r.out.Notify(r.ctx, campaign.Notification{Kind: campaign.NoteReminder, To: "dev1", CampaignID: c.ID, Open: 2, Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.posts(t, key); n != 1 {
		t.Errorf("a keyed reminder retried once: %d posts under %s, want 1", n, key)
	}
	if err := r.out.Notify(r.ctx, campaign.Notification{Kind: campaign.NoteReminder, To: "dev1", CampaignID: c.ID, Open: 2}); err != nil {
		t.Fatal(err)
	}
	if n := r.posts(t, fmt.Sprintf("remind:%d:dev1:", c.ID)); n != 1 {
		t.Errorf("an unkeyed reminder: %d posts, want 1", n)
	}
}
