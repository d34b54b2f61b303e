package campaign_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// noticeBox stands for the notifier's outbox for escalation and
// delegation notices: one message per key. While failing, it refuses
// them (the outbox is away). With kill set, it takes the next notice and
// then calls kill: the process dies after queuing it, before anything
// else.
type noticeBox struct {
	mu      sync.Mutex
	calls   []campaign.Notification          // every notice handed, taken or not
	queued  map[string]campaign.Notification // taken, by key
	failing bool
	kill    context.CancelFunc
}

func newNoticeBox() *noticeBox { return &noticeBox{queued: map[string]campaign.Notification{}} }

func isNotice(kind string) bool {
	return kind == campaign.NoteEscalated || kind == campaign.NoteDelegated
}

func (b *noticeBox) Notify(ctx context.Context, n campaign.Notification) error {
	if !isNotice(n.Kind) {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, n)
	if b.failing {
		return errDied
	}
	if n.Key == "" {
		return errors.New("a notice without a key cannot be queued once")
	}
	if _, ok := b.queued[n.Key]; !ok {
		b.queued[n.Key] = n
	}
	if b.kill != nil {
		b.kill()
		b.kill = nil
	}
	return nil
}

func (b *noticeBox) set(failing bool) { b.mu.Lock(); b.failing = failing; b.mu.Unlock() }

func (b *noticeBox) callCount() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.calls) }

// handed counts the notices of kind handed under each key from call
// callsFrom on.
func (b *noticeBox) handed(kind string, callsFrom int) map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]int{}
	for _, n := range b.calls[callsFrom:] {
		if n.Kind == kind {
			out[n.Key]++
		}
	}
	return out
}

