package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

var auditKey = []byte("0123456789abcdef0123456789abcdef")

// slackDetail is what the Slack handlers put in an event's Detail.
var slackDetail = map[string]any{"decision": "keep", "slack_action_ts": "1762074000.000200",
	"payload_sha256": strings.Repeat("ab", 32)}

// writeRealisticLog appends audit events through every writer of the
// store, and returns the store and how many entries it holds (ids 1..n).
func writeRealisticLog(t testing.TB) (*Store, int64) {
	t.Helper()
	return writeLog(t, nil)
}

// writeLog is writeRealisticLog into a store keyed with key, unless nil.
func writeLog(t testing.TB, key []byte) (*Store, int64) {
	t.Helper()
	return writeLogAt(t, key, target(t, t.TempDir()+"/attest.db"))
}

// writeLogAt is writeLog into the store at a given path or URL.
func writeLogAt(t testing.TB, key []byte, where string) (*Store, int64) {
	t.Helper()
	ctx := context.Background()
	st, snap := openCampaignStoreAt(t, where)
	if key != nil {
		if err := st.useAuditKey(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	cases := sampleCases()
	c := createCampaign(t, st, snap, cases) // 1
	answered := cases[0]
	answered.ReviewerDecision, answered.DecidedBy = campaign.DecisionRevoke, "b@x.com"
	if err := st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &answered, ExpectReviewer: "00u2"}}, []campaign.Event{
		{CampaignID: c.ID, CaseID: answered.ID, Type: "case.answered", Actor: owner, Detail: map[string]any{"decision": "revoke"}},
		{CampaignID: c.ID, CaseID: cases[1].ID, Type: "case.viewed", Actor: campaign.System},
	}); err != nil { // 2, 3
		t.Fatal(err)
	}
	if _, err := st.MarkReminder(ctx, c.ID, "00u1", t0.Add(24*time.Hour), campaign.Event{Type: "reminder.sent", Actor: campaign.System}); err != nil {
		t.Fatal(err) // 4
	}
	if err := st.AppendEvent(ctx, campaign.Event{CampaignID: c.ID, CaseID: cases[2].ID, Type: "case.answered",
		Actor:  campaign.Actor{UserID: "00u2", Email: "m@x.com", Via: "slack", SlackUserID: "U2", SlackTeamID: "T1"},
		Detail: slackDetail}); err != nil {
		t.Fatal(err) // 5
	}
	stage2 := *c
	stage2.State = campaign.StateStage2
	if err := st.MoveCampaign(ctx, &stage2, campaign.StateStage1, campaign.Event{Type: "campaign.stage2", Actor: campaign.System,
		Detail: map[string]any{"note": "stage 1 ended"}}); err != nil {
		t.Fatal(err) // 6
	}
	closed := stage2
	closed.State = campaign.StateClosed
	outcomes := map[int64]string{cases[0].ID: campaign.OutcomeRevoked, cases[1].ID: campaign.OutcomeKept, cases[2].ID: campaign.OutcomeKept}
	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage2, outcomes, nil, nil, campaign.Event{Type: "campaign.closed", Actor: owner}); err != nil {
		t.Fatal(err) // 7
	}
	for i := 0; i < 2; i++ { // the second click appends nothing
		if _, err := st.AddApproval(ctx, c.ID, campaign.Approval{Approver: "ann@x.com", Decision: "approve"},
			campaign.Event{Type: "plan.approve", Actor: campaign.Actor{Email: "ann@x.com", Via: "slack"}}); err != nil {
			t.Fatal(err) // 8
		}
	}
	return st, 8
}

