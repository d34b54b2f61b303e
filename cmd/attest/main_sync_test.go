package main

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
)

var orgNow = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// withOkta points the CLI at a fake Okta serving a small synthetic org.
func withOkta(t *testing.T, p oktatest.Params, opts ...oktatest.Option) (*cli, *oktatest.Server) {
	t.Helper()
	org := oktatest.Generate(p)
	// One-second rate-limit windows keep repeated syncs quick.
	srv := oktatest.NewServer(org, append([]oktatest.Option{oktatest.WithWindow(time.Second)}, opts...)...)
	t.Cleanup(srv.Close)
	c := newCLI(t)
	c.env["OKTA_ORG_URL"] = srv.URL
	c.env["OKTA_API_TOKEN"] = srv.Token
	c.env["ATTEST_CONFIG"] = c.write("attest.yaml", "okta: {max_retries: 2, manager_attribute: "+p.ManagerAttr+"}\n")
	return c, srv
}

func smallOrg(attr string) oktatest.Params {
	return oktatest.Params{Seed: 11, Users: 300, Apps: 25, Groups: 40, Now: orgNow, ManagerAttr: attr}
}

func TestSyncCountsAndManagerResolution(t *testing.T) {
	for _, attr := range []string{"managerId", "manager"} {
		t.Run(attr, func(t *testing.T) {
			c, srv := withOkta(t, smallOrg(attr))
			org := srv.Org()
			var res campaign.SyncResult
			c.json(&res, "sync")
			n := res.Counts
			if n.Users != len(org.Users) || n.Groups != len(org.Groups) || n.Apps != len(org.Apps) {
				t.Errorf("users/groups/apps = %d/%d/%d, want %d/%d/%d", n.Users, n.Groups, n.Apps, len(org.Users), len(org.Groups), len(org.Apps))
			}
			if n.Relations != org.Relations() {
				t.Errorf("relations = %d, want %d", n.Relations, org.Relations())
			}
			wantNoMgr, statuses := 0, map[string]int{}
			for _, u := range org.Users {
				statuses[u.Status]++
				if u.ManagerID == "" {
					wantNoMgr++
				}
			}
			if n.NoManager != wantNoMgr {
				t.Errorf("users without manager = %d, want %d (refs by id, login and email must all resolve)", n.NoManager, wantNoMgr)
			}
			for s, k := range statuses {
				if n.UsersByStatus[s] != k {
					t.Errorf("users %s = %d, want %d", s, n.UsersByStatus[s], k)
				}
			}
			if n.APICalls != int64(srv.Stats().Total) || n.APICalls == 0 {
				t.Errorf("api calls = %d, server saw %d", n.APICalls, srv.Stats().Total)
			}
			// The text output carries the same numbers.
			out := c.ok("sync")
			if !strings.Contains(out, "Effective user-app relations") || !strings.Contains(out, "DEPROVISIONED") {
				t.Errorf("text output:\n%s", out)
			}
		})
	}
}

