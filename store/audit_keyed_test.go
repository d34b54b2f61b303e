package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// rehash recomputes the hash and prev_hash of every entry with h, as
// someone who can write the database does after an edit, and returns the
// new head hash.
func rehash(t testing.TB, st *Store, h *chainHasher) string {
	t.Helper()
	rows, err := st.db.Query(`SELECT id, ` + strings.Join(chainColumnNames, ", ") + ` FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type update struct {
		id         int64
		prev, hash string
	}
	var updates []update
	prev := ""
	for rows.Next() {
		var id int64
		fields := make([]string, len(chainColumnNames))
		dest := []any{&id}
		for i := range fields {
			dest = append(dest, &fields[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		fields[len(fields)-1] = prev
		prev = string(entryHash(h, id, fields))
		updates = append(updates, update{id, fields[len(fields)-1], prev})
	}
	rows.Close()
	tamper(t, st)
	for _, u := range updates {
		if _, err := st.db.Exec(`UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?`, u.prev, u.hash, u.id); err != nil {
			t.Fatal(err)
		}
	}
	return prev
}

// verifyWith runs VerifyAudit and fails the test on error.
func verifyWith(t testing.TB, st *Store, o VerifyOptions) AuditReport {
	t.Helper()
	r, err := st.VerifyAudit(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A keyed entry's hash is the HMAC-SHA256 under the key of the documented
// encoding, with its own version.
func TestKeyedEntryHashEncoding(t *testing.T) {
	fields := []string{"2026-11-02T09:00:00Z", "5", "9", "plan.approve", "a@x.com", "", "cli", "", "", "{}", "", "", "ab"}
	enc := "20:attest-audit-hmac-v1,2:12,20:2026-11-02T09:00:00Z,1:5,1:9,12:plan.approve,7:a@x.com,0:,3:cli,0:,0:,2:{},0:,0:,2:ab,"
	m := hmac.New(sha256.New, auditKey)
	m.Write([]byte(enc))
	if got := string(entryHash(keyedHasher(auditKey), 12, fields)); got != hex.EncodeToString(m.Sum(nil)) {
		t.Fatalf("keyed hash = %s, want HMAC-SHA256(key, %s)", got, enc)
	}
	var plain chainHasher
	if string(entryHash(&plain, 12, fields)) == string(entryHash(keyedHasher(auditKey), 12, fields)) {
		t.Fatal("keyed and unkeyed hashes agree")
	}
}

func TestKeyedChainVerifies(t *testing.T) {
	st, n := writeLog(t, auditKey)
	r := verifyWith(t, st, VerifyOptions{Key: auditKey, RequireKeyed: true})
	if !r.OK() || !r.Keyed || r.KeyedFrom != 1 || r.Entries != int(n) || r.Total != n || r.LastID != n {
		t.Fatalf("report = %+v, want %d keyed entries", r, n)
	}
	if _, err := st.VerifyAudit(context.Background(), VerifyOptions{}); !errors.Is(err, ErrNoAuditKey) {
		t.Fatalf("verify of a keyed chain without the key: err = %v, want ErrNoAuditKey", err)
	}
	r = verifyWith(t, st, VerifyOptions{Key: []byte("not-the-key-not-the-key-not-the")})
	if r.OK() || !strings.Contains(r.Reason, "audit_chain_mode: signature") {
		t.Fatalf("verify with another key: report = %+v", r)
	}
}

// What someone who can write the database but has not the key does to a
// keyed chain. On the unkeyed chain of before (writeRealisticLog), the
// recomputed edit, the removal of the newest or of all entries and the
// blanked hashes behind an extended legacy prefix all verified.
func TestKeyedChainDetectsRewrites(t *testing.T) {
	wrong := keyedHasher([]byte("guessed-key-guessed-key-guessed"))
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, st *Store)
		reason string
		bad    int64 // the first bad entry, 0 for a problem of the whole chain
		opens  bool  // a writer with the key still opens the tampered store
	}{
		{"edit an approval and recompute the chain", func(t *testing.T, st *Store) {
			tamper(t, st, `UPDATE audit_log SET actor = 'mallory@x.com' WHERE type = 'plan.approve'`)
			rehash(t, st, &chainHasher{})
		}, "hashed without the audit key", 1, false},
		{"recompute with a guessed key", func(t *testing.T, st *Store) {
			tamper(t, st, `UPDATE audit_log SET actor = 'mallory@x.com' WHERE id = 8`)
			rehash(t, st, wrong)
		}, "content changed: the keyed hash", 1, false},
		{"delete the newest entries", func(t *testing.T, st *Store) {
			tamper(t, st, `DELETE FROM audit_log WHERE id >= 7`)
		}, "entries 7 to 8 were removed", 0, false},
		{"delete every entry", func(t *testing.T, st *Store) {
			tamper(t, st, `DELETE FROM audit_log`)
		}, "entries 1 to 8 were removed", 0, false},
		{"append an unkeyed entry", func(t *testing.T, st *Store) {
			var prev string
			st.db.QueryRow(`SELECT hash FROM audit_log WHERE id = 8`).Scan(&prev)
			fields := []string{"2026-11-02T10:00:00Z", "1", "0", "plan.approve", "eve@x.com", "", "cli", "", "", "{}", "", "", prev}
			var h chainHasher
			tamper(t, st, fmt.Sprintf(`INSERT INTO audit_log (id, at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user,
				slack_team, detail, payload_sha256, action_ts, prev_hash, hash) VALUES (9, '%s', 1, 0, 'plan.approve', 'eve@x.com', '', 'cli',
				'', '', '{}', '', '', '%s', '%s')`, fields[0], prev, entryHash(&h, 9, fields)))
		}, "hashed without the audit key", 9, false},
		{"blank every hash", func(t *testing.T, st *Store) {
			tamper(t, st, `UPDATE audit_log SET hash = '', prev_hash = ''`)
		}, "no hash, but the chain is keyed", 1, false},
		{"one INSERT makes every entry legacy", func(t *testing.T, st *Store) {
			tamper(t, st, `INSERT INTO audit_chain_start (last_legacy_id) VALUES (1000)`, `UPDATE audit_log SET hash = '', prev_hash = ''`)
		}, "audit_chain_start has 2 rows", 0, false},
		{"the legacy prefix rewritten in place", func(t *testing.T, st *Store) {
			tamper(t, st, `UPDATE audit_chain_start SET last_legacy_id = 1000`, `UPDATE audit_log SET hash = '', prev_hash = ''`)
		}, "the signed mode at 0", 0, false},
		// Nothing in the database tells this from a chain never keyed: a
		// writer with the key keys it again, and only the key at verify
		// (or a head recorded outside) shows it.
		{"the mode record removed and the chain recomputed unkeyed", func(t *testing.T, st *Store) {
			tamper(t, st, `DELETE FROM audit_chain_mode`, `DELETE FROM audit_chain_head`)
			rehash(t, st, &chainHasher{})
		}, "the chain is not keyed, yet the audit key is set", 0, true},
		{"the mode record removed", func(t *testing.T, st *Store) {
			tamper(t, st, `DELETE FROM audit_chain_mode`, `DELETE FROM audit_chain_head`)
		}, "the chain is not keyed, yet the audit key is set", 0, false},
		{"the newest entries and the signed head removed", func(t *testing.T, st *Store) {
			tamper(t, st, `DELETE FROM audit_log WHERE id >= 7`, `DELETE FROM audit_chain_head`)
		}, "signed head of the keyed chain is missing", 0, false},
		{"a second mode record", func(t *testing.T, st *Store) {
			tamper(t, st, `INSERT INTO audit_chain_mode (keyed_from, last_legacy_id, at, signature) VALUES (100, 0, '', '')`)
		}, "audit_chain_mode has 2 rows", 0, true},
		{"the signed head altered", func(t *testing.T, st *Store) {
			tamper(t, st, `UPDATE audit_chain_head SET last_id = 7`)
		}, "audit_chain_head: signature", 0, false},
		{"the signed head removed", func(t *testing.T, st *Store) {
			tamper(t, st, `DELETE FROM audit_chain_head`)
		}, "signed head of the keyed chain is missing", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := writeLog(t, auditKey)
			tc.tamper(t, st)
			r := verifyWith(t, st, VerifyOptions{Key: auditKey, RequireKeyed: true})
			if r.OK() || r.FirstBad != tc.bad || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("report = %+v, want a failure at entry %d: %q", r, tc.bad, tc.reason)
			}
			// A writer with the key refuses to extend, and so launder, a
			// tampered chain, but for what it cannot tell.
			st2, err := Open(context.Background(), st.target, WithAuditKey(auditKey))
			if err == nil {
				st2.Close()
			}
			if (err == nil) != tc.opens {
				t.Errorf("Open with the key = %v, want it to open: %v", err, tc.opens)
			}
		})
	}
}

// Only a head recorded outside the database catches an old copy of the
// signed head put back with the entries after it removed, or a chain
// rebuilt from nothing.
func TestVerifyExpectations(t *testing.T) {
	st, n := writeLog(t, auditKey)
	head := verifyWith(t, st, VerifyOptions{Key: auditKey}).LastHash
	var mid string
	st.db.QueryRow(`SELECT hash FROM audit_log WHERE id = 4`).Scan(&mid)
	for _, tc := range []struct {
		name   string
		o      VerifyOptions
		reason string
	}{
		{"the head", VerifyOptions{ExpectHead: head, ExpectCount: n}, ""},
		{"an older head", VerifyOptions{ExpectHead: mid, ExpectCount: 4}, ""},
		{"an unknown head", VerifyOptions{ExpectHead: strings.Repeat("0", 64)}, "the recorded head 0000"},
		{"more entries", VerifyOptions{ExpectCount: n + 1}, fmt.Sprintf("stands for %d entries, fewer than the %d", n, n+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Key = auditKey
			r := verifyWith(t, st, tc.o)
			if r.OK() != (tc.reason == "") || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("report = %+v, want %q", r, tc.reason)
			}
		})
	}
	// The replay: keep the head row of entry 6, append, then delete 7 and
	// 8 and put the old head row back.
	var old struct {
		id         int64
		hash, sign string
	}
	st.db.QueryRow(`SELECT hash FROM audit_log WHERE id = 6`).Scan(&old.hash)
	old.id, old.sign = 6, signHead(auditKey, 6, old.hash) // as read from a copy taken at entry 6
	tamper(t, st, `DELETE FROM audit_log WHERE id >= 7`,
		fmt.Sprintf(`UPDATE audit_chain_head SET last_id = %d, last_hash = '%s', signature = '%s'`, old.id, old.hash, old.sign))
	if r := verifyWith(t, st, VerifyOptions{Key: auditKey}); !r.OK() {
		t.Fatalf("the replayed head should pass without an outside record: %+v", r)
	}
	r := verifyWith(t, st, VerifyOptions{Key: auditKey, ExpectHead: head})
	if r.OK() || !strings.Contains(r.Reason, head) {
		t.Fatalf("with --expect-head: report = %+v, want the head named", r)
	}
	if r := verifyWith(t, st, VerifyOptions{Key: auditKey, ExpectCount: n}); r.OK() {
		t.Fatalf("with --expect-count: report = %+v", r)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	st, _ := openCampaignStore(t)
	if r := verifyWith(t, st, VerifyOptions{}); r.OK() || !strings.Contains(r.Reason, "the audit log is empty") {
		t.Fatalf("empty log: report = %+v, want a failure", r)
	}
	if r := verifyWith(t, st, VerifyOptions{AllowEmpty: true}); !r.OK() {
		t.Fatalf("empty log allowed: report = %+v", r)
	}
	unkeyed, _ := writeRealisticLog(t)
	tamper(t, unkeyed, `DELETE FROM audit_log`)
	if r := verifyWith(t, unkeyed, VerifyOptions{}); r.OK() || r.Entries != 0 {
		t.Fatalf("every entry deleted: report = %+v, want a failure", r)
	}
}

// An unkeyed chain is keyed from the entry after its head, and what was
// there before is anchored by the signed head and the first keyed entry's
// link.
func TestKeyingAnExistingChain(t *testing.T) {
	ctx := context.Background()
	st, n := writeRealisticLog(t)
	if err := st.useAuditKey(ctx, auditKey); err != nil {
		t.Fatal(err)
	}
	if r := verifyWith(t, st, VerifyOptions{Key: auditKey, RequireKeyed: true}); !r.OK() || r.KeyedFrom != n+1 || r.Entries != int(n) {
		t.Fatalf("keyed, nothing appended yet: report = %+v", r)
	}
	appendDays(t, st, 10, 11)
	r := verifyWith(t, st, VerifyOptions{Key: auditKey, RequireKeyed: true})
	if !r.OK() || !r.Keyed || r.KeyedFrom != n+1 || r.LastID != n+2 {
		t.Fatalf("report = %+v, want keyed from %d", r, n+1)
	}
	// Rewriting the unkeyed part breaks the first keyed entry's link.
	tamper(t, st, `UPDATE audit_log SET actor = 'mallory@x.com' WHERE id = 2`)
	rehash(t, st, &chainHasher{})
	if r := verifyWith(t, st, VerifyOptions{Key: auditKey, RequireKeyed: true}); r.OK() || r.FirstBad != n+1 {
		t.Fatalf("rewritten unkeyed prefix: report = %+v, want entry %d bad", r, n+1)
	}
	if _, err := Open(ctx, st.target, WithAuditKey([]byte("another-key-another-key-another"))); !errors.Is(err, ErrAuditKeyMismatch) {
		t.Fatalf("Open with another key: err = %v, want ErrAuditKeyMismatch", err)
	}
}

// A store without the key cannot extend a keyed chain: it would write
// entries that verify as a downgrade.
func TestUnkeyedWriterRefused(t *testing.T) {
	ctx := context.Background()
	st, _ := writeLog(t, auditKey)
	plain, err := Open(ctx, st.target)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	err = plain.AppendEvent(ctx, campaign.Event{CampaignID: 1, Type: "case.answered", Actor: campaign.System})
	if !errors.Is(err, ErrNoAuditKey) || !strings.Contains(err.Error(), "keyed from entry 1") {
		t.Fatalf("append without the key: err = %v", err)
	}
}

// Pruning a keyed chain keeps it verifiable, down to nothing left.
func TestPruneKeyedChain(t *testing.T) {
	ctx := context.Background()
	st, _ := openCampaignStore(t)
	if err := st.useAuditKey(ctx, auditKey); err != nil {
		t.Fatal(err)
	}
	appendDays(t, st, 0, 1, 2, 3)
	head := verifyWith(t, st, VerifyOptions{Key: auditKey}).LastHash
	for _, before := range []int{2, 10} {
		if _, _, err := st.PruneAudit(ctx, t0.AddDate(0, 0, before), auditKey); err != nil {
			t.Fatal(err)
		}
		r := verifyWith(t, st, VerifyOptions{Key: auditKey, RequireKeyed: true, ExpectHead: head, ExpectCount: 4})
		if !r.OK() || r.Total != 4 || r.HeadAt != 4 {
			t.Fatalf("after pruning before day %d: report = %+v", before, r)
		}
	}
	appendDays(t, st, 20)
	if r := verifyWith(t, st, VerifyOptions{Key: auditKey, RequireKeyed: true}); !r.OK() || r.Total != 5 || r.LastID != 5 {
		t.Fatalf("append after pruning everything: report = %+v", r)
	}
}

// The path of a keyed store, for tests that reopen it.
func keyedPath(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "attest.db")
	st, err := Open(context.Background(), target(t, p), WithAuditKey(auditKey))
	if err != nil {
		t.Fatal(err)
	}
	appendDays(t, st, 0, 1, 2)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
