package campaign_test

import (
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// TestReminderSlotNeverAtTheStart: a review whose length equals a
// "before" offset (an event review: 3 days, reminded 3 days ahead) is not
// reminded the moment it is created, and is at the next offset.
func TestReminderSlotNeverAtTheStart(t *testing.T) {
	r := campaign.Reminders{Before: []campaign.Period{campaign.Period(3 * day), campaign.Period(day)}, OverdueEvery: campaign.Period(day)}
	start := t0
	deadline := start.Add(3 * day)
	tests := []struct {
		name string
		now  time.Time
		want time.Time
		ok   bool
	}{
		{"at creation", start, time.Time{}, false},
		{"an hour in", start.Add(time.Hour), time.Time{}, false},
		{"one day before the deadline", deadline.Add(-day), deadline.Add(-day), true},
		{"a day overdue", deadline.Add(day), deadline.Add(day), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slot, ok := campaign.ReminderSlot(r, start, deadline, tc.now)
			if ok != tc.ok || !slot.Equal(tc.want) {
				t.Errorf("ReminderSlot at %s = %s, %v; want %s, %v", tc.now, slot, ok, tc.want, tc.ok)
			}
		})
	}
}
