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

// outbox stands for the notifier's durable outbox as the Notifier
// contract describes it: one message per key, so a notification retried
// under its key is not queued twice. After `after` queued forms it fails
// every further one (the process died, or Slack's store went away), or,
// with cancel set, cancels the caller's context instead.
type outbox struct {
	mu     sync.Mutex
	queued map[string]campaign.Notification // by key
	calls  []campaign.Notification          // every form notification seen
	after  int                              // <0: never fail
	cancel context.CancelFunc
}

var errDied = errors.New("notifier died")

func newOutbox(after int) *outbox {
	return &outbox{queued: map[string]campaign.Notification{}, after: after}
}

func isForm(kind string) bool {
	return kind == campaign.NoteMemberForm || kind == campaign.NoteReviewerForm || kind == campaign.NoteOwnerForm
}

func (o *outbox) Notify(ctx context.Context, n campaign.Notification) error {
	if !isForm(n.Kind) {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, n)
	if o.after >= 0 && len(o.queued) >= o.after {
		if o.cancel != nil {
			o.cancel()
			return ctx.Err()
		}
		return errDied
	}
	if n.Key == "" {
		return errors.New("a stage form without a key cannot be queued once")
	}
	if _, ok := o.queued[n.Key]; !ok {
		o.queued[n.Key] = n
	}
	return nil
}

// recipients returns who holds a queued form of kind, sorted, each once
// per key (so someone queued under two keys shows twice).
func (o *outbox) recipients(kind string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, n := range o.queued {
		if n.Kind == kind {
			out = append(out, n.To)
		}
	}
	slices.Sort(out)
	return out
}

func (o *outbox) callCount() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.calls) }

// formsQueued counts the campaign's audit entries recording that a
// stage's forms were all queued.
func (h *harness) formsQueued(id int64, stage campaign.State) int {
	h.t.Helper()
	evs, err := h.st.Events(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == campaign.FormsQueuedType(stage) {
			n++
		}
	}
	return n
}

// people is who a stage's forms go to when nothing fails.
func stagePeople(t *testing.T, def string, stage campaign.State, kind string, reach func(h *harness, c *campaign.Campaign)) []string {
	t.Helper()
	h := newHarness(t, org())
	ob := newOutbox(-1)
	h.eng.Notifier = ob
	c := h.launch(def)
	reach(h, c)
	if h.formsQueued(c.ID, stage) != 1 {
		t.Fatalf("a whole %s fan-out recorded %d times, want 1", stage, h.formsQueued(c.ID, stage))
	}
	return ob.recipients(kind)
}