// A failed sync leaves the previous snapshot the latest; the next good one
// reads the System Log only from the previous cursor.
func TestSyncIsAtomicAndIncremental(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	var first campaign.SyncResult
	c.json(&first, "sync")
	// max_retries is 2: three failures in a row exhaust the apps list.
	srv.FailNext("/api/v1/apps", http.StatusInternalServerError, 3)
	code, _, errs := c.run("sync")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if last := lines[len(lines)-1]; code != 1 || !strings.HasPrefix(last, "attest sync: ") || !strings.Contains(last, "list apps") {
		t.Fatalf("failing sync: exit %d, stderr %q", code, errs)
	}
	var plan campaign.PlanSummary
	c.json(&plan, "plan", c.write("all.yaml", "name: all\n"), "--as-of", "2026-11-24")
	if plan.SnapshotID != first.SnapshotID {
		t.Fatalf("plan used snapshot %d after a failed sync, want %d", plan.SnapshotID, first.SnapshotID)
	}
	reqsBefore := len(srv.Requests())
	var second campaign.SyncResult
	c.json(&second, "sync")
	if second.SnapshotID <= first.SnapshotID {
		t.Fatalf("second snapshot id %d", second.SnapshotID)
	}
	var since []string
	for _, r := range srv.Requests()[reqsBefore:] {
		if r.Path == "/api/v1/logs" && r.Query.Get("after") == "" {
			since = append(since, r.Query.Get("since"))
		}
	}
	if len(since) != 1 {
		t.Fatalf("log queries in the second sync: %v", since)
	}
	cursor, err := time.Parse(time.RFC3339, since[0])
	if err != nil || time.Since(cursor) > time.Minute {
		t.Errorf("second sync read the log since %s; want the first sync's cursor (moments ago)", since[0])
	}
	if second.Counts.SignIns != first.Counts.SignIns {
		t.Errorf("sign-ins dropped from %d to %d: the earlier ones must be carried over", first.Counts.SignIns, second.Counts.SignIns)
	}
}

func TestSyncHRCSVOverride(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	org := srv.Org()
	u, boss := org.Users[10], org.Users[0]
	hr := c.write("hr.csv", "email,manager_email,department\n"+u.Email+","+boss.Email+",Skunkworks\nghost@nowhere.example,,Nowhere\n")
	var res campaign.SyncResult
	c.json(&res, "sync", "--hr-csv", hr)
	if res.Counts.HRUnmatched != 1 || len(res.HRUnmatched) != 1 {
		t.Fatalf("hr unmatched = %d %v", res.Counts.HRUnmatched, res.HRUnmatched)
	}
	var plan campaign.PlanSummary
	c.json(&plan, "plan", c.write("sk.yaml", "name: sk\nscope: {departments: [Skunkworks]}\n"), "--as-of", "2026-11-24")
	if plan.Members > 1 {
		t.Fatalf("members in Skunkworks = %d, want at most the one HR moved", plan.Members)
	}
	bad := c.write("bad.csv", "mail\nx\n")
	if code, _, errs := c.run("sync", "--hr-csv", bad); code != 1 || !strings.Contains(errs, "email column") {
		t.Fatalf("bad hr csv: exit %d %q", code, errs)
	}
}

func TestPlanOutputs(t *testing.T) {
	c, _ := withOkta(t, smallOrg("managerId"))
	c.ok("sync")
	def := c.write("q.yaml", "name: Quarterly\nflags: {excessive_groups: 5}\n")
	var p campaign.PlanSummary
	c.json(&p, "plan", def, "--as-of", "2026-11-24")
	if p.Cases == 0 || p.Members == 0 || len(p.Reviewers) == 0 || len(p.CasesPerApp) == 0 {
		t.Fatalf("plan summary = %+v", p)
	}
	sum := 0
	for _, a := range p.CasesPerApp {
		sum += a.Cases
	}
	if sum != p.Cases {
		t.Errorf("cases per app sum to %d, want %d", sum, p.Cases)
	}
	rows, err := csv.NewReader(strings.NewReader(c.ok("plan", def, "--csv", "--as-of", "2026-11-24"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != p.Cases {
		t.Errorf("csv rows = %d, want %d", len(rows)-1, p.Cases)
	}
	text := c.ok("plan", def, "--as-of", "2026-11-24")
	for _, want := range []string{"Cases", "Reviewer", "stale_login", "Users without a manager"} {
		if !strings.Contains(text, want) {
			t.Errorf("text plan lacks %q", want)
		}
	}
	if code, _, errs := c.run("plan", c.write("bad.yaml", "name: x\nscope: {apps: {include: [No Such App]}}\n")); code != 1 ||
		!strings.Contains(errs, "No Such App") {
		t.Errorf("unknown app: exit %d %q", code, errs)
	}
}
