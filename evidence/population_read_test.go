package evidence_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attestbot/attest/evidence"
)

// population.json says whether the sync read every page, how many pages
// per list, and reconciles the members read per group with Okta's own
// count: the rig's Sales group has 4 members read and Okta reports 5, a
// mismatch flagged in the JSON and in the report, not silently passed.
func TestPopulationRecordsReadAndReconciliation(t *testing.T) {
	r := runCampaign(t)
	dir := export(t, r, signedOptions())
	var p evidence.PopulationFile
	readJSON(t, filepath.Join(dir, evidence.FilePopulation), &p)
	rd := p.Read
	if !rd.Recorded || !rd.Complete || rd.Pages["users"] != 2 || len(rd.FailedReads) != 0 {
		t.Fatalf("read = %+v, want recorded, complete, 2 user pages, no failed read", rd)
	}
	if len(rd.Reconciliation) != 1 {
		t.Fatalf("reconciliation = %+v, want group members only", rd.Reconciliation)
	}
	rec := rd.Reconciliation[0]
	if rec.Object != "group_members" || rec.Reconciled || rec.Compared != 1 || rec.Read != 4 || rec.OktaTotal != 5 ||
		len(rec.Mismatches) != 1 || rec.Mismatches[0].ID != "00gSALES" {
		t.Fatalf("reconciliation = %+v, want group members mismatched on 00gSALES (4 read, Okta 5)", rec)
	}
	if len(rd.Flags) != 1 || !strings.Contains(rd.Flags[0], "00gSALES") {
		t.Fatalf("flags = %q, want the mismatch flagged", rd.Flags)
	}
	html, err := os.ReadFile(filepath.Join(dir, evidence.FileReport))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `id="population-flags"`) || !strings.Contains(string(html), "00gSALES") {
		t.Fatal("the report does not flag the reconciliation mismatch")
	}
	if !strings.Contains(string(html), "1 users active in Okta are terminated in HR, 1 are not in HR") {
		t.Fatal("the report does not show the HR cross-check")
	}
	if !strings.Contains(string(html), "terminated_in_hr") || !strings.Contains(string(html), "not_in_hr") {
		t.Fatal("the report's exceptions do not list the HR leavers' cases")
	}
	if rep, err := evidence.Verify(dir, evidence.VerifyOptions{AuditKey: []byte(auditKey)}); err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}
