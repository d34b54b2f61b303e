package campaign_test

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/store"
)

// The sweep's findings match the synthetic org's stale and orphaned
// accounts exactly, computed here from the raw org data.
func TestSweepMatchesSyntheticOrg(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 9, Users: 600, Apps: 30, Groups: 50})
	snap := org.Snapshot()
	findings := campaign.Sweep(campaign.NewIndex(snap), org.Now, campaign.SweepOptions{})
	got := map[string][]string{}
	for _, f := range findings {
		got[f.Kind] = append(got[f.Kind], f.UserID+f.AppID)
	}
	holds := map[string]int{}
	for _, a := range org.Apps {
		for _, au := range org.AppUsers(a.ID) {
			holds[au.UserID]++
		}
	}
	cutoff := org.Now.AddDate(0, 0, -60)
	want := map[string][]string{}
	for _, u := range org.Users {
		switch {
		case (u.Status == "SUSPENDED" || u.Status == "DEPROVISIONED") && holds[u.ID] > 0:
			want[campaign.FindingOrphaned] = append(want[campaign.FindingOrphaned], u.ID)
		case u.Status == "ACTIVE" && holds[u.ID] > 0 && (u.LastLogin.IsZero() && u.Created.Before(cutoff) || !u.LastLogin.IsZero() && u.LastLogin.Before(cutoff)):
			want[campaign.FindingStaleUser] = append(want[campaign.FindingStaleUser], u.ID)
		}
	}
	for _, kind := range []string{campaign.FindingOrphaned, campaign.FindingStaleUser} {
		sort.Strings(want[kind])
		sort.Strings(got[kind])
		if len(want[kind]) == 0 || len(got[kind]) != len(want[kind]) {
			t.Fatalf("%s: got %d, want %d", kind, len(got[kind]), len(want[kind]))
		}
		for i := range want[kind] {
			if got[kind][i] != want[kind][i] {
				t.Fatalf("%s differs at %d: got %s, want %s", kind, i, got[kind][i], want[kind][i])
			}
		}
	}
	if len(got[campaign.FindingNoManager]) == 0 {
		t.Error("the org has users without a manager; the sweep found none")
	}
	// "Start review of these" launches a campaign over exactly those cases.
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.SaveSnapshot(context.Background(), snap, campaign.Count(snap)); err != nil {
		t.Fatal(err)
	}
	orphans := []campaign.Finding{}
	for _, f := range findings {
		if f.Kind == campaign.FindingOrphaned {
			orphans = append(orphans, f)
		}
	}
	covered := campaign.Covered(orphans)
	eng := &campaign.Engine{Store: st, Now: func() time.Time { return org.Now }}
	c, err := eng.LaunchSweep(context.Background(), covered, campaign.Actor{Email: org.Users[0].Email}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := st.Cases(context.Background(), c.ID, campaign.CaseQuery{})
	if len(cases) != len(covered) {
		t.Fatalf("sweep review has %d cases, want exactly the %d found", len(cases), len(covered))
	}
	for _, cs := range cases {
		if !covered[campaign.EntitlementKey{UserID: cs.UserID, Kind: cs.Kind, EntitlementID: cs.EntitlementID}] {
			t.Fatalf("case outside the findings: %+v", cs)
		}
	}
}
