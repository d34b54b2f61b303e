package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// The database holds people's answers and Slack evidence: it and the files
// SQLite keeps beside it are the owner's alone.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	sqliteOnly(t, "file modes")
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "attest.db")
	st, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AppendEvent(ctx, campaign.Event{CampaignID: 1, Type: "case.answered", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p, p + "-wal", p + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
}

func TestOpenMissingDatabase(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		open func(string) (*Store, error)
	}{
		{"existing", func(p string) (*Store, error) { return OpenExisting(ctx, p) }},
		{"read-only", func(p string) (*Store, error) { return OpenReadOnly(ctx, p) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := target(t, filepath.Join(dir, "attest.db"))
			st, err := tc.open(p)
			if err == nil {
				st.Close()
			}
			if !errors.Is(err, ErrNoDatabase) || !contains(err.Error(), Redact(p), "attest sync") {
				t.Fatalf("err = %v, want ErrNoDatabase naming %s and attest sync", err, Redact(p))
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Fatalf("files created: %v", names)
			}
			if testBackend == "postgres" {
				// Nothing created in the empty schema either.
				db, pool, err := pgOpen(ctx, p, true)
				if err != nil {
					t.Fatal(err)
				}
				defer pool.Close()
				defer db.Close()
				var n int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).
					Scan(&n); err != nil || n != 0 {
					t.Fatalf("tables created: %d, %v", n, err)
				}
			}
		})
	}
}

// A copy kept as evidence, read-only in a read-only directory, verifies
// without a byte written or a file created beside it, and a write fails.
func TestOpenReadOnlyCopy(t *testing.T) {
	sqliteOnly(t, "a read-only copy of the file")
	ctx := context.Background()
	src := keyedPath(t)
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
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
	before := sha256.Sum256(data)

	st, err := OpenReadOnly(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.VerifyAudit(ctx, VerifyOptions{Key: auditKey, RequireKeyed: true})
	if err != nil || !r.OK() || r.Entries != 3 {
		t.Fatalf("verify = %+v, %v", r, err)
	}
	if err := st.AppendEvent(ctx, campaign.Event{CampaignID: 1, Type: "x", Actor: campaign.System}); err == nil {
		t.Error("a read-only store appended an event")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(after) != before {
		t.Error("the database changed")
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("files beside the copy: %v, want only attest.db", names)
	}
}

// A read-only open never migrates: an older database keeps its schema,
// and its unkeyed chain still verifies.
func TestOpenReadOnlyDoesNotMigrate(t *testing.T) {
	ctx := context.Background()
	st, _ := writeRealisticLog(t)
	tamper(t, st, `DROP TABLE audit_chain_mode`, `DROP TABLE audit_chain_head`, `DELETE FROM schema_migrations WHERE version = 10`)
	want, _ := st.SchemaVersion(ctx)
	st.Close()
	ro, err := OpenReadOnly(ctx, st.target)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if r, err := ro.VerifyAudit(ctx, VerifyOptions{}); err != nil || !r.OK() || r.Keyed {
		t.Fatalf("verify = %+v, %v", r, err)
	}
	if got, _ := ro.SchemaVersion(ctx); got != want || !ro.ReadOnly() {
		t.Fatalf("schema version %d, want %d untouched", got, want)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// verify of a live database, while attest writes it, reads through the
// -wal file, and sees what was committed.
func TestOpenReadOnlyLive(t *testing.T) {
	sqliteOnly(t, "SQLite WAL files")
	ctx := context.Background()
	st, n := writeLog(t, auditKey)
	if _, err := os.Stat(st.path + "-wal"); err != nil {
		t.Fatalf("no -wal beside a database being written: %v", err)
	}
	ro, err := OpenReadOnly(ctx, st.path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	appendDays(t, st, 30)
	r, err := ro.VerifyAudit(ctx, VerifyOptions{Key: auditKey, RequireKeyed: true})
	if err != nil || !r.OK() || r.LastID != n+1 {
		t.Fatalf("verify of the live database = %+v, %v; want %d entries", r, err, n+1)
	}
}
