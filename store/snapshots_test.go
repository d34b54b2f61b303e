package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	st, err := Open(context.Background(), target(t, filepath.Join(t.TempDir(), "attest.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sampleSnapshot() *campaign.Snapshot {
	ts := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	return &campaign.Snapshot{
		OrgURL: "https://example.okta.com", StartedAt: ts, CompletedAt: ts.Add(time.Minute), LogCursor: ts,
		Users: []campaign.User{
			{ID: "00u1", Login: "a@x.com", Email: "a@x.com", FirstName: "A", LastName: "Z", Status: "ACTIVE",
				Created: ts.AddDate(-1, 0, 0), LastLogin: ts.AddDate(0, 0, -3), Department: "Eng", Title: "Dev",
				ManagerRef: "b@x.com", ManagerID: "00u2"},
			{ID: "00u2", Login: "b@x.com", Email: "b@x.com", Status: "DEPROVISIONED"},
		},
		Groups: []campaign.Group{{ID: "00g1", Name: "Eng", Description: "d", Type: "OKTA_GROUP", RuleIDs: []string{"0pr1"}}},
		Rules:  []campaign.GroupRule{{ID: "0pr1", Name: "eng rule", Status: "ACTIVE", GroupIDs: []string{"00g1"}}},
		Apps: []campaign.App{{ID: "0oa1", Name: "aws", Label: "AWS", Status: "ACTIVE", SignOnMode: "SAML_2_0",
			LinkURL: "https://example.okta.com/home/aws/0oa1/1", Owners: "bob@x.com, carol@x.com"}},
		Memberships:      []campaign.Membership{{GroupID: "00g1", UserID: "00u1"}},
		AppAssignments:   []campaign.AppAssignment{{AppID: "0oa1", UserID: "00u1", Scope: "GROUP"}, {AppID: "0oa1", UserID: "00u2", Scope: "USER"}},
		GroupAssignments: []campaign.GroupAssignment{{AppID: "0oa1", GroupID: "00g1", Priority: 2}},
		Usage:            []campaign.AppUsage{{UserID: "00u1", AppID: "0oa1", LastUsed: ts.Add(-time.Hour)}},
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	if _, err := st.LatestSnapshot(ctx); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("empty store: err = %v, want ErrNotFound", err)
	}
	in := sampleSnapshot()
	counts := campaign.Count(in)
	id, err := st.SaveSnapshot(ctx, in, counts)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.LatestSnapshot(ctx)
	if err != nil || info.ID != id || !info.LogCursor.Equal(in.LogCursor) || info.Counts.Relations != counts.Relations {
		t.Fatalf("latest = %+v, %v", info, err)
	}
	out, err := st.LoadSnapshot(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	in.ID = id
	sort.Slice(out.AppAssignments, func(i, j int) bool { return out.AppAssignments[i].UserID < out.AppAssignments[j].UserID })
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip differs:\n in  %+v\n out %+v", in, out)
	}
	if _, err := st.LoadSnapshot(ctx, id+1); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("missing snapshot: err = %v", err)
	}
}

// A save that fails part-way leaves no trace: the latest snapshot is still
// the previous one and no rows of the failed one remain.
func TestSaveSnapshotIsAtomic(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	first, err := st.SaveSnapshot(ctx, sampleSnapshot(), campaign.SyncCounts{})
	if err != nil {
		t.Fatal(err)
	}
	// A trigger makes the usage insert (the last table written) fail.
	boom := []string{`CREATE TRIGGER boom BEFORE INSERT ON dir_app_usage BEGIN SELECT RAISE(ABORT, 'disk full'); END`}
	if testBackend == "postgres" {
		boom = []string{`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`,
			`CREATE TRIGGER boom BEFORE INSERT ON dir_app_usage FOR EACH ROW EXECUTE FUNCTION boom()`}
	}
	for _, q := range boom {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.SaveSnapshot(ctx, sampleSnapshot(), campaign.SyncCounts{}); err == nil {
		t.Fatal("save should fail")
	}
	info, err := st.LatestSnapshot(ctx)
	if err != nil || info.ID != first {
		t.Fatalf("latest = %d, %v; want %d", info.ID, err, first)
	}
	for _, table := range []string{"snapshots", "dir_users", "dir_memberships", "dir_app_users"} {
		var n int
		if err := st.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT `+idCol(table)+`) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s holds rows of %d snapshots, want 1", table, n)
		}
	}
}

func idCol(table string) string {
	if table == "snapshots" {
		return "id"
	}
	return "snapshot_id"
}

func TestMigrationsAreRecordedAndIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "attest.db")
	for i := 0; i < 2; i++ {
		st, err := Open(ctx, target(t, path))
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		v, err := st.SchemaVersion(ctx)
		if err != nil || v < 1 {
			t.Fatalf("schema version = %d, %v", v, err)
		}
		if testBackend == "sqlite" {
			var mode string
			if err := st.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Fatalf("journal_mode = %q, %v", mode, err)
			}
			var fk int
			if err := st.db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
				t.Fatalf("foreign_keys = %d, %v", fk, err)
			}
		}
		st.Close()
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	if _, err := Open(context.Background(), ""); err == nil {
		t.Fatal("empty path must fail")
	}
	if testBackend == "postgres" {
		if _, err := Open(context.Background(), "postgres://127.0.0.1:1/nothing-listens?connect_timeout=2"); err == nil {
			t.Fatal("a server that does not answer must fail")
		}
		return
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir", "a.db")); err == nil {
		t.Fatal("a path in a missing directory must fail")
	}
}

// LoadPlanSnapshot reads what a plan needs and nothing else: the whole
// directory, memberships and app-to-group assignments, only the direct
// app assignments, no group rules and no sign-ins.
func TestLoadPlanSnapshot(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	in := sampleSnapshot()
	id, err := st.SaveSnapshot(ctx, in, campaign.Count(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.LoadPlanSnapshot(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := *in
	want.ID, want.Rules, want.Usage = id, nil, nil
	want.AppAssignments = []campaign.AppAssignment{in.AppAssignments[1]}
	if !reflect.DeepEqual(&want, out) {
		t.Fatalf("plan snapshot differs:\n want %+v\n got  %+v", &want, out)
	}
	if _, err := st.LoadPlanSnapshot(ctx, id+1); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("missing snapshot: err = %v", err)
	}
}

// A read for cases leaves out the app assignments the snapshot's own
// groups imply, and only those; a snapshot saved before they were marked
// (migration 0020) is read whole.
func TestLoadCaseSnapshot(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	in := sampleSnapshot()
	in.Apps = append(in.Apps, campaign.App{ID: "0oa2", Name: "wiki", Label: "Wiki", Status: "ACTIVE"})
	// 00u1 holds the wiki through a group the snapshot does not show.
	in.AppAssignments = append(in.AppAssignments, campaign.AppAssignment{AppID: "0oa2", UserID: "00u1", Scope: "GROUP"})
	id, err := st.SaveSnapshot(ctx, in, campaign.Count(in))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := st.LoadSnapshot(ctx, id)
	if err != nil || !reflect.DeepEqual(whole.AppAssignments, in.AppAssignments) {
		t.Fatalf("whole: %+v, %v", whole, err)
	}
	out, err := st.LoadCaseSnapshot(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := *whole
	want.AppAssignments = []campaign.AppAssignment{in.AppAssignments[1], in.AppAssignments[2]}
	if !reflect.DeepEqual(&want, out) {
		t.Fatalf("case snapshot differs:\n want %+v\n got  %+v", &want, out)
	}
	if _, err := st.LoadCaseSnapshot(ctx, id+1); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("missing snapshot: err = %v", err)
	}
	// Saved before migration 0020: nothing marked, all read.
	if _, err := st.db.ExecContext(ctx, `UPDATE dir_app_users SET implied = 0`); err != nil {
		t.Fatal(err)
	}
	if out, err = st.LoadCaseSnapshot(ctx, id); err != nil || !reflect.DeepEqual(out, whole) {
		t.Fatalf("unmarked snapshot: %+v, %v", out, err)
	}
	if plan, err := st.LoadPlanSnapshot(ctx, id); err != nil || len(plan.AppAssignments) != 1 {
		t.Fatalf("plan snapshot of an unmarked snapshot: %+v, %v", plan, err)
	}
}

// A read for cases or for a plan finds its app assignments through the
// index of those not implied, not by reading every app assignment.
func TestCaseSnapshotQueryPlan(t *testing.T) {
	sqliteOnly(t, "reads SQLite's query plan")
	st := openTemp(t)
	for _, cond := range []string{` AND implied = 0`, ` AND implied = 0 AND scope = 'USER'`} {
		text := queryPlan(t, st, `SELECT app_id, user_id, scope = 'USER', created FROM dir_app_users WHERE snapshot_id = ?`+cond, 1)
		if !strings.Contains(text, "dir_app_users_unimplied") {
			t.Fatalf("%s: read without the index of assignments not implied:\n%s", cond, text)
		}
	}
}
