package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// appendDays appends one event per day offset, at t0 plus that many days.
func appendDays(t testing.TB, st *Store, days ...int) {
	t.Helper()
	for _, d := range days {
		if err := st.AppendEvent(context.Background(), campaign.Event{At: t0.AddDate(0, 0, d), CampaignID: 1,
			Type: "case.answered", Actor: campaign.System, Detail: map[string]any{"day": d}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPruneAuditKeepsTheChainVerifiable(t *testing.T) {
	ctx := context.Background()
	st, _ := openCampaignStore(t)
	appendDays(t, st, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9) // ids 1..10
	for _, tc := range []struct {
		name        string
		before      time.Time
		appendAfter []int
		removed     int64
		lastID      int64
		entries     int // left, verified
		checkpoints int
	}{
		{"the first four days", t0.AddDate(0, 0, 4), []int{-400}, 4, 4, 7, 1}, // id 11 is old but comes late
		{"nothing older", t0.AddDate(0, 0, 4), nil, 0, 0, 7, 1},
		{"an old entry after a newer one waits", t0.AddDate(0, 0, 5), nil, 1, 5, 6, 2},
		{"everything", t0.AddDate(1, 0, 0), nil, 6, 11, 0, 3},
		{"appends after an empty log chain to the checkpoint", t0.AddDate(0, 0, 11), []int{12, 13}, 0, 0, 2, 3},
		{"and prune again", t0.AddDate(0, 0, 13), nil, 1, 12, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lastHash string
			st.db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = ?`, tc.lastID).Scan(&lastHash)
			removed, cp, err := st.PruneAudit(ctx, tc.before, auditKey)
			if err != nil || removed != tc.removed || cp.LastID != tc.lastID || cp.LastHash != lastHash || cp.EntriesRemoved != removed {
				t.Fatalf("prune = %d, %+v, %v; want %d removed up to %d (%s)", removed, cp, err, tc.removed, tc.lastID, lastHash)
			}
			if removed > 0 && (cp.ID == 0 || len(cp.Signature) != 64 || !cp.At.Equal(st.Now())) {
				t.Errorf("checkpoint = %+v", cp)
			}
			appendDays(t, st, tc.appendAfter...)
			if r := verify(t, st); !r.OK() || r.Entries != tc.entries || r.Checkpoints != tc.checkpoints {
				t.Fatalf("report = %+v, want %d entries and %d checkpoints", r, tc.entries, tc.checkpoints)
			}
		})
	}
	for _, q := range []string{`DELETE FROM audit_log`, `UPDATE audit_checkpoints SET last_id = 0`, `DELETE FROM audit_checkpoints`} {
		if _, err := st.db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s after prunes: err = %v, want the append-only trigger's refusal", q, err)
		}
	}
	var first int64
	if err := st.db.QueryRowContext(ctx, `SELECT MIN(id) FROM audit_log`).Scan(&first); err != nil || first != 13 {
		t.Fatalf("ids restarted after pruning everything: first = %d, %v", first, err)
	}
}

func TestPruneAuditKeys(t *testing.T) {
	ctx := context.Background()
	wrong := []byte("not-the-key-not-the-key-not-the")
	st, _ := openCampaignStore(t)
	appendDays(t, st, 0, 1, 2, 3)
	if _, _, err := st.PruneAudit(ctx, t0.AddDate(0, 0, 2), nil); !errors.Is(err, ErrNoAuditKey) {
		t.Fatalf("prune without a key: err = %v", err)
	}
	// The first prune has nothing to check a key against; the checkpoint
	// it signs fails with the right key.
	if removed, _, err := st.PruneAudit(ctx, t0.AddDate(0, 0, 2), wrong); err != nil || removed != 2 {
		t.Fatalf("prune = %d, %v", removed, err)
	}
	if r := verify(t, st); r.OK() || r.BadCheckpoint != 1 || r.FirstBad != 3 || !strings.Contains(r.Reason, "signature does not match") {
		t.Fatalf("report = %+v, want checkpoint 1's signature bad", r)
	}
	if _, _, err := st.PruneAudit(ctx, t0.AddDate(0, 0, 3), auditKey); err == nil || !strings.Contains(err.Error(), "checkpoint 1") {
		t.Fatalf("prune over a bad checkpoint: err = %v, want a refusal naming it", err)
	}
	if _, err := st.VerifyAudit(ctx, VerifyOptions{}); !errors.Is(err, ErrNoAuditKey) {
		t.Fatalf("verify of a pruned log without a key: err = %v", err)
	}
	if r, err := st.VerifyAudit(ctx, VerifyOptions{Key: wrong}); err != nil || !r.OK() || r.Entries != 2 {
		t.Fatalf("with the key it was signed with: %+v, %v", r, err)
	}
}

func TestPruneAuditTampering(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		stmt                    string
		firstBad, badCheckpoint int64
		reason                  string
	}{
		{"alter the checkpoint", `UPDATE audit_checkpoints SET entries_removed = 1`, 4, 1, "signature"},
		{"delete the checkpoint", `DELETE FROM audit_checkpoints`, 4, 0, "does not link to the start"},
		{"delete the first remaining entry", `DELETE FROM audit_log WHERE id = 4`, 5, 0, "entries 4 to 4 are missing"},
		{"delete more than the prune did", `DELETE FROM audit_log WHERE id <= 5`, 6, 0, "entries 4 to 5 are missing"},
		{"put a removed entry back", `INSERT INTO audit_log (id, at, campaign_id, case_id, type, actor, actor_id, actor_via,
			slack_user, slack_team, detail) VALUES (3, '', 1, 0, 'x', '', '', '', '', '', '{}')`, 3, 1, "entry 3 is still there"},
		{"tamper a removed part before pruning again", `UPDATE audit_log SET detail = '{}' WHERE id = 5`, 5, 0, "content changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := openCampaignStore(t)
			appendDays(t, st, 0, 1, 2, 3, 4, 5)
			if _, _, err := st.PruneAudit(context.Background(), t0.AddDate(0, 0, 3), auditKey); err != nil {
				t.Fatal(err)
			}
			tamper(t, st, tc.stmt)
			r := verify(t, st)
			if r.FirstBad != tc.firstBad || r.BadCheckpoint != tc.badCheckpoint || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("report = %+v, want first bad %d, checkpoint %d (%q)", r, tc.firstBad, tc.badCheckpoint, tc.reason)
			}
			if _, _, err := st.PruneAudit(context.Background(), t0.AddDate(0, 0, 6), auditKey); err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("prune of a tampered log: err = %v, want a refusal (%q)", err, tc.reason)
			}
		})
	}
}

// A database written before migration 0005 keeps its entries as a legacy
// prefix of the chain: counted, not checked, and never extended.
func TestAuditChainLegacyPrefix(t *testing.T) {
	sqliteOnly(t, "a database from before the audit chain; PostgreSQL starts at schema 14")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		if v, _ := strconv.Atoi(base[:4]); v < 5 {
			body, _ := migrations.ReadFile(name)
			stmts = append(stmts, string(body), `INSERT INTO schema_migrations VALUES (`+strconv.Itoa(v)+`, '`+base+`', '')`)
		}
	}
	for i := 1; i <= 3; i++ {
		stmts = append(stmts, `INSERT INTO audit_log (at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user, slack_team, detail)
			VALUES ('2023-01-0`+strconv.Itoa(i)+`T00:00:00Z', 1, 0, 'case.answered', 'a@x.com', '', 'cli', '', '', '{}')`)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	db.Close()
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Now = func() time.Time { return t0 }
	appendDays(t, st, 0, 1)
	if r := verify(t, st); !r.OK() || r.Entries != 5 || r.Legacy != 3 || r.LastID != 5 {
		t.Fatalf("report = %+v, want 3 legacy and 2 chained entries", r)
	}
	if removed, cp, err := st.PruneAudit(ctx, time.Date(2023, 1, 3, 0, 0, 0, 0, time.UTC), auditKey); err != nil || removed != 2 || cp.LastHash != "" {
		t.Fatalf("prune of legacy entries = %d, %+v, %v", removed, cp, err)
	}
	if r := verify(t, st); !r.OK() || r.Entries != 3 || r.Legacy != 1 {
		t.Fatalf("after prune: report = %+v", r)
	}
	tamper(t, st, `INSERT INTO audit_log (at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user, slack_team, detail)
		VALUES ('2023-01-01T00:00:00Z', 1, 0, 'case.answered', 'eve@x.com', '', 'cli', '', '', '{}')`)
	if r := verify(t, st); r.FirstBad != 6 || !strings.Contains(r.Reason, "no hash") {
		t.Fatalf("a hashless entry after the chain began: report = %+v", r)
	}
}

// BenchmarkVerifyAudit1M verifies a log of a million entries, written
// through the store's own batched append.
func BenchmarkVerifyAudit1M(b *testing.B) {
	if testing.Short() {
		b.Skip("large benchmark; skipped with -short")
	}
	const n, batch = 1_000_000, 50_000
	ctx := context.Background()
	st, _ := openCampaignStore(b)
	events := make([]campaign.Event, batch)
	for done := 0; done < n; done += batch {
		for i := range events {
			events[i] = campaign.Event{At: t0.Add(time.Duration(done+i) * time.Second), CampaignID: 1, CaseID: int64(done + i),
				Type: "case.answered", Actor: campaign.Actor{UserID: "00u" + strconv.Itoa(i%5000), Email: "user" + strconv.Itoa(i%5000) + "@x.com",
					Via: "slack", SlackUserID: "U0" + strconv.Itoa(i%5000), SlackTeamID: "T1"},
				Detail: map[string]any{"decision": "keep", "comment": "still needed for on-call", "slack_action_ts": "1762074000.000200"}}
		}
		if err := st.inTx(ctx, func(tx *sqlTx) error { return st.appendEvents(ctx, tx, events...) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := st.VerifyAudit(ctx, VerifyOptions{Key: auditKey})
		if err != nil || !r.OK() || r.Entries != n {
			b.Fatalf("report = %+v, %v", r, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
