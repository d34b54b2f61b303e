package store

import (
	"context"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// TestHasEvent: an event type is found for its own campaign only, and an
// absent type is not found.
func TestHasEvent(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for _, ev := range []campaign.Event{{CampaignID: 1, Type: "forms.queued.stage1"}, {CampaignID: 2, Type: "campaign.launched"}} {
		if err := s.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		id   int64
		typ  string
		want bool
	}{
		{"recorded", 1, "forms.queued.stage1", true},
		{"other stage", 1, "forms.queued.stage2", false},
		{"other campaign", 2, "forms.queued.stage1", false},
		{"other campaign's type", 2, "campaign.launched", true},
	} {
		got, err := s.HasEvent(ctx, tc.id, tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: HasEvent(%d, %q) = %v, want %v", tc.name, tc.id, tc.typ, got, tc.want)
		}
	}
}

// TestReminderMarked: a marker is read back for its person and slot only,
// and reading writes none.
func TestReminderMarked(t *testing.T) {
	ctx := context.Background()
	s, snap := openCampaignStore(t)
	id := createCampaign(t, s, snap, sampleCases()).ID
	slot := time.Date(2026, 11, 6, 9, 0, 0, 0, time.UTC)
	if ok, err := s.ReminderMarked(ctx, id, "*", slot); err != nil || ok {
		t.Fatalf("before any mark: %v, %v", ok, err)
	}
	if first, err := s.MarkReminder(ctx, id, "*", slot, campaign.Event{Type: "reminder.slot"}); err != nil || !first {
		t.Fatalf("mark: %v, %v", first, err)
	}
	for _, tc := range []struct {
		name   string
		person string
		slot   time.Time
		want   bool
	}{
		{"marked", "*", slot, true},
		{"other person", "*done", slot, false},
		{"other slot", "*", slot.Add(time.Hour), false},
	} {
		got, err := s.ReminderMarked(ctx, id, tc.person, tc.slot)
		if err != nil || got != tc.want {
			t.Errorf("%s: ReminderMarked = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if first, err := s.MarkReminder(ctx, id, "*done", slot, campaign.Event{Type: "reminder.slot_done"}); err != nil || !first {
		t.Errorf("reading a marker wrote one: mark *done = %v, %v", first, err)
	}
}
