package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// An app owner's decision is saved in the case's owner columns while the
// campaign is in stage 3, read back as written, and refused (nothing
// saved, no event) once a close has begun; stage3_started round-trips.
func TestOwnerDecisionStage3Fence(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := sampleCases()
	c := createCampaign(t, st, snap, cases)

	into3 := *c
	into3.State, into3.Stage3Started = campaign.StateStage3, t0.Add(3*time.Hour)
	if err := st.MoveCampaign(ctx, &into3, campaign.StateStage1, campaign.Event{Type: "campaign.stage_changed", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	got3, err := st.GetCampaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got3.State != campaign.StateStage3 || !got3.Stage3Started.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("campaign = %s, stage 3 started %v; want stage3 at %v", got3.State, got3.Stage3Started, t0.Add(3*time.Hour))
	}

	decided := cases[0]
	decided.OwnerDecision, decided.OwnerComment, decided.OwnerAt = campaign.DecisionRevoke, "not needed", t0.Add(4*time.Hour)
	decided.OwnerDecidedBy, decided.OwnerDecidedByID = "carol@x.com (slack)", "00u5"
	err = st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &decided, ExpectReviewer: decided.ReviewerID, ExpectState: campaign.StateStage3}},
		[]campaign.Event{{CampaignID: c.ID, CaseID: decided.ID, Type: "case.answered", Actor: campaign.System}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{ID: decided.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], decided) {
		t.Fatalf("case after the owner's decision:\n got  %+v\n want %+v", got, decided)
	}

	closing := into3
	closing.State = campaign.StateClosing
	if err := st.MoveCampaign(ctx, &closing, campaign.StateStage3, campaign.Event{Type: "campaign.closing", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	late := cases[2]
	late.OwnerDecision, late.OwnerDecidedBy, late.OwnerDecidedByID = campaign.DecisionKeep, "carol@x.com (slack)", "00u5"
	events, err := st.Events(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &late, ExpectReviewer: late.ReviewerID, ExpectState: campaign.StateStage3}},
		[]campaign.Event{{CampaignID: c.ID, CaseID: late.ID, Type: "case.answered", Actor: campaign.System}})
	if !errors.Is(err, campaign.ErrStageEnded) {
		t.Fatalf("decision after the close began: err = %v, want ErrStageEnded", err)
	}
	got, err = st.Cases(ctx, c.ID, campaign.CaseQuery{ID: late.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].OwnerDecision != "" || got[0].OwnerDecidedByID != "" {
		t.Fatalf("a refused decision was saved: %+v", got)
	}
	if after, err := st.Events(ctx, c.ID); err != nil || len(after) != len(events) {
		t.Fatalf("events after a refused decision: %d, %v; want %d", len(after), err, len(events))
	}
}

// A case created with an owner decision (an import) keeps it.
func TestOwnerDecisionOnInsert(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	cases := sampleCases()
	cases[0].OwnerDecision, cases[0].OwnerAt, cases[0].OwnerDecidedByID = campaign.DecisionKeep, t0.Add(time.Minute), "00u5"
	c := createCampaign(t, st, snap, cases)
	got, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cases) {
		t.Fatalf("cases:\n got  %+v\n want %+v", got, cases)
	}
}
