package campaign_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// The HR cross-check flags users active in Okta whom HR shows as gone:
// terminated by status, terminated by a past termination date, or with no
// HR row at all. A future termination date, an active row and Okta-inactive
// accounts are not flagged. The flags reach the cases at launch.
func TestHRLeaversFlaggedOnCases(t *testing.T) {
	now := t0
	users := []campaign.User{
		{ID: "u1", Login: "a@x.com", Email: "a@x.com", Status: campaign.StatusActive},
		{ID: "u2", Login: "b@x.com", Email: "B@x.com", Status: campaign.StatusActive},
		{ID: "u3", Login: "c@x.com", Email: "c@x.com", Status: campaign.StatusActive},
		{ID: "u4", Login: "d@x.com", Email: "d@x.com", Status: campaign.StatusActive},
		{ID: "u5", Login: "e@x.com", Email: "e@x.com", Status: campaign.StatusSuspended},
		{ID: "u6", Login: "f@x.com", Email: "f@x.com", Status: campaign.StatusActive},
	}
	hr := []campaign.HRRecord{
		{Email: "a@x.com", Status: "Active"},
		{Email: "b@x.com", Status: "Terminated"},
		{Email: "c@x.com", TerminationDate: now.Add(-time.Hour)},
		{Email: "f@x.com", TerminationDate: now.AddDate(0, 1, 0)}, // leaves next month
		{Email: "e@x.com", Status: "terminated"},                  // already suspended in Okta
	}
	if campaign.CheckHR(users, nil, now) != nil {
		t.Fatal("no HR rows must mean no check, not everyone absent")
	}
	h := campaign.CheckHR(users, hr, now)
	got := h.ByUser()
	want := map[string]string{"u2": campaign.HRTerminated, "u3": campaign.HRTerminated, "u4": campaign.HRAbsent}
	if len(got) != len(want) || h.Terminated != 2 || h.Absent != 1 || h.ActiveUsers != 5 || h.Rows != 5 {
		t.Fatalf("check = %+v, want leavers %v", h, want)
	}
	for id, r := range want {
		if got[id] != r {
			t.Errorf("%s: %q, want %q", id, got[id], r)
		}
	}

	// Through a sync with the HR CSV, then a launch: the cases carry the flags.
	hx := newHarness(t, org())
	snap := org()
	for i := range snap.Users {
		hr = append(hr, campaign.HRRecord{Email: snap.Users[i].Email})
	}
	leaver, ghost := snap.Users[2], snap.Users[3]
	hr[len(hr)-len(snap.Users)+2].Status = "Terminated"
	hr = slices.Delete(hr, len(hr)-len(snap.Users)+3, len(hr)-len(snap.Users)+4)
	dir := dirFunc(func(context.Context, campaign.ReadOptions) (*campaign.Snapshot, error) { return org(), nil })
	res, err := campaign.Sync(hx.ctx, dir, hx.st, campaign.SyncOptions{Now: hx.clock.Now, HR: hr})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.HR == nil || res.Counts.HR.ByUser()[leaver.ID] != campaign.HRTerminated || res.Counts.HR.ByUser()[ghost.ID] != campaign.HRAbsent {
		t.Fatalf("sync HR check = %+v, want %s terminated and %s absent", res.Counts.HR, leaver.ID, ghost.ID)
	}
	c := hx.launch("name: HR\n")
	cases, err := hx.st.Cases(hx.ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, cs := range cases {
		names := cs.Flags.Names()
		term, absent := slices.Contains(names, "terminated_in_hr"), slices.Contains(names, "not_in_hr")
		switch cs.UserID {
		case leaver.ID:
			seen["term"] = true
			if !term || absent {
				t.Errorf("case %d of %s: flags %v, want terminated_in_hr", cs.ID, cs.UserID, names)
			}
		case ghost.ID:
			seen["absent"] = true
			if !absent || term {
				t.Errorf("case %d of %s: flags %v, want not_in_hr", cs.ID, cs.UserID, names)
			}
		default:
			if term || absent {
				t.Errorf("case %d of %s: flags %v, want no HR flag", cs.ID, cs.UserID, names)
			}
		}
	}
	if !seen["term"] || !seen["absent"] {
		t.Fatalf("no case of the leaver (%v) or of the absent user (%v): pick users holding apps", seen["term"], seen["absent"])
	}
}