// moveKeys returns the notice keys the campaign's audit log gives the
// moves of type typ, and how many queued records of queuedType name each.
func (h *harness) moveKeys(id int64, typ, queuedType string) (moves []string, recorded map[string]int) {
	h.t.Helper()
	evs, err := h.st.Events(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	recorded = map[string]int{}
	for _, ev := range evs {
		switch ev.Type {
		case typ:
			k, _ := ev.Detail["notice"].(string)
			if k == "" {
				h.t.Fatalf("a %s entry without its notice key: %+v", typ, ev)
			}
			if !slices.Contains(moves, k) {
				moves = append(moves, k)
			}
		case queuedType:
			k, _ := ev.Detail["key"].(string)
			recorded[k]++
		}
	}
	slices.Sort(moves)
	return moves, recorded
}

// toStage2Escalation launches baseDef and brings it to the first
// escalation's instant in stage 2.
func toStage2Escalation(h *harness) *campaign.Campaign {
	h.t.Helper()
	c := h.launch(baseDef)
	h.clock.Advance(7 * day)
	h.tick()
	if h.state(c.ID) != campaign.StateStage2 {
		h.t.Fatal("stage 1's deadline did not start stage 2")
	}
	h.clock.Advance(2*day + time.Minute)
	return c
}

// TestEscalationNoticeResumed: escalation notices the notifier refused
// are queued by a later tick of the leader once the lease has passed,
// exactly once each, under the key the first try carried, and recorded
// once; later ticks leave them.
func TestEscalationNoticeResumed(t *testing.T) {
	h := newHarness(t, org())
	box := newNoticeBox()
	h.eng.Notifier = box
	c := toStage2Escalation(h)
	box.set(true)
	h.tick()
	if r := h.cases(c.ID)["dev1/AWS"]; r.ReviewerID != "vp" {
		t.Fatalf("dev1/AWS not escalated: reviewer %q", r.ReviewerID)
	}
	moves, recorded := h.moveKeys(c.ID, campaign.EscalatedType, campaign.EscalationQueuedType)
	if len(moves) < 2 || len(recorded) != 0 {
		t.Fatalf("after the refused notices: moves %v, records %v; want 2 or more moves and no record", moves, recorded)
	}
	tried := box.handed(campaign.NoteEscalated, 0)
	if len(tried) != len(moves) {
		t.Fatalf("notices tried %v, want one per move %v", tried, moves)
	}

	box.set(false)
	calls := box.callCount()
	h.tick() // within the lease: the escalating process may still be telling
	if n := box.callCount() - calls; n != 0 {
		t.Fatalf("the tick handed %d notices again within the lease", n)
	}
	h.clock.Advance(3 * time.Minute)
	h.tick()
	got := box.handed(campaign.NoteEscalated, calls)
	if !maps1(got, moves) {
		t.Errorf("after the lease handed %v, want each of %v once", got, moves)
	}
	for k := range tried {
		if got[k] != 1 {
			t.Errorf("the first try's key %s is not the resume's (resumed %v)", k, got)
		}
	}
	if _, recorded = h.moveKeys(c.ID, campaign.EscalatedType, campaign.EscalationQueuedType); !maps1(recorded, moves) {
		t.Errorf("queued records %v, want one for each of %v", recorded, moves)
	}
	// mgr's two members went to vp in one move, under one key.
	vp := box.queued[escalationKeyOf(h, c.ID, "vp")]
	if vp.To != "vp" || !slices.Equal(vp.Members, []string{"dev1", "dev2"}) || vp.Text != "reviews escalated to you: mgr did not answer in time" {
		t.Errorf("vp's notice = %+v, want dev1 and dev2 from mgr", vp)
	}

	calls = box.callCount()
	h.tick()
	h.clock.Advance(3 * time.Minute)
	h.tick()
	if n := box.callCount() - calls; n != 0 {
		t.Errorf("recorded notices handed again: %d", n)
	}
	if _, recorded = h.moveKeys(c.ID, campaign.EscalatedType, campaign.EscalationQueuedType); !maps1(recorded, moves) {
		t.Errorf("queued records after more ticks %v", recorded)
	}
}

// TestEscalationNoticeAfterKill: the process is killed right after the
// notifier queued the first escalation's notice, before its record. The
// leader's tick hands it again after the lease under the same key (the
// outbox keeps one message) and records it once; the escalations the
// dead tick never reached are made and told by the next one.
func TestEscalationNoticeAfterKill(t *testing.T) {
	h := newHarness(t, org())
	box := newNoticeBox()
	h.eng.Notifier = box
	c := toStage2Escalation(h)
	ctx, kill := context.WithCancel(h.ctx)
	defer kill()
	box.kill = kill
	_ = h.eng.Tick(ctx) // a killed process's tick ends in its context's error
	first, recorded := h.moveKeys(c.ID, campaign.EscalatedType, campaign.EscalationQueuedType)
	if len(first) != 1 || len(recorded) != 0 || len(box.queued) != 1 {
		t.Fatalf("the killed tick: moves %v, records %v, queued %d; want one move, queued, unrecorded", first, recorded, len(box.queued))
	}
	key := first[0]

	calls := box.callCount()
	h.tick() // the next leader: escalates the rest, leaves the killed one's notice to its lease
	if got := box.handed(campaign.NoteEscalated, calls); got[key] != 0 {
		t.Fatalf("the killed tick's notice handed again within the lease: %v", got)
	}
	h.clock.Advance(3 * time.Minute)
	h.tick()
	h.tick()
	if got := box.handed(campaign.NoteEscalated, 0); got[key] != 2 {
		t.Errorf("the killed tick's notice handed %d times in all, want 2 (the kill's, the resume's) under %s", got[key], key)
	}
	moves, recorded := h.moveKeys(c.ID, campaign.EscalatedType, campaign.EscalationQueuedType)
	if len(moves) < 2 || !maps1(recorded, moves) || len(box.queued) != len(moves) {
		t.Errorf("moves %v, records %v, outbox %d; want one record and one message each", moves, recorded, len(box.queued))
	}
}

// escalationKeyOf is the key of the move that took the mgr's members to
// to: the lowest case id of mgr's cases now reviewed by to, at level 1.
func escalationKeyOf(h *harness, id int64, to string) string {
	h.t.Helper()
	var first int64
	for _, cs := range h.cases(id) {
		if cs.ReviewerID == to && (cs.UserID == "dev1" || cs.UserID == "dev2") && (first == 0 || cs.ID < first) {
			first = cs.ID
		}
	}
	return campaign.EscalationKey(id, to, first, 1)
}

// maps1 reports whether recorded names each key once and nothing else.
func maps1(recorded map[string]int, keys []string) bool {
	if len(recorded) != len(keys) {
		return false
	}
	for _, k := range keys {
		if recorded[k] != 1 {
			return false
		}
	}
	return true
}

// TestEscalationNoticeDeliveredOnce: a notice the notifier took at once is
// recorded with its key and never handed again by later ticks.
func TestEscalationNoticeDeliveredOnce(t *testing.T) {
	h := newHarness(t, org())
	box := newNoticeBox()
	h.eng.Notifier = box
	c := h.launch(baseDef)
	h.clock.Advance(7 * day)
	h.tick()
	h.clock.Advance(2*day + time.Minute)
	h.tick()
	moves, recorded := h.moveKeys(c.ID, campaign.EscalatedType, campaign.EscalationQueuedType)
	if len(moves) == 0 || !maps1(recorded, moves) {
		t.Fatalf("moves %v, queued records %v; want one record per move", moves, recorded)
	}
	calls := box.callCount()
	for i := 0; i < 3; i++ {
		h.clock.Advance(3 * time.Minute)
		h.tick()
	}
	if n := box.callCount() - calls; n != 0 {
		t.Errorf("delivered escalation notices handed again %d times", n)
	}
}

// plainStore hides the store's indexed audit reads, so the engine reads
// a campaign's whole log as a store without them would make it.
type plainStore struct{ campaign.Store }

// TestDelegationNoticeResumed: a delegation whose notice the notifier
// refused is told by the tick after the lease, once, under the key the
// delegation recorded (campaign.DelegationKey of its first case and
// instant); a delegation told at once is not told again. With the
// indexed read and without it.
func TestDelegationNoticeResumed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plain bool
	}{{"indexed read", false}, {"whole log read", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, org())
			if tc.plain {
				h.eng.Store = plainStore{h.st}
			}
			box := newNoticeBox()
			h.eng.Notifier = box
			c := h.launch(withStages("stages: {self_attestation: {enabled: false}}"))
			at := h.clock.Now()
			box.set(true)
			if _, err := h.eng.Delegate(h.ctx, campaign.DelegateRequest{CampaignID: c.ID, Actor: as("mgr@x.com"),
				Member: "dev1@x.com", To: "peer@x.com"}); err != nil {
				t.Fatalf("a delegation whose notice failed: %v", err)
			}
			var first int64
			for _, cs := range h.cases(c.ID) {
				if cs.UserID == "dev1" && (first == 0 || cs.ID < first) {
					first = cs.ID
				}
			}
			key := campaign.DelegationKey(c.ID, "peer", first, at)
			moves, recorded := h.moveKeys(c.ID, campaign.DelegatedType, campaign.DelegationQueuedType)
			if !slices.Equal(moves, []string{key}) || len(recorded) != 0 {
				t.Fatalf("after the failed notice: moves %v, records %v; want [%s] and none", moves, recorded, key)
			}

			box.set(false)
			calls := box.callCount()
			h.tick()
			if n := box.callCount() - calls; n != 0 {
				t.Fatalf("the tick handed %d notices again within the lease", n)
			}
			h.clock.Advance(3 * time.Minute)
			h.tick()
			h.tick()
			if got := box.handed(campaign.NoteDelegated, calls); len(got) != 1 || got[key] != 1 {
				t.Fatalf("after the lease handed %v, want %s once", got, key)
			}
			n := box.queued[key]
			if n.To != "peer" || !slices.Equal(n.Members, []string{"dev1"}) || n.Open != 4 || n.Text != "mgr@x.com delegated a review to you" {
				t.Errorf("resumed notice = %+v", n)
			}
			if _, recorded = h.moveKeys(c.ID, campaign.DelegatedType, campaign.DelegationQueuedType); !maps1(recorded, moves) {
				t.Errorf("queued records %v, want %s once", recorded, key)
			}

			// A delegation told at once is recorded and left by later ticks.
			h.clock.Advance(time.Minute)
			if _, err := h.eng.Delegate(h.ctx, campaign.DelegateRequest{CampaignID: c.ID, Actor: as("mgr@x.com"),
				Member: "dev2@x.com", To: "peer@x.com"}); err != nil {
				t.Fatal(err)
			}
			moves, recorded = h.moveKeys(c.ID, campaign.DelegatedType, campaign.DelegationQueuedType)
			if len(moves) != 2 || !maps1(recorded, moves) {
				t.Fatalf("after a delegation told at once: moves %v, records %v", moves, recorded)
			}
			calls = box.callCount()
			for i := 0; i < 2; i++ {
				h.clock.Advance(3 * time.Minute)
				h.tick()
			}
			if n := box.callCount() - calls; n != 0 {
				t.Errorf("told delegations handed again %d times", n)
			}
		})
	}
}

