package main

import (
	"strings"
	"testing"

	"github.com/attestbot/attest/internal/pgtest"
)

// An SQLite installation moves to PostgreSQL: `attest store migrate`
// copies it and verifies the chain, and every command then works against
// PostgreSQL with ATTEST_DATABASE_URL (here: plan and audit verify read
// what the SQLite sync and launch wrote).
func TestStoreMigrateToPostgres(t *testing.T) {
	pg := pgtest.URL(t)
	c, srv := withOkta(t, smallOrg("managerId"))
	c.env["ATTEST_AUDIT_KEY"] = "0123456789abcdef0123456789abcdef"
	c.ok("sync")
	owner := srv.Org().Users[1].Email
	def := c.write("q.yaml", "name: Before the move\nowner: "+owner+"\nstages: {self_attestation: {enabled: false}}\n")
	var started campaignView
	c.json(&started, "campaign", "start", def, "--as", owner)
	lite := "sqlite://" + c.env["ATTEST_DB"]
	before := c.ok("audit", "verify")

	out := c.ok("store", "migrate", "--from", lite, "--to", pg)
	for _, want := range []string{"every table's count matches the source", "audit chain verified", "keyed true"} {
		if !strings.Contains(out, want) {
			t.Fatalf("migrate printed %q, want %q", out, want)
		}
	}
	// The same commands against PostgreSQL read the same installation.
	c.env["ATTEST_DATABASE_URL"] = pg
	after := c.ok("audit", "verify")
	if headLine(before) == "" || headLine(before) != headLine(after) {
		t.Fatalf("audit verify on SQLite:\n%s\non PostgreSQL:\n%s", before, after)
	}
	var list []campaignView
	c.json(&list, "campaign", "list")
	if len(list) != 1 || list[0].ID != started.ID || list[0].Name != "Before the move" {
		t.Fatalf("campaigns on PostgreSQL = %+v, want the one launched on SQLite", list)
	}
	// A second migrate into the now full database is refused, and says so.
	code, _, errs := c.run("store", "migrate", "--from", lite, "--to", pg)
	if code == 0 || !strings.Contains(errs, "not empty") {
		t.Fatalf("second migrate: exit %d, %s", code, errs)
	}
	// The password never reaches the output.
	if code, _, errs := c.run("store", "migrate", "--from", lite, "--to", "postgres://attest:hunter2@127.0.0.1:1/x?connect_timeout=1"); code == 0 ||
		strings.Contains(errs, "hunter2") {
		t.Fatalf("unreachable target: exit %d, %s", code, errs)
	}
}

// headLine is the line of `audit verify` that names the chain's head.
func headLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "head") {
			return l
		}
	}
	return ""
}
