package store

import (
	"context"
	"slices"
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

// TestEventsAfter: only the campaign's events of the asked types above
// the id come back, in order, with their details.
func TestEventsAfter(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for _, ev := range []campaign.Event{
		{CampaignID: 1, Type: "case.escalated", Detail: map[string]any{"notice": "k1"}},
		{CampaignID: 2, Type: "case.escalated", Detail: map[string]any{"notice": "other"}},
		{CampaignID: 1, Type: "case.answered"},
		{CampaignID: 1, Type: "escalation.queued", Detail: map[string]any{"key": "k1"}},
		{CampaignID: 1, Type: "review.delegated", Detail: map[string]any{"notice": "k2"}},
	} {
		if err := s.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	types := []string{"case.escalated", "escalation.queued", "review.delegated"}
	all, through, err := s.EventsAfter(ctx, 1, 0, types...)
	if err != nil {
		t.Fatal(err)
	}
	if through != 5 {
		t.Errorf("read through %d, want the log's last entry 5", through)
	}
	var got []string
	for _, ev := range all {
		got = append(got, ev.Type)
	}
	if want := []string{"case.escalated", "escalation.queued", "review.delegated"}; !slices.Equal(got, want) {
		t.Fatalf("EventsAfter(1, 0) = %v, want %v", got, want)
	}
	if k, _ := all[1].Detail["key"].(string); k != "k1" || all[1].ID <= all[0].ID {
		t.Errorf("queued entry %+v after %d", all[1], all[0].ID)
	}
	rest, _, err := s.EventsAfter(ctx, 1, all[0].ID, "case.escalated", "review.delegated")
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0].Type != "review.delegated" || rest[0].ID != all[2].ID {
		t.Errorf("EventsAfter(1, %d) = %+v, want the delegation only", all[0].ID, rest)
	}
	if none, through, err := s.EventsAfter(ctx, 1, all[2].ID, types...); err != nil || len(none) != 0 || through != 5 {
		t.Errorf("after the last: %+v through %d, %v", none, through, err)
	}
	// An entry committed after a read is above the id it went up to.
	if err := s.AppendEvent(ctx, campaign.Event{CampaignID: 1, Type: "case.escalated", Detail: map[string]any{"notice": "k3"}}); err != nil {
		t.Fatal(err)
	}
	if next, through, err := s.EventsAfter(ctx, 1, 5, types...); err != nil || len(next) != 1 || next[0].ID != 6 || through != 6 {
		t.Errorf("after the read: %+v through %d, %v; want entry 6", next, through, err)
	}
}
