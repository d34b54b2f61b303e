package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// TestCampaignCLI runs a whole campaign through the CLI against a synced
// fake org: start, list, answer (and a refused answer), close, approve
// (and a refused approval), report in every format.
func TestCampaignCLI(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	c.ok("sync")
	org := srv.Org()
	owner, approver := org.Users[1].Email, org.Users[2].Email
	def := c.write("q.yaml", "name: CLI review\nowner: "+owner+"\napproval: {approvers: ["+approver+", "+owner+"]}\n"+
		"stages: {self_attestation: {enabled: false}}\nremediation: {no_decision: keep}\n")
	var started campaignView
	c.json(&started, "campaign", "start", def, "--as", owner)
	if started.ID == 0 || started.State != campaign.StateStage2 || len(started.SnapshotDigest) != 64 {
		t.Fatalf("started = %+v", started)
	}
	id := strconv.FormatInt(started.ID, 10)
	var list []campaignView
	c.json(&list, "campaign", "list")
	if len(list) != 1 || list[0].ID != started.ID {
		t.Fatalf("list = %+v", list)
	}
	rows, err := csv.NewReader(strings.NewReader(c.ok("campaign", "report", id, "--format", "csv"))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("report csv: %v rows %d", err, len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	// A direct-only assignment (Okta refuses to unassign while a group also
	// grants the app) of a member who approves nothing, reviewed by a
	// manager (not the IAM team): its revocation plans an unassignment.
	var row []string
	for _, r := range rows[1:] {
		if r[col["reviewer"]] != "IAM team" && r[col["kind"]] == "app" && r[col["granted_by"]] == "direct" &&
			r[col["user_email"]] != owner && r[col["user_email"]] != approver {
			row = r
			break
		}
	}
	if row == nil {
		t.Fatal("no manager-reviewed case")
	}
	member, app, reviewer := row[col["user_email"]], row[col["entitlement"]], row[col["reviewer"]]
	code, _, errs := c.run("campaign", "answer", id, "--as", member, "--user", member, "--app", app, "--decision", "keep")
	if code != 1 || !strings.Contains(errs, "not allowed") {
		t.Fatalf("member confirming own access in stage 2: exit %d %q", code, errs)
	}
	code, _, errs = c.run("campaign", "answer", id, "--as", reviewer, "--user", member, "--app", app, "--decision", "maybe")
	if code != 1 || !strings.Contains(errs, "keep or revoke") {
		t.Fatalf("bad decision: exit %d %q", code, errs)
	}
	out := c.ok("campaign", "answer", id, "--as", reviewer, "--user", member, "--app", app, "--decision", "revoke", "--comment", "left the team")
	if !strings.Contains(out, "Recorded revoke") {
		t.Fatalf("answer output %q", out)
	}
	if code, _, errs := c.run("campaign", "close", id, "--as", member); code != 1 || !strings.Contains(errs, "not allowed") {
		t.Fatalf("member closing: exit %d %q", code, errs)
	}
	var closed struct {
		Campaign campaignView    `json:"campaign"`
		Plan     map[string]int  `json:"plan"`
		Items    []json2PlanItem `json:"plan_items"`
	}
	c.json(&closed, "campaign", "close", id, "--as", owner)
	if closed.Campaign.State != campaign.StateClosed || closed.Plan[campaign.OpUnassignApp] != 1 {
		t.Fatalf("closed = %+v", closed)
	}
	if code, _, _ := c.run("campaign", "close", id, "--as", owner); code != 1 {
		t.Fatal("double close must fail")
	}
	if code, _, errs := c.run("campaign", "approve", id, "--as", owner); code != 1 || !strings.Contains(errs, "may not approve") {
		t.Fatalf("owner approving: exit %d %q", code, errs)
	}
	out = c.ok("campaign", "approve", id, "--as", approver)
	if !strings.Contains(out, "approved") {
		t.Fatalf("approve output %q", out)
	}
	var rep campaign.Report
	c.json(&rep, "campaign", "report", id)
	if rep.State != campaign.StateApproved && rep.State != campaign.StateDone || rep.ByState["revoked"] != 1 || rep.ByState["confirmed_by_manager"] != 1 {
		t.Fatalf("report = state %s by-state %v", rep.State, rep.ByState)
	}
	// The approved plan is carried out: the direct assignment goes.
	var sum campaign.RunSummary
	c.json(&sum, "campaign", "execute", id)
	if !sum.Done || sum.ByResult[campaign.ResultRemoved] != 1 || srv.Deletes() != 1 {
		t.Fatalf("execute = %+v, DELETEs %d", sum, srv.Deletes())
	}
	if code, _, errs := c.run("campaign", "retry", id, "--as", member); code != 1 || !strings.Contains(errs, "not an approver") {
		t.Fatalf("member retrying: exit %d %q", code, errs)
	}
	// Evidence: the export round-trips every decision; the chain verifies.
	var files struct {
		Files []string `json:"files"`
	}
	c.json(&files, "audit", "export", "--campaign", id, "--format", "json", "--out", c.dir)
	raw, err := os.ReadFile(files.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	var ev evidence
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	stored, _ := store.Open(context.Background(), c.env["ATTEST_DB"])
	defer stored.Close()
	want, _ := stored.Cases(context.Background(), started.ID, campaign.CaseQuery{})
	if len(ev.Cases) != len(want) || len(ev.Operations) == 0 || len(ev.Approvals) != 1 || len(ev.Events) == 0 {
		t.Fatalf("evidence: %d cases (want %d), %d operations, %d approvals, %d events", len(ev.Cases), len(want),
			len(ev.Operations), len(ev.Approvals), len(ev.Events))
	}
	for i := range want {
		got := ev.Cases[i]
		if got.ID != want[i].ID || got.ReviewerDecision != want[i].ReviewerDecision || got.DecidedBy != want[i].DecidedBy ||
			got.ReviewerComment != want[i].ReviewerComment || got.Outcome != want[i].Outcome || !got.ReviewerAt.Equal(want[i].ReviewerAt) {
			t.Fatalf("case %d exported as %+v, stored as %+v", want[i].ID, got, want[i])
		}
	}
	var csvFiles struct {
		Files []string `json:"files"`
	}
	c.json(&csvFiles, "audit", "export", "--campaign", id, "--out", filepath.Join(c.dir, "csv"))
	if len(csvFiles.Files) != 5 {
		t.Fatalf("csv export files = %v", csvFiles.Files)
	}
	var verify struct {
		OK      bool `json:"ok"`
		Entries int  `json:"entries"`
	}
	c.json(&verify, "audit", "verify")
	if !verify.OK || verify.Entries == 0 {
		t.Fatalf("audit verify = %+v", verify)
	}
	md := c.ok("campaign", "report", id, "--format", "md")
	for _, want := range []string{"# Access review", "Progress per reviewer", "Outcomes per entitlement", "Remediation plan", rep.SnapshotDigest} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown report lacks %q", want)
		}
	}
}

// json2PlanItem is a plan item as close --json prints it.
type json2PlanItem struct {
	Seq  int    `json:"Seq"`
	Kind string `json:"Kind"`
}
