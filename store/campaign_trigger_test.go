package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

var _ campaign.TriggerLookup = (*Store)(nil)

// CampaignByTrigger finds the newest campaign of a trigger through the
// index, and says ErrNotFound for a trigger nothing launched.
func TestCampaignByTrigger(t *testing.T) {
	sqliteOnly(t, "SQLite query plans")
	ctx := context.Background()
	st := openTemp(t)
	snapID, err := st.SaveSnapshot(ctx, sampleSnapshot(), campaign.SyncCounts{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, trig := range []string{"event:a", "event:b", "event:a"} {
		c := &campaign.Campaign{Name: trig, Owner: "okta-event", DefinitionYAML: "name: x\n", SnapshotID: snapID,
			State: campaign.StateStage2, Trigger: trig}
		id, err := st.CreateCampaign(ctx, c, nil, campaign.Event{Type: "campaign.launched"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	tests := []struct {
		trigger string
		want    int64
		err     error
	}{
		{"event:a", ids[2], nil},
		{"event:b", ids[1], nil},
		{"event:c", 0, campaign.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.trigger, func(t *testing.T) {
			c, err := st.CampaignByTrigger(ctx, tc.trigger)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err = %v; want %v", err, tc.err)
			}
			if err == nil && (c.ID != tc.want || c.Trigger != tc.trigger || c.Definition == nil) {
				t.Fatalf("campaign = %+v; want id %d", c, tc.want)
			}
		})
	}
	var plan strings.Builder
	rows, err := st.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM campaigns WHERE trigger = ? ORDER BY id DESC LIMIT 1`, "event:a")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "\n")
	}
	if !strings.Contains(plan.String(), "campaigns_trigger") {
		t.Fatalf("the lookup does not use the trigger index:\n%s", plan.String())
	}
}
