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

// TestReminderSlotResumes: a reminder slot whose sending stopped after k
// people (the process died) is finished by the next tick: every person
// with open work is reminded once for the slot, each under the same key
// on every try, recorded once each, and the finished slot is not redone.
func TestReminderSlotResumes(t *testing.T) {
	// keys runs the slot with a notifier that takes `fail` reminders and
	// refuses the rest (<0: takes all), then ticks a minute later with
	// every reminder taken, and returns the keys queued, the reminders
	// recorded, and a check that a third tick sends nothing.
	run := func(fail int) (keys []string, recorded int, redone int) {
		h := newHarness(t, org())
		c := h.launch(baseDef)
		var mu sync.Mutex
		queued := map[string]bool{} // the outbox's one message per key
		calls := 0
		h.eng.Notifier = campaign.NotifierFunc(func(_ context.Context, n campaign.Notification) error {
			if n.Kind != campaign.NoteReminder {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			calls++
			if fail >= 0 && len(queued) >= fail {
				return errors.New("killed")
			}
			if n.Key == "" {
				return errors.New("a reminder without a key")
			}
			queued[n.Key] = true
			return nil
		})
		h.clock.Advance(4*day + time.Hour)
		h.tick()
		if fail >= 0 && (len(queued) != fail || h.reminderEvents(c.ID) != fail) {
			t.Fatalf("before the crash: %d queued, %d recorded; want %d", len(queued), h.reminderEvents(c.ID), fail)
		}
		mu.Lock()
		fail = -1
		mu.Unlock()
		h.clock.Advance(time.Minute)
		h.tick()
		mu.Lock()
		before := calls
		mu.Unlock()
		h.clock.Advance(time.Minute)
		h.tick()
		for k := range queued {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys, h.reminderEvents(c.ID), calls - before
	}
	want, wantRecorded, _ := run(-1)
	if len(want) < 3 || wantRecorded != len(want) {
		t.Fatalf("the fixture's slot: %d reminders, %d recorded", len(want), wantRecorded)
	}
	got, recorded, redone := run(2)
	if !slices.Equal(got, want) {
		t.Errorf("after the resume, reminders keyed %v, want %v", got, want)
	}
	if recorded != len(want) {
		t.Errorf("%d reminders recorded, want %d (one per person)", recorded, len(want))
	}
	if redone != 0 {
		t.Errorf("a finished slot was redone: %d more reminders", redone)
	}
}
