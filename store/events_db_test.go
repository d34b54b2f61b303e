package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/hookevent"
)

// The events database is a private file beside the main one.
func TestEventsDatabaseFile(t *testing.T) {
	sqliteOnly(t, "the events database is a file of its own")
	path := filepath.Join(t.TempDir(), "attest.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, want := EventsPath(path), path+"-events.db"; got != want {
		t.Fatalf("EventsPath = %q; want %q", got, want)
	}
	fi, err := os.Stat(EventsPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("events database mode = %v; want 0600", mode)
	}
	var mode string
	if err := st.events.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("events journal mode = %q, %v; want wal", mode, err)
	}
}

// A delivery is stored while another transaction holds the main
// database's write lock: the events database has a lock of its own.
func TestSaveHookEventsWhileMainLocked(t *testing.T) {
	sqliteOnly(t, "SQLite locks the whole database file")
	ctx := context.Background()
	st := openTemp(t)
	conn, err := st.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE held (x)`); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	if n, err := st.SaveHookEvents(sctx, []hookevent.Event{hookEvent(t, "locked", "x", now)}); err != nil || n != 1 {
		t.Fatalf("SaveHookEvents under the main write lock = %d, %v; want 1 stored", n, err)
	}
	if ev, err := st.HookEvent(ctx, "locked"); err != nil || ev.State != hookevent.StatePending {
		t.Fatalf("stored event = %+v, %v", ev, err)
	}
}

// Events an older attest kept in the main database move to the events
// database with their state, once, and a move interrupted after the copy
// (the rows still in the main database) keeps the copy already moved.
func TestLegacyHookEventsMoved(t *testing.T) {
	sqliteOnly(t, "events kept in the main SQLite file by older versions")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "attest.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// What an older attest left: one event of each state, and more than a
	// batch of pending ones.
	legacy := map[string]string{"p": hookevent.StatePending, "w": hookevent.StateProcessing, "d": hookevent.StateDone,
		"f": hookevent.StateFailed, "i": hookevent.StateIgnored}
	for uuid, state := range legacy {
		if _, err := st.db.ExecContext(ctx, `INSERT INTO hook_events (uuid, received_at, raw, state, attempts, claimed_at)
			VALUES (?, '2026-11-24T09:00:00.000000000Z', ?, ?, 2, '2026-11-24T09:00:01.000000000Z')`,
			uuid, `{"uuid":"`+uuid+`","eventType":"x"}`, state); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < legacyBatch+7; i++ {
		uuid := fmt.Sprintf("bulk-%04d", i)
		if _, err := st.db.ExecContext(ctx, `INSERT INTO hook_events (uuid, received_at, raw) VALUES (?, '', ?)`,
			uuid, `{"uuid":"`+uuid+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	// A crash after the copy of "d": it is in both, done in the events
	// database, and the events database's copy must win.
	if _, err := st.events.ExecContext(ctx, `INSERT INTO hook_events (uuid, received_at, raw, state) VALUES ('d', '', '{"uuid":"d"}', 'done')`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, `UPDATE hook_events SET state = 'pending' WHERE uuid = 'd'`); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for round := 0; round < 2; round++ { // a second Open moves nothing more
		st, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var left int
		if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM hook_events`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("round %d: %d events left in the main database, %v", round, left, err)
		}
		counts, err := st.HookEventCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{hookevent.StatePending: legacyBatch + 7 + 1, hookevent.StateProcessing: 1, hookevent.StateDone: 1,
			hookevent.StateFailed: 1, hookevent.StateIgnored: 1}
		for state, n := range want {
			if counts[state] != n {
				t.Fatalf("round %d: counts = %v; want %v", round, counts, want)
			}
		}
		ev, err := st.HookEvent(ctx, "w")
		if err != nil || ev.Attempts != 2 || ev.State != hookevent.StateProcessing {
			t.Fatalf("moved event w = %+v, %v; want processing after 2 attempts", ev, err)
		}
		// Its lease moved with it: claimable only once the lease ran out.
		lease := time.Date(2026, 11, 24, 9, 0, 1, 0, time.UTC).Add(hookevent.Lease)
		got, err := st.ClaimHookEvents(ctx, legacyBatch+20, lease.Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range got {
			if ev.UUID == "w" {
				t.Fatalf("round %d: claimed w inside its lease", round)
			}
			if err := st.FinishHookEvent(ctx, ev.UUID, hookevent.StatePending, ""); err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
	}
}

// /metrics counts hook events by state from the events database.
func TestGaugesCountHookEvents(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	if _, err := st.SaveHookEvents(ctx, []hookevent.Event{hookEvent(t, "g1", "x", now), hookEvent(t, "g2", "x", now)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimHookEvents(ctx, 1, now); err != nil {
		t.Fatal(err)
	}
	g, err := st.ReadGauges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g.HookEventsByState[hookevent.StatePending] != 1 || g.HookEventsByState[hookevent.StateProcessing] != 1 {
		t.Fatalf("hook event gauges = %v; want 1 pending, 1 processing", g.HookEventsByState)
	}
}