// TestFanOutResumesAfterCrash: a stage's fan-out that stops after k of n
// people (the notifier fails, or the context is cancelled) records
// nothing; the leader's tick leaves it to its process for fanOutLease,
// then queues exactly the missing forms, none twice, and records the
// fan-out once; a completed fan-out is never redone.
func TestFanOutResumesAfterCrash(t *testing.T) {
	noop := func(*harness, *campaign.Campaign) {}
	toStage3 := func(h *harness, c *campaign.Campaign) {
		for _, k := range [][2]string{{"dev1", "GitHub"}, {"dev1", "Jira"}, {"dev2", "GitHub"}, {"dev2", "Jira"}} {
			h.answer(c.ID, "mgr@x.com", k[0], k[1], "keep")
		}
		h.answer(c.ID, "iam@x.com", "ops", "GitHub", "keep")
		h.clock.Advance(7*day + time.Minute)
		h.tick()
		if s := h.state(c.ID); s != campaign.StateStage3 {
			h.t.Fatalf("state = %s, want stage3", s)
		}
	}
	stage2Def := "name: Managers\nowner: iam@x.com\nstages: {self_attestation: {enabled: false}, manager: {duration: 7d}}\n"
	for _, tc := range []struct {
		name   string
		def    string
		stage  campaign.State
		kind   string
		reach  func(h *harness, c *campaign.Campaign)
		k      int
		cancel bool
	}{
		{"stage 1 notifier fails", baseDef, campaign.StateStage1, campaign.NoteMemberForm, noop, 3, false},
		{"stage 1 context cancelled", baseDef, campaign.StateStage1, campaign.NoteMemberForm, noop, 2, true},
		{"stage 1 nothing queued", baseDef, campaign.StateStage1, campaign.NoteMemberForm, noop, 0, false},
		{"stage 2 notifier fails", stage2Def, campaign.StateStage2, campaign.NoteReviewerForm, noop, 1, false},
		{"stage 2 context cancelled", stage2Def, campaign.StateStage2, campaign.NoteReviewerForm, noop, 2, true},
		{"stage 3 notifier fails", ownersDef, campaign.StateStage3, campaign.NoteOwnerForm, toStage3, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := stagePeople(t, tc.def, tc.stage, tc.kind, tc.reach)
			if len(want) <= tc.k {
				t.Fatalf("the fixture has %d recipients of %s, need more than %d", len(want), tc.kind, tc.k)
			}

			h := newHarness(t, org())
			ob := newOutbox(-1)
			h.eng.Notifier = ob
			def, err := campaign.ParseDefinition("test.yaml", []byte(tc.def))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(h.ctx)
			defer cancel()
			if tc.stage != campaign.StateStage3 {
				ob.after = tc.k
				if tc.cancel {
					ob.cancel = cancel
				}
			}
			c, err := h.eng.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: tc.def, Owner: as("iam@x.com"), Trigger: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.stage == campaign.StateStage3 {
				ob.after = len(ob.queued) + tc.k
				tc.reach(h, c)
			}
			if got := len(ob.recipients(tc.kind)); got != tc.k {
				t.Fatalf("forms queued before the crash: %d, want %d", got, tc.k)
			}
			if n := h.formsQueued(c.ID, tc.stage); n != 0 {
				t.Fatalf("a fan-out cut short after %d of %d recorded as done (%d entries)", tc.k, len(want), n)
			}
			if s := h.state(c.ID); s != tc.stage {
				t.Fatalf("state = %s, want %s", s, tc.stage)
			}

			// The process is gone; a leader ticks. Within the lease the
			// fan-out is still its starter's.
			ob.after, ob.cancel = -1, nil
			calls := ob.callCount()
			h.tick()
			if ob.callCount() != calls {
				t.Fatalf("the tick resumed a fan-out inside its lease: %d more forms", ob.callCount()-calls)
			}
			h.clock.Advance(3 * time.Minute)
			h.tick()
			if got := ob.recipients(tc.kind); !slices.Equal(got, want) {
				t.Fatalf("after the resume, forms queued for %v, want each of %v once", got, want)
			}
			if n := h.formsQueued(c.ID, tc.stage); n != 1 {
				t.Fatalf("resumed fan-out recorded %d times, want 1", n)
			}
			// Every retry carried the same key per person.
			keys := map[string]map[string]bool{}
			for _, n := range ob.calls {
				if n.Kind != tc.kind {
					continue
				}
				if keys[n.To] == nil {
					keys[n.To] = map[string]bool{}
				}
				keys[n.To][n.Key] = true
				if n.Key != campaign.FormKey(c.ID, tc.stage, n.To) {
					t.Errorf("form to %q keyed %q, want %q", n.To, n.Key, campaign.FormKey(c.ID, tc.stage, n.To))
				}
			}
			for to, ks := range keys {
				if len(ks) != 1 {
					t.Errorf("%q's form went out under %d keys", to, len(ks))
				}
			}

			// Done is done: later ticks queue no form of the stage again.
			calls = ob.callCount()
			h.clock.Advance(time.Hour)
			h.tick()
			for _, n := range ob.calls[calls:] {
				if n.Kind == tc.kind {
					t.Fatalf("a recorded fan-out was redone: %+v", n)
				}
			}
			if n := h.formsQueued(c.ID, tc.stage); n != 1 {
				t.Fatalf("fan-out recorded %d times after more ticks, want 1", n)
			}
		})
	}
}

// TestFanOutCompleteIsNotRedone: a launch whose forms all went out is
// recorded once with its count, and the tick never sends them again.
func TestFanOutCompleteIsNotRedone(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(baseDef)
	evs, err := h.st.Events(h.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rec *campaign.Event
	for i := range evs {
		if evs[i].Type == campaign.FormsQueuedType(campaign.StateStage1) {
			rec = &evs[i]
		}
	}
	members := 0
	for _, n := range h.notes {
		if n.Kind == campaign.NoteMemberForm {
			members++
		}
	}
	if rec == nil || members == 0 {
		t.Fatalf("launch: %d member forms, record %+v", members, rec)
	}
	if got, _ := rec.Detail["people"].(float64); int(got) != members {
		t.Errorf("record counts %v people, %d forms went out", rec.Detail["people"], members)
	}
	h.clock.Advance(10 * time.Minute)
	h.tick()
	if got := h.notesTo("dev1", campaign.NoteMemberForm); got != 1 {
		t.Errorf("dev1 got %d member forms after a tick, want 1", got)
	}
}
