package okta_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/okta"
)

// A whole read records the pages of every list and Okta's own member and
// app counts of every group (expand=stats), and those reconcile with the
// members and group app assignments read; a lagging count shows as a
// mismatch naming the group.
func TestReadDirectoryRecordsPagesAndReconcilesGroupCounts(t *testing.T) {
	org := oktatest.Generate(smallParams())
	srv := oktatest.NewServer(org, oktatest.WithWindow(time.Second), oktatest.WithMaxPageSize(oktatest.ListGroupMembers, 5),
		oktatest.WithMaxPageSize(oktatest.ListUsers, 50))
	defer srv.Close()
	snap, err := readAll(t, newClient(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	r := snap.Read
	if r == nil || !r.Complete || len(r.Failed) != 0 {
		t.Fatalf("read record = %+v, want complete with no failed read", r)
	}
	for _, obj := range []string{campaign.ReadUsers, campaign.ReadGroups, campaign.ReadGroupMembers, campaign.ReadApps,
		campaign.ReadAppUsers, campaign.ReadAppGroups, campaign.ReadSystemLog} {
		if r.Pages[obj] == 0 {
			t.Errorf("no page of %s recorded: %v", obj, r.Pages)
		}
	}
	// 450 users in pages of 50, plus the one DEPROVISIONED list.
	if r.Pages[campaign.ReadUsers] < 450/50 {
		t.Errorf("users pages = %d, want at least %d", r.Pages[campaign.ReadUsers], 450/50)
	}
	if len(r.GroupMemberCounts) != len(org.Groups) {
		t.Fatalf("Okta counts for %d groups, want all %d", len(r.GroupMemberCounts), len(org.Groups))
	}
	if len(r.GroupAppCounts) != len(org.Groups) {
		t.Fatalf("Okta app counts for %d groups, want all %d", len(r.GroupAppCounts), len(org.Groups))
	}
	r.Reconcile(snap)
	if len(r.Reconciliation) != 2 {
		t.Fatalf("reconciliation = %+v, want group members and app groups", r.Reconciliation)
	}
	members, apps := r.Reconciliation[0], r.Reconciliation[1]
	if members.Object != campaign.ReadGroupMembers || !members.Reconciled || members.Compared != len(org.Groups) || members.Read != len(snap.Memberships) {
		t.Fatalf("members = %+v, want reconciled over %d groups, %d members", members, len(org.Groups), len(snap.Memberships))
	}
	if apps.Object != campaign.ReadAppGroups || !apps.Reconciled || apps.Read != len(snap.GroupAssignments) || apps.Read == 0 {
		t.Fatalf("app groups = %+v, want reconciled, %d assignments", apps, len(snap.GroupAssignments))
	}

	// Okta's stats lag: one group reports two members more than it lists.
	var lagging oktatest.Group
	for _, g := range org.Groups {
		if len(org.Members[g.ID]) > 0 {
			lagging = g
			break
		}
	}
	n := len(org.Members[lagging.ID]) + 2
	if err := srv.Update(func(o *oktatest.Org) error {
		for i := range o.Groups {
			if o.Groups[i].ID == lagging.ID {
				o.Groups[i].StatsUsersCount = &n
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	snap, err = readAll(t, newClient(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	snap.Read.Reconcile(snap)
	rec := snap.Read.Reconciliation[0]
	if !snap.Read.Reconciliation[1].Reconciled {
		t.Fatalf("app groups = %+v, want reconciled: only the member count lags", snap.Read.Reconciliation[1])
	}
	if rec.Reconciled || len(rec.Mismatches) != 1 || rec.Mismatches[0].ID != lagging.ID || rec.Mismatches[0].OktaTotal != n ||
		rec.Mismatches[0].Read != n-2 {
		t.Fatalf("reconciliation = %+v, want one mismatch on %s (read %d, Okta %d)", rec, lagging.ID, n-2, n)
	}
}

// A group's member list, or an app's user list that keeps failing (5xx)
// or keeps being rate-limited (a 429 storm) past the client's retries,
// fails the read with an error naming
// the object type, the group or app and the page, and nothing else of
// the read is returned.
func TestReadDirectoryNamesTheFailedRead(t *testing.T) {
	org := oktatest.Generate(smallParams())
	cases := []struct {
		name, prefix, object, id string
		status, retries          int
	}{
		{"group members 500", "/api/v1/groups/" + org.Groups[3].ID + "/users", campaign.ReadGroupMembers, org.Groups[3].ID, http.StatusInternalServerError, 1},
		{"app users 503", "/api/v1/apps/" + org.Apps[2].ID + "/users", campaign.ReadAppUsers, org.Apps[2].ID, http.StatusServiceUnavailable, 1},
		{"app users 429 storm", "/api/v1/apps/" + org.Apps[4].ID + "/users", campaign.ReadAppUsers, org.Apps[4].ID, http.StatusTooManyRequests, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := oktatest.NewServer(org, oktatest.WithWindow(time.Second))
			defer srv.Close()
			srv.FailNext(tc.prefix, tc.status, 1000)
			// A 429 is waited out until the window resets, up to the
			// client's bound (10 more times than MaxRetries), then given up on.
			snap, err := readAll(t, newClient(t, srv, func(o *okta.Options) { o.MaxRetries = tc.retries }))
			var inc *campaign.IncompleteReadError
			if snap != nil || !errors.As(err, &inc) {
				t.Fatalf("snap = %v, err = %v, want no snapshot and an IncompleteReadError", snap != nil, err)
			}
			if len(inc.Failed) != 1 {
				t.Fatalf("failed reads = %+v, want the one that broke (reads stopped with it are not listed)", inc.Failed)
			}
			f := inc.Failed[0]
			if f.Object != tc.object || f.ID != tc.id || !strings.HasPrefix(f.Page, tc.prefix+"?") || !strings.Contains(f.Page, "limit=") || f.Error == "" {
				t.Fatalf("failed read = %+v, want %s of %s on a page of %s", f, tc.object, tc.id, tc.prefix)
			}
			if !strings.Contains(err.Error(), tc.id) || !strings.Contains(err.Error(), "re-run `attest sync`") {
				t.Fatalf("error %q names neither the read nor the fix", err)
			}
		})
	}
}
