package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

const testAuditKey = "0123456789abcdef0123456789abcdef"

// auditDB writes n audit events into a new database at the CLI's ATTEST_DB,
// keyed with key unless empty, as serve would.
func auditDB(t *testing.T, c *cli, key string, n int) {
	t.Helper()
	var opts []store.Option
	if key != "" {
		opts = append(opts, store.WithAuditKey([]byte(key)))
	}
	st, err := store.Open(context.Background(), c.env["ATTEST_DB"], opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := 1; i <= n; i++ {
		ev := campaign.Event{CampaignID: 1, Type: "case.answered", Actor: campaign.Actor{Email: "m@x.com", Via: "slack"},
			Detail: map[string]any{"decision": "keep", "i": i}}
		if i == n {
			ev.Type, ev.Actor.Email = "plan.approve", "ann@x.com"
		}
		if err := st.AppendEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

// sqlExec runs statements on the CLI's database with the append-only
// triggers gone, as anyone who can write the file can.
func sqlExec(t *testing.T, c *cli, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+c.env["ATTEST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	drop := []string{"DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete",
		"DROP TRIGGER IF EXISTS audit_chain_start_no_update", "DROP TRIGGER IF EXISTS audit_chain_start_no_delete"}
	for _, q := range append(drop, stmts...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rehashUnkeyed recomputes every entry's hash and link with plain SHA-256,
// following the encoding documented in store/audit_chain.go, as someone
// without the key does after an edit.
func rehashUnkeyed(t *testing.T, c *cli) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+c.env["ATTEST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := "at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user, slack_team, detail, payload_sha256, action_ts"
	rows, err := db.Query(`SELECT id, ` + cols + ` FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	prev := ""
	for rows.Next() {
		var id int64
		f := make([]string, 12)
		dest := []any{&id}
		for i := range f {
			dest = append(dest, &f[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		enc := field("attest-audit-v1") + field(strconv.FormatInt(id, 10))
		for _, v := range append(f, prev) {
			enc += field(v)
		}
		sum := sha256.Sum256([]byte(enc))
		hash := hex.EncodeToString(sum[:])
		stmts = append(stmts, "UPDATE audit_log SET prev_hash = '"+prev+"', hash = '"+hash+"' WHERE id = "+strconv.FormatInt(id, 10))
		prev = hash
	}
	rows.Close()
	db.Close()
	sqlExec(t, c, stmts...)
}

func field(v string) string { return strconv.Itoa(len(v)) + ":" + v + "," }

type verifyOut struct {
	OK      bool   `json:"ok"`
	Head    string `json:"head"`
	Count   int64  `json:"count"`
	Entries int    `json:"entries"`
	Keyed   bool   `json:"keyed"`
	Reason  string `json:"reason"`
}

// Each attack on the audit log by someone who can write the database; all
// of them exited 0 before the chain was keyed, its mode recorded and
// verify made to fail on an empty or short log.
func TestAuditVerifyDetectsRewrites(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    string // the chain's key, also set for verify
		attack func(t *testing.T, c *cli, head string)
		args   []string
		want   string
	}{
		{"an edited approval with the chain recomputed", testAuditKey, func(t *testing.T, c *cli, _ string) {
			sqlExec(t, c, `UPDATE audit_log SET actor = 'mallory@x.com' WHERE type = 'plan.approve'`)
			rehashUnkeyed(t, c)
		}, nil, "hashed without the audit key"},
		{"the newest entries deleted (keyed)", testAuditKey, func(t *testing.T, c *cli, _ string) {
			sqlExec(t, c, `DELETE FROM audit_log WHERE id >= 4`)
		}, nil, "entries 4 to 5 were removed"},
		{"the newest entries deleted, head recorded", "", func(t *testing.T, c *cli, _ string) {
			sqlExec(t, c, `DELETE FROM audit_log WHERE id >= 4`)
		}, []string{"--expect-head", "HEAD"}, "the recorded head HEAD is not in the chain"},
		{"the newest entries deleted, count recorded", "", func(t *testing.T, c *cli, _ string) {
			sqlExec(t, c, `DELETE FROM audit_log WHERE id >= 4`)
		}, []string{"--expect-count", "5"}, "fewer than the 5 recorded"},
		{"every entry deleted", "", func(t *testing.T, c *cli, _ string) {
			sqlExec(t, c, `DELETE FROM audit_log`)
		}, nil, "the audit log is empty"},
		{"one INSERT and blanked hashes", "", func(t *testing.T, c *cli, _ string) {
			sqlExec(t, c, `INSERT INTO audit_chain_start (last_legacy_id) VALUES (1000)`, `UPDATE audit_log SET hash = '', prev_hash = ''`)
		}, nil, "audit_chain_start has 2 rows"},
		{"blanked hashes in a keyed chain", testAuditKey, func(t *testing.T, c *cli, _ string) {
			sqlExec(t, c, `UPDATE audit_chain_start SET last_legacy_id = 1000`, `UPDATE audit_log SET hash = '', prev_hash = ''`)
		}, nil, "the signed mode at 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			auditDB(t, c, tc.key, 5)
			if tc.key != "" {
				c.env["ATTEST_AUDIT_KEY"] = tc.key
			}
			var before verifyOut
			c.json(&before, "audit", "verify")
			if !before.OK || before.Count != 5 || len(before.Head) != 64 || before.Keyed != (tc.key != "") {
				t.Fatalf("before the attack: %+v", before)
			}
			tc.attack(t, c, before.Head)
			args := []string{"audit", "verify"}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "HEAD", before.Head))
			}
			code, out, errs := c.run(args...)
			want := strings.ReplaceAll(tc.want, "HEAD", before.Head)
			if code != 1 || !strings.Contains(errs, want) {
				t.Fatalf("attest %s after the attack: exit %d\nstdout: %s\nstderr: %s\nwant exit 1 and %q", strings.Join(args, " "), code, out, errs, want)
			}
		})
	}
}

func TestAuditVerifyOutput(t *testing.T) {
	c := newCLI(t)
	auditDB(t, c, testAuditKey, 3)
	c.env["ATTEST_AUDIT_KEY"] = testAuditKey
	var v verifyOut
	c.json(&v, "audit", "verify")
	out := c.ok("audit", "verify", "--expect-head", strings.ToUpper(v.Head), "--expect-count", "3")
	for _, want := range []string{"3 entries verified", "Count: 3", "Head:  " + v.Head + " (entry 3)", "Keyed", "recorded head is entry 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without the key, a keyed log cannot be verified at all.
	delete(c.env, "ATTEST_AUDIT_KEY")
	if code, _, errs := c.run("audit", "verify"); code != 1 || !strings.Contains(errs, "ATTEST_AUDIT_KEY") {
		t.Fatalf("verify of a keyed log without the key: exit %d %q", code, errs)
	}
	// A key set for a log that is not keyed: the mode record may be gone.
	c2 := newCLI(t)
	auditDB(t, c2, "", 2)
	c2.env["ATTEST_AUDIT_KEY"] = testAuditKey
	if code, _, errs := c2.run("audit", "verify"); code != 1 || !strings.Contains(errs, "not keyed") {
		t.Fatalf("verify of an unkeyed log with the key: exit %d %q", code, errs)
	}
}

// A new install's empty log fails unless --allow-empty says it is new.
func TestAuditVerifyEmpty(t *testing.T) {
	c := newCLI(t)
	auditDB(t, c, "", 0)
	if code, _, errs := c.run("audit", "verify"); code != 1 || !strings.Contains(errs, "empty") {
		t.Fatalf("empty log: exit %d %q", code, errs)
	}
	if out := c.ok("audit", "verify", "--allow-empty"); !strings.Contains(out, "0 entries verified") {
		t.Fatalf("--allow-empty: %q", out)
	}
}

// verify reads a copy kept as evidence, mode 0400 in a read-only
// directory, without writing a byte or creating a file beside it, even
// when the copy is older than this attest's schema (root ignores the
// modes: the migration it must not run shows instead).
func TestAuditVerifyReadOnlyCopy(t *testing.T) {
	c := newCLI(t)
	auditDB(t, c, testAuditKey, 3)
	sqlExec(t, c, `DROP TABLE hook_events`, `DELETE FROM schema_migrations WHERE version = 9`)
	data, err := os.ReadFile(c.env["ATTEST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.dir, "evidence")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "attest.db")
	if err := os.WriteFile(p, data, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	c.env["ATTEST_DB"], c.env["ATTEST_AUDIT_KEY"] = p, testAuditKey
	if out := c.ok("audit", "verify"); !strings.Contains(out, "3 entries verified") {
		t.Fatalf("verify of the copy: %q", out)
	}
	after, err := os.ReadFile(p)
	if err != nil || string(after) != string(data) {
		t.Fatalf("the copy changed (%v)", err)
	}
	if names := listDir(t, dir); strings.Join(names, " ") != "attest.db" {
		t.Fatalf("files beside the copy: %v", names)
	}
}

// Commands that only read, given no database, say where they looked and
// how to make one, and leave nothing behind.
func TestReadCommandsDoNotCreateTheDatabase(t *testing.T) {
	c := newCLI(t)
	def := c.write("q.yaml", "name: Q\n")
	for _, args := range [][]string{
		{"plan", def},
		{"campaign", "list"},
		{"campaign", "show", "1"},
		{"campaign", "report", "1", "--format", "csv"},
		{"campaign", "next-due", def},
		{"audit", "verify"},
		{"audit", "export", "--campaign", "1", "--out", filepath.Join(c.dir, "out")},
		{"audit", "prune"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			c.env["ATTEST_AUDIT_KEY"] = testAuditKey
			code, _, errs := c.run(args...)
			if code != 1 || !strings.Contains(errs, c.env["ATTEST_DB"]) || !strings.Contains(errs, "attest sync") {
				t.Fatalf("exit %d %q, want 1 and a message naming %s and attest sync", code, errs, c.env["ATTEST_DB"])
			}
			if _, err := os.Stat(c.env["ATTEST_DB"]); !os.IsNotExist(err) {
				t.Fatalf("the database was created (%v)", err)
			}
		})
	}
}

func TestDatabaseFilesArePrivate(t *testing.T) {
	c, _ := withOkta(t, smallOrg("managerId"))
	c.ok("sync")
	for _, f := range []string{c.env["ATTEST_DB"], c.env["ATTEST_DB"] + "-wal", c.env["ATTEST_DB"] + "-shm"} {
		fi, err := os.Stat(f)
		if os.IsNotExist(err) && f != c.env["ATTEST_DB"] {
			continue // checkpointed and removed at close
		}
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}
