package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// OpenOperations counts a campaign's pending and running jobs, the same
// as counting what Operations returns, and nothing of another campaign.
func TestOpenOperations(t *testing.T) {
	ctx := context.Background()
	st, snapID := openCampaignStore(t)
	c := createCampaign(t, st, snapID, sampleCases())
	other := createCampaign(t, st, snapID, sampleCases())
	plan := make([]campaign.PlanItem, 7)
	for j := range plan {
		plan[j] = campaign.PlanItem{Seq: j + 1, Kind: campaign.OpRemoveMembership, UserID: fmt.Sprintf("00u%d", j), GroupID: "00g1"}
	}
	for _, id := range []int64{c.ID, other.ID} {
		if _, err := st.QueueOperations(ctx, id, plan); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := st.ClaimOperations(ctx, c.ID, "w1", t0, 3)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d, %v; want 3", len(claimed), err)
	}
	claimed[0].State, claimed[0].Result = campaign.OpDone, campaign.ResultRemoved
	if _, err := st.FinishOperations(ctx, []*campaign.Operation{&claimed[0]}, []campaign.Event{{At: t0, CampaignID: c.ID,
		Type: "operation.done", Actor: campaign.System}}); err != nil {
		t.Fatal(err)
	}
	ops, err := st.Operations(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, op := range ops {
		if op.State == campaign.OpPending || op.State == campaign.OpRunning {
			want++
		}
	}
	if n, err := st.OpenOperations(ctx, c.ID); err != nil || n != want || n != 6 {
		t.Fatalf("OpenOperations = %d, %v; want %d (6: 4 pending, 2 running)", n, err, want)
	}
	if n, err := st.OpenOperations(ctx, other.ID); err != nil || n != 7 {
		t.Fatalf("the other campaign: OpenOperations = %d, %v; want 7", n, err)
	}
}