// verify runs VerifyAudit with auditKey and fails the test on error.
func verify(t testing.TB, st *Store) AuditReport {
	t.Helper()
	r, err := st.VerifyAudit(context.Background(), VerifyOptions{Key: auditKey})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tamper runs statements with the append-only triggers dropped, as someone
// with write access to the database file could.
func tamper(t testing.TB, st *Store, stmts ...string) {
	t.Helper()
	drop := []string{"DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete",
		"DROP TRIGGER IF EXISTS audit_checkpoints_no_update", "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete",
		"DROP TRIGGER IF EXISTS audit_chain_start_no_update", "DROP TRIGGER IF EXISTS audit_chain_start_no_delete",
		"DROP TRIGGER IF EXISTS audit_chain_mode_no_update", "DROP TRIGGER IF EXISTS audit_chain_mode_no_delete"}
	if testBackend == "postgres" {
		drop = nil
		for _, table := range []string{"audit_log", "audit_checkpoints", "audit_chain_start", "audit_chain_mode"} {
			drop = append(drop, "ALTER TABLE IF EXISTS "+table+" DISABLE TRIGGER USER")
		}
	}
	for _, q := range append(drop, stmts...) {
		if _, err := st.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestAuditChainIntactAfterWrites(t *testing.T) {
	ctx := context.Background()
	st, n := writeRealisticLog(t)
	r := verify(t, st)
	if !r.OK() || r.Entries != int(n) || r.LastID != n || r.Legacy != 0 || r.Checkpoints != 0 {
		t.Fatalf("report = %+v, want %d good entries", r, n)
	}
	var head, actionTS, payload string
	if err := st.db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = ?`, n).Scan(&head); err != nil || r.LastHash != head {
		t.Fatalf("head = %q, stored %q (%v)", r.LastHash, head, err)
	}
	if err := st.db.QueryRowContext(ctx, `SELECT action_ts, payload_sha256 FROM audit_log WHERE id = 5`).Scan(&actionTS, &payload); err != nil ||
		actionTS != slackDetail["slack_action_ts"] || payload != slackDetail["payload_sha256"] {
		t.Fatalf("slack columns = %q, %q (%v)", actionTS, payload, err)
	}
	events, err := st.Events(ctx, 1)
	if err != nil || len(events) != int(n) || events[4].Detail["slack_action_ts"] != slackDetail["slack_action_ts"] {
		t.Fatalf("events keep the slack keys in detail: %+v, %v", events, err)
	}
}

// The encoding is documented so others can recompute hashes: this spells
// one out by hand.
func TestEntryHashEncoding(t *testing.T) {
	fields := []string{"2026-11-02T09:00:00Z", "5", "9", "case.answered", "a@x.com", "00u1", "slack", "U1", "T1",
		`{"decision":"keep"}`, "", "1762074000.000200", ""}
	want := "15:attest-audit-v1,2:12,20:2026-11-02T09:00:00Z,1:5,1:9,13:case.answered,7:a@x.com,4:00u1,5:slack,2:U1,2:T1," +
		`19:{"decision":"keep"},0:,17:1762074000.000200,0:,`
	sum := sha256.Sum256([]byte(want))
	var h chainHasher
	if got := string(entryHash(&h, 12, fields)); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash = %s, want sha256(%s)", got, want)
	}
	if got := string(entryHash(&h, 12, [][]byte{[]byte("x")})); got == hex.EncodeToString(sum[:]) {
		t.Fatal("a different entry hashes the same")
	}
}

func TestVerifyAuditDetectsTampering(t *testing.T) {
	const allButID = "at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user, slack_team, detail, " +
		"payload_sha256, action_ts, prev_hash, hash"
	swap := func(a, b int) []string {
		return []string{
			fmt.Sprintf("CREATE TEMP TABLE swapped AS SELECT * FROM audit_log WHERE id IN (%d, %d)", a, b),
			fmt.Sprintf("UPDATE audit_log SET (%s) = (SELECT %s FROM swapped s WHERE s.id = %d + %d - audit_log.id) WHERE id IN (%d, %d)",
				allButID, allButID, a, b, a, b),
		}
	}
	for _, tc := range []struct {
		name     string
		stmts    func(st *Store) []string
		firstBad int64
		reason   string
	}{
		{"change detail", func(*Store) []string {
			return []string{`UPDATE audit_log SET detail = '{"decision":"keep"}' WHERE id = 2`}
		}, 2, "content changed"},
		{"change actor", func(*Store) []string { return []string{`UPDATE audit_log SET actor = 'mallory@x.com' WHERE id = 7`} }, 7, "content changed"},
		{"change slack evidence", func(*Store) []string { return []string{`UPDATE audit_log SET action_ts = '1' WHERE id = 5`} }, 5, "content changed"},
		{"delete a middle entry", func(*Store) []string { return []string{`DELETE FROM audit_log WHERE id = 4`} }, 5, "entries 4 to 4 are missing"},
		{"delete the first entry", func(*Store) []string { return []string{`DELETE FROM audit_log WHERE id = 1`} }, 2, "does not link to the start"},
		{"swap two entries' content", func(*Store) []string { return swap(3, 6) }, 3, "content changed"},
		{"swap two entries' ids", func(*Store) []string {
			return []string{`UPDATE audit_log SET id = -3 WHERE id = 3`, `UPDATE audit_log SET id = 3 WHERE id = 6`, `UPDATE audit_log SET id = 6 WHERE id = -3`}
		}, 3, "content changed"},
		{"alter an entry and recompute its hash", func(st *Store) []string {
			var h chainHasher
			var prev string
			st.db.QueryRow(`SELECT prev_hash FROM audit_log WHERE id = 4`).Scan(&prev)
			fields := []string{"2020-01-01T00:00:00Z", "1", "0", "reminder.sent", "", "", "system", "", "", "{}", "", "", prev}
			return []string{fmt.Sprintf(`UPDATE audit_log SET at = '%s', hash = '%s' WHERE id = 4`, fields[0], entryHash(&h, 4, fields))}
		}, 5, "does not link to entry 4"},
		{"blank a hash", func(*Store) []string { return []string{`UPDATE audit_log SET hash = '', prev_hash = '' WHERE id = 1`} }, 1, "no hash"},
		{"insert an entry by hand", func(*Store) []string {
			return []string{`INSERT INTO audit_log (id, at, campaign_id, case_id, type, actor, actor_id, actor_via, slack_user, slack_team, detail)
				SELECT MAX(id) + 1, '2026-11-02T09:00:00Z', 1, 0, 'plan.approve', 'eve@x.com', '', 'cli', '', '', '{}' FROM audit_log`}
		}, 9, "no hash"},
		// Removing the newest entries leaves a shorter valid chain: only a
		// head recorded elsewhere (LastID, LastHash) shows it.
		{"truncate the tail is not detected", func(*Store) []string { return []string{`DELETE FROM audit_log WHERE id >= 7`} }, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, n := writeRealisticLog(t)
			tamper(t, st, tc.stmts(st)...)
			r := verify(t, st)
			if r.FirstBad != tc.firstBad || !strings.Contains(r.Reason, tc.reason) || r.OK() != (tc.firstBad == 0) {
				t.Fatalf("report = %+v, want first bad %d (%q)", r, tc.firstBad, tc.reason)
			}
			if tc.firstBad != 0 && (r.LastID >= tc.firstBad || !strings.HasPrefix(r.Reason, fmt.Sprintf("entry %d: ", tc.firstBad))) {
				t.Errorf("report = %+v, want a head before entry %d and a reason naming it", r, tc.firstBad)
			}
			if tc.firstBad == 0 && r.LastID == n {
				t.Errorf("truncated log reports the old head %d", n)
			}
		})
	}
}

// Writers on separate connections append at once; SQLite's write lock
// (BEGIN IMMEDIATE) serialises them, so the chain never forks.
func TestAuditChainConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, sampleCases())
	const writers, each = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ev := campaign.Event{CampaignID: c.ID, Type: "case.answered", Actor: campaign.System, Detail: map[string]any{"w": w, "i": i}}
				var err error
				switch i % 3 {
				case 0:
					err = st.AppendEvent(ctx, ev)
				case 1:
					err = st.UpdateCases(ctx, nil, []campaign.Event{ev, ev})
				default:
					_, err = st.MarkReminder(ctx, c.ID, fmt.Sprintf("w%d-%d", w, i), t0, ev)
				}
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var count int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if r := verify(t, st); !r.OK() || r.Entries != count || r.LastID != int64(count) {
		t.Fatalf("report = %+v, want %d good entries", r, count)
	}
}

func TestVerifyAuditReportsProgress(t *testing.T) {
	st, n := writeRealisticLog(t)
	defer func(every int) { progressEvery = every }(progressEvery)
	progressEvery = 3
	var got []int
	r, err := st.VerifyAudit(context.Background(), VerifyOptions{Progress: func(done int) { got = append(got, done) }})
	if err != nil || !r.OK() || r.Entries != int(n) || fmt.Sprint(got) != "[3 6]" {
		t.Fatalf("progress = %v, report = %+v, %v", got, r, err)
	}
}
