package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

func TestRiskBindingsRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	snap := &campaign.Snapshot{OrgURL: "https://x.okta.com",
		Apps:   []campaign.App{{ID: "0oa1", Label: "Payroll", Status: "ACTIVE"}},
		Groups: []campaign.Group{{ID: "00g1", Name: "aws-admins"}}}
	id, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap))
	if err != nil {
		t.Fatal(err)
	}
	targets, err := st.RiskTargets(ctx, id)
	want := []campaign.RiskTarget{{Kind: "app", ID: "0oa1", Label: "Payroll"}, {Kind: "group", ID: "00g1", Label: "aws-admins"}}
	if err != nil || !reflect.DeepEqual(targets, want) {
		t.Fatalf("RiskTargets = %+v, %v; want %+v", targets, err, want)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	list := []campaign.RiskBinding{
		{Kind: "app", ID: "0oa1", Rule: "Payroll", Level: "critical", Label: "Payroll", BoundAt: at, SnapshotID: id},
		{Kind: "group", ID: "00g1", Rule: "*-admins", Level: "high", Label: "aws-admins", BoundAt: at, SnapshotID: id},
	}
	if err := st.ReplaceRiskBindings(ctx, id, list); err != nil {
		t.Fatal(err)
	}
	got, err := st.RiskBindings(ctx)
	if err != nil || !reflect.DeepEqual(got, list) {
		t.Fatalf("RiskBindings = %+v, %v; want %+v", got, err, list)
	}
	// Replacing replaces: the group's binding goes.
	if err := st.ReplaceRiskBindings(ctx, id, list[:1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.RiskBindings(ctx); len(got) != 1 || got[0].ID != "0oa1" {
		t.Fatalf("after replace = %+v, want only 0oa1", got)
	}
	// A sync of an older snapshot may not overwrite a newer one's bindings.
	if _, err := st.SaveSnapshot(ctx, &campaign.Snapshot{OrgURL: "https://x.okta.com"}, campaign.SyncCounts{}); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceRiskBindings(ctx, id, nil); !errors.Is(err, campaign.ErrConflict) {
		t.Fatalf("replace from an older snapshot: %v, want ErrConflict", err)
	}
	if got, _ := st.RiskBindings(ctx); len(got) != 1 {
		t.Fatalf("a refused replace changed the bindings: %+v", got)
	}
}
