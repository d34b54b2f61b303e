package campaign_test

import (
	"context"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// snapStore serves one snapshot; nothing else of the Store is used.
type snapStore struct {
	campaign.Store
	snap *campaign.Snapshot
}

func (s snapStore) LoadSnapshot(context.Context, int64) (*campaign.Snapshot, error) {
	return s.snap, nil
}

// When several groups exceed the share, the answer names the same one
// every time (the lowest id), not whichever a map gives first.
func TestBlastRadiusIsDeterministic(t *testing.T) {
	snap := &campaign.Snapshot{}
	var plan []campaign.PlanItem
	for _, g := range []string{"g5", "g3", "g9", "g1", "g7"} {
		snap.Memberships = append(snap.Memberships, campaign.Membership{GroupID: g, UserID: "u1"},
			campaign.Membership{GroupID: g, UserID: "u2"})
		plan = append(plan, campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: "u1", GroupID: g},
			campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: "u2", GroupID: g})
	}
	st := snapStore{snap: snap}
	for i := 0; i < 50; i++ {
		why, err := campaign.BlastRadius(context.Background(), st, &campaign.Campaign{}, plan, 0, 0.5)
		if err != nil || why != "removing 2 of the 2 members of group g1 exceeds 50%" {
			t.Fatalf("run %d: %q, %v", i, why, err)
		}
	}
}
