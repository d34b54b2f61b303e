package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// An SQLite store belongs to one process: it always leads.
func TestLeaderSQLiteAlwaysLeads(t *testing.T) {
	if testBackend != "sqlite" {
		t.Skip("the PostgreSQL election is TestLeaderElection")
	}
	st := openTemp(t)
	l := st.Leader()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	waitFor(t, "leading", l.Leading)
	cancel()
	if err := <-done; err != nil || l.Leading() {
		t.Fatalf("after stop: leading %v, err %v", l.Leading(), err)
	}
}

// Of replicas on one PostgreSQL database exactly one leads; when the
// leader stops, or its session is killed by the server, another takes
// over within the retry period.
func TestLeaderElection(t *testing.T) {
	if testBackend != "postgres" {
		t.Skip("PostgreSQL only: SQLite has one process")
	}
	ctx := context.Background()
	where := target(t, t.TempDir()+"/attest.db")
	type replica struct {
		st     *Store
		l      *Leader
		cancel context.CancelFunc
		done   chan error
		mu     sync.Mutex
		lost   int // times it stopped leading
	}
	start := func() *replica {
		st, err := Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		r := &replica{st: st, l: st.Leader(), done: make(chan error, 1)}
		r.l.Retry, r.l.Check = 100*time.Millisecond, 100*time.Millisecond
		r.l.OnChange = func(leading bool, _ error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if !leading {
				r.lost++
			}
		}
		var c context.Context
		c, r.cancel = context.WithCancel(ctx)
		go func() { r.done <- r.l.Run(c) }()
		// Before the store closes (cleanups run last first): a pool
		// closes only once its connections are back.
		t.Cleanup(func() {
			r.cancel()
			<-r.done
		})
		return r
	}
	rs := []*replica{start(), start(), start()}
	leader := func() int {
		n, who := 0, -1
		for i, r := range rs {
			if r.l.Leading() {
				n, who = n+1, i
			}
		}
		if n > 1 {
			t.Fatalf("%d replicas lead at once", n)
		}
		return who
	}
	waitFor(t, "a leader", func() bool { return leader() >= 0 })
	first := leader()

	// The leader stops cleanly: another takes over.
	rs[first].cancel()
	<-rs[first].done
	rs[first].done <- nil // for the cleanup
	waitFor(t, "a second leader", func() bool { w := leader(); return w >= 0 && w != first })
	second := leader()

	// The server kills the leader's session (as when its machine dies and
	// keepalives run out): it stops leading, and another takes over.
	var pid int
	if err := rs[second].st.db.QueryRowContext(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND ((classid::bigint << 32) | objid::bigint) = ?`, rs[second].st.db.lockKeys.leader).Scan(&pid); err != nil {
		t.Fatalf("find the leader's session: %v", err)
	}
	if _, err := rs[second].st.db.ExecContext(ctx, `SELECT pg_terminate_backend(?)`, pid); err != nil {
		t.Fatal(err)
	}
	killed := rs[second]
	waitFor(t, "the killed session's replica to stop leading, and a leader again", func() bool {
		killed.mu.Lock()
		lost := killed.lost
		killed.mu.Unlock()
		return lost > 0 && leader() >= 0
	})
	for _, r := range rs {
		r.cancel()
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 15 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
