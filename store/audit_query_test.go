package store

import (
	"context"
	"testing"

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
