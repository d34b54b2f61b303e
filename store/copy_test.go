package store

import (
	"context"
	"database/sql"
	"errors"
	"math/rand"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/hookevent"
	"github.com/attestbot/attest/internal/slackrec"
)

// Copy moves an SQLite installation into a new database (PostgreSQL on
// the second run): every table's rows, the audit chain with its hashes
// (keyed: it verifies under the same key, with the same head), outbox
// and hook events with their states; and the target takes new rows after
// the copied ids. A second copy into the now-full target is refused.
func TestCopyMovesAnInstallation(t *testing.T) {
	ctx := context.Background()
	src, _ := writeLogAt(t, auditKey, filepath.Join(t.TempDir(), "source.db")) // always SQLite
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	if _, err := src.Enqueue(ctx, slackrec.OutboxItem{Key: "post:a", Kind: slackrec.KindPost, Target: "C1", Payload: slackrec.Payload{Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ClaimOutbox(ctx, now.Add(time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := src.SaveHookEvents(ctx, []hookevent.Event{hookEvent(t, "e1", "user.lifecycle.deactivate", now)}); err != nil {
		t.Fatal(err)
	}
	// A closed campaign whose plan takes two chunks: their bodies are
	// bytes, copied as bytes.
	info, err := src.LatestSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pc := createCampaign(t, src, info.ID, nil)
	closed := *pc
	closed.State = campaign.StateClosed
	plan := randomPlan(rand.New(rand.NewSource(5)), planChunkItems+3)
	if err := src.CloseCampaign(ctx, &closed, campaign.StateStage1, nil, plan, nil,
		campaign.Event{Type: "campaign.closed", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	before, err := src.VerifyAudit(ctx, VerifyOptions{Key: auditKey})
	if err != nil || !before.OK() {
		t.Fatalf("source chain: %+v, %v", before, err)
	}

	dst, err := Open(ctx, target(t, filepath.Join(t.TempDir(), "target.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	var seen []string
	rep, err := Copy(ctx, src, dst, func(tc TableCount) { seen = append(seen, tc.Table) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, copyTables) {
		t.Fatalf("progress named %v", seen)
	}
	rows := map[string]int64{}
	for _, tc := range rep.Tables {
		rows[tc.Table] = tc.Rows
	}
	for _, table := range []string{"snapshots", "dir_users", "campaigns", "cases", "plan_chunks", "audit_log", "approvals", "outbox", "hook_events", "audit_chain_head"} {
		if rows[table] == 0 {
			t.Errorf("%s: nothing copied", table)
		}
	}
	if got, err := dst.Plan(ctx, pc.ID); err != nil || !reflect.DeepEqual(got, plan) {
		t.Fatalf("copied plan: %d items, %v; want %d", len(got), err, len(plan))
	}
	after, err := dst.VerifyAudit(ctx, VerifyOptions{Key: auditKey, ExpectHead: before.LastHash})
	if err != nil || !after.OK() || after.LastID != before.LastID || after.LastHash != before.LastHash || !after.Keyed {
		t.Fatalf("target chain: %+v, %v; source's: %+v", after, err, before)
	}
	// States and claims came along: the claimed item is still in sending.
	if c, err := dst.OutboxCounts(ctx); err != nil || c["sending"] != 1 {
		t.Fatalf("target outbox = %v, %v", c, err)
	}
	// New rows get new ids, after the copied ones; the target is keyed
	// under the source's key.
	dst.Close()
	if _, err := Open(ctx, dst.target, WithAuditKey([]byte("another-key-another-key-another"))); !errors.Is(err, ErrAuditKeyMismatch) {
		t.Fatalf("another key: err = %v, want ErrAuditKeyMismatch", err)
	}
	if dst, err = Open(ctx, dst.target, WithAuditKey(auditKey)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	if err := dst.AppendEvent(ctx, campaign.Event{Type: "after.copy", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	if r, err := dst.VerifyAudit(ctx, VerifyOptions{Key: auditKey}); err != nil || !r.OK() || r.LastID != before.LastID+1 {
		t.Fatalf("after an append: %+v, %v", r, err)
	}
	if _, err := Copy(ctx, src, dst, nil); !errors.Is(err, ErrTargetNotEmpty) {
		t.Fatalf("second copy: err = %v, want ErrTargetNotEmpty", err)
	}
}

// Every table of the schema is in copyTables: a table added by a later
// migration and forgotten there would be lost by `attest store migrate`.
func TestCopyCoversEveryTable(t *testing.T) {
	sqliteOnly(t, "reads sqlite_master; the PostgreSQL schema is checked against it by TestSchemasAgree")
	st := openTemp(t)
	var tables []string
	err := st.each(context.Background(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
		AND name <> 'schema_migrations' ORDER BY name`, nil, func(r *sql.Rows) error {
		var n string
		tables = append(tables, n)
		return r.Scan(&tables[len(tables)-1])
	})
	if err != nil {
		t.Fatal(err)
	}
	tables = append(tables, "hook_events") // in the events database
	for _, table := range tables {
		if !slices.Contains(copyTables, table) {
			t.Errorf("table %s is not copied by store.Copy", table)
		}
	}
}

// The PostgreSQL schema has every table and column of SQLite's, so the
// same queries run on both and Copy loses nothing.
func TestSchemasAgree(t *testing.T) {
	if testBackend != "postgres" {
		t.Skip("compares the PostgreSQL schema with SQLite's")
	}
	ctx := context.Background()
	lite, err := Open(ctx, filepath.Join(t.TempDir(), "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg := openTemp(t)
	columns := func(st *Store, q string, args ...any) map[string]bool {
		out := map[string]bool{}
		if err := st.each(ctx, q, args, func(r *sql.Rows) error {
			var table, col string
			if err := r.Scan(&table, &col); err != nil {
				return err
			}
			out[table+"."+col] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := columns(lite, `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
	for _, c := range []string{"uuid", "received_at", "published", "event_type", "actor_id", "target_json", "raw", "state",
		"attempts", "last_error", "processed_at", "claimed_at"} {
		want["hook_events."+c] = true
	}
	got := columns(pg, `SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()`)
	for c := range want {
		if !got[c] {
			t.Errorf("PostgreSQL has no %s", c)
		}
	}
	for c := range got {
		if !want[c] && c != "hook_events.rowid" && c != "audit_chain_start.rowid" {
			t.Errorf("PostgreSQL has %s, SQLite has not", c)
		}
	}
	lv, _ := lite.SchemaVersion(ctx)
	pv, _ := pg.SchemaVersion(ctx)
	if lv != pv || lv != LatestSchema() {
		t.Fatalf("schema versions: SQLite %d, PostgreSQL %d, latest %d", lv, pv, LatestSchema())
	}
}