// readCounter is the real store's indexed audit read, counting where
// each call starts and how many entries it returns.
type readCounter struct {
	campaign.Store
	reader campaign.EventReader
	mu     sync.Mutex
	after  []int64
	read   []int
}

func (r *readCounter) EventsAfter(ctx context.Context, id, after int64, types ...string) ([]campaign.Event, int64, error) {
	evs, through, err := r.reader.EventsAfter(ctx, id, after, types...)
	r.mu.Lock()
	r.after, r.read = append(r.after, after), append(r.read, len(evs))
	r.mu.Unlock()
	return evs, through, err
}

// last returns where the latest read started and what it returned.
func (r *readCounter) last() (int64, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.after[len(r.after)-1], r.read[len(r.read)-1]
}

// lastEntry is the id of the newest entry of the campaign's audit log.
func (h *harness) lastEntry(id int64) int64 {
	h.t.Helper()
	evs, err := h.st.Events(h.ctx, id)
	if err != nil || len(evs) == 0 {
		h.t.Fatalf("events of campaign %d: %d, %v", id, len(evs), err)
	}
	return evs[len(evs)-1].ID
}

// TestNoticeResumeReadsOnlyNewEntries: a campaign without moves is read
// from the log's head on after one tick; once every notice is settled,
// the tick reads none of its entries again; while one is pending within
// its lease it reads from that one on.
func TestNoticeResumeReadsOnlyNewEntries(t *testing.T) {
	h := newHarness(t, org())
	rc := &readCounter{Store: h.st, reader: h.st}
	h.eng.Store = rc
	box := newNoticeBox()
	h.eng.Notifier = box
	c := h.launch(withStages("stages: {self_attestation: {enabled: false}}"))
	head := h.lastEntry(c.ID)
	h.tick()
	h.tick()
	if after, n := rc.last(); after < head || n != 0 {
		t.Fatalf("a campaign without moves read again from %d (%d entries), want from %d on", after, n, head)
	}

	box.set(true)
	if _, err := h.eng.Delegate(h.ctx, campaign.DelegateRequest{CampaignID: c.ID, Actor: as("mgr@x.com"),
		Member: "dev1@x.com", To: "peer@x.com"}); err != nil {
		t.Fatal(err)
	}
	h.tick()
	h.tick()
	if _, n := rc.last(); n != 1 {
		t.Fatalf("a pending delegation within its lease: the tick read %d entries, want its 1", n)
	}
	box.set(false)
	h.clock.Advance(3 * time.Minute)
	h.tick() // tells it and records it
	h.tick()
	if _, n := rc.last(); n != 1 {
		t.Fatalf("after the notice was told, the tick read %d entries, want the 1 record after the move", n)
	}
	h.tick()
	if _, n := rc.last(); n != 0 {
		t.Errorf("a settled campaign's entries read again: %d", n)
	}
}
