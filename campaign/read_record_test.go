package campaign_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// dirFunc is a campaign.Directory from a function.
type dirFunc func(ctx context.Context, o campaign.ReadOptions) (*campaign.Snapshot, error)

func (f dirFunc) ReadDirectory(ctx context.Context, o campaign.ReadOptions) (*campaign.Snapshot, error) {
	return f(ctx, o)
}

// A sync whose read left a page unread saves nothing: the previous
// snapshot stays the latest, and the error names the read and the fix.
// A whole read is saved with its record and the members per group
// reconciled with Okta's counts, a lagging count flagged.
func TestSyncRecordsReadAndRefusesIncompleteRead(t *testing.T) {
	h := newHarness(t, org())
	before, err := h.st.LatestSnapshot(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	failed := campaign.FailedRead{Object: campaign.ReadGroupMembers, ID: "00gX", Page: "/api/v1/groups/00gX/users?after=00u9&limit=1000", Error: "okta: 500"}
	for name, dir := range map[string]dirFunc{
		"reader error": func(context.Context, campaign.ReadOptions) (*campaign.Snapshot, error) {
			return nil, &campaign.IncompleteReadError{Failed: []campaign.FailedRead{failed}}
		},
		"partial snapshot": func(context.Context, campaign.ReadOptions) (*campaign.Snapshot, error) {
			s := org()
			s.Read = &campaign.ReadRecord{Complete: false, Failed: []campaign.FailedRead{failed}}
			return s, nil
		},
	} {
		_, err := campaign.Sync(h.ctx, dir, h.st, campaign.SyncOptions{Now: h.clock.Now})
		var inc *campaign.IncompleteReadError
		if !errors.As(err, &inc) || !strings.Contains(err.Error(), "after=00u9") || !strings.Contains(err.Error(), "re-run `attest sync`") {
			t.Fatalf("%s: err = %v, want an incomplete read naming the page and the fix", name, err)
		}
		if now, _ := h.st.LatestSnapshot(h.ctx); now.ID != before.ID {
			t.Fatalf("%s: latest snapshot %d, want %d: an incomplete read must not be saved", name, now.ID, before.ID)
		}
	}

	whole := dirFunc(func(context.Context, campaign.ReadOptions) (*campaign.Snapshot, error) {
		s := org()
		counts := map[string]int{}
		for _, m := range s.Memberships {
			counts[m.GroupID]++
		}
		lag := s.Groups[0].ID
		counts[lag] += 3
		s.Read = &campaign.ReadRecord{Complete: true, Pages: map[string]int{campaign.ReadUsers: 1}, GroupMemberCounts: counts}
		return s, nil
	})
	res, err := campaign.Sync(h.ctx, whole, h.st, campaign.SyncOptions{Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	info, err := h.st.Snapshot(h.ctx, res.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	r := info.Counts.Read
	if r == nil || !r.Complete || r.Pages[campaign.ReadUsers] != 1 || len(r.Reconciliation) != 1 {
		t.Fatalf("stored read record = %+v, want complete with pages and one reconciliation", r)
	}
	rec := r.Reconciliation[0]
	if rec.Object != campaign.ReadGroupMembers || rec.Reconciled || len(rec.Mismatches) != 1 || rec.Mismatches[0].OktaTotal != rec.Mismatches[0].Read+3 {
		t.Fatalf("reconciliation = %+v, want group members mismatched on one group by 3", rec)
	}
	if r.LogSince.IsZero() || !r.LogUntil.Equal(h.clock.Now()) {
		t.Fatalf("System Log window %v..%v, want one ending now", r.LogSince, r.LogUntil)
	}
}

// A snapshot recorded with unread pages cannot be launched on, by any
// trigger (Launch serves the CLI, Slack, schedules and recertification;
// LaunchEventReview the Okta events): the refusal names the read and says
// to re-run `attest sync`.
func TestLaunchRefusesSnapshotWithUnreadPages(t *testing.T) {
	h := newHarness(t, org())
	s := org()
	campaign.ResolveManagers(s.Users)
	counts := campaign.Count(s)
	counts.Read = &campaign.ReadRecord{Complete: false, Failed: []campaign.FailedRead{{Object: campaign.ReadAppUsers, ID: "0oaPAY",
		Page: "/api/v1/apps/0oaPAY/users?limit=500", Error: "okta: list users of app 0oaPAY: 429"}}}
	if _, err := h.st.SaveSnapshot(h.ctx, s, counts); err != nil {
		t.Fatal(err)
	}
	def, err := campaign.ParseDefinition("t.yaml", []byte("name: Q4\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.eng.Launch(h.ctx, campaign.LaunchRequest{Definition: def, YAML: "name: Q4\n", Owner: as("iam@x.com"), Trigger: "test"})
	check := func(what string, err error) {
		t.Helper()
		msg := campaign.ErrorMessage(err)
		if !errors.Is(err, campaign.ErrInvalid) || !strings.Contains(msg, "app users of 0oaPAY") || !strings.Contains(msg, "/api/v1/apps/0oaPAY/users?limit=500") ||
			!strings.Contains(msg, "re-run `attest sync`") {
			t.Fatalf("%s: err = %v (message %q), want a refusal naming the failed read and the fix", what, err, msg)
		}
	}
	check("launch", err)
	_, err = h.eng.LaunchEventReview(h.ctx, campaign.Grant{UserID: s.Users[1].ID, Kind: campaign.KindApp, EntitlementID: s.Apps[0].ID,
		Label: s.Apps[0].Label, EventID: "ev1"}, 0, nil, nil)
	check("event review", err)
	if list, err := h.st.ListCampaigns(h.ctx); err != nil || len(list) != 0 {
		t.Fatalf("campaigns = %v (%v), want none launched", list, err)
	}
}
