package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// reminderEvents counts the audit entries that claim a person was reminded.
func (h *harness) reminderEvents(id int64) int {
	h.t.Helper()
	evs, err := h.st.Events(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == "reminder.queued" || ev.Type == "reminder.sent" {
			n++
		}
	}
	return n
}

// TestReminderRecordedOnlyWhenQueued: a reminder the notifier could not
// take (no Slack: ErrNotDelivered) leaves no reminder entry in the audit
// log; one it took leaves exactly one, carrying a key per slot so a retry
// queues once.
func TestReminderRecordedOnlyWhenQueued(t *testing.T) {
	t.Run("undeliverable", func(t *testing.T) {
		h := newHarness(t, org())
		c := h.launch(baseDef)
		h.eng.Notifier = campaign.NotifierFunc(func(context.Context, campaign.Notification) error { return campaign.ErrNotDelivered })
		h.clock.Advance(4*day + time.Hour)
		h.tick()
		if n := h.reminderEvents(c.ID); n != 0 {
			t.Errorf("%d reminders recorded that nobody could receive", n)
		}
	})
	t.Run("queued", func(t *testing.T) {
		h := newHarness(t, org())
		c := h.launch(baseDef)
		h.clock.Advance(4*day + time.Hour)
		h.tick()
		sent, keys := 0, map[string]bool{}
		for _, n := range h.notes {
			if n.Kind == campaign.NoteReminder {
				sent++
				keys[n.Key] = true
			}
		}
		if sent == 0 || h.reminderEvents(c.ID) != sent {
			t.Errorf("recorded %d reminders for %d queued", h.reminderEvents(c.ID), sent)
		}
		if len(keys) != sent || keys[""] {
			t.Errorf("reminder keys %v: want one distinct key per reminder", keys)
		}
	})
}
