package store

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// Leader elects one replica among those sharing a PostgreSQL database to
// run the work that must run once (the minute tick: stage ends,
// escalations, reminders, scheduled launches, sweeps, removals; scheduled
// syncs; the Slack user map). The leader holds a session advisory lock on
// a connection of its own: PostgreSQL releases it when that session ends,
// so when the leader's process dies (its connection closes) another
// replica, trying every Retry, takes over within Retry; when its machine
// or network dies, the server notices through TCP keepalives on that
// session (about 20 s) and the leader, whose check fails, stops leading
// itself. An SQLite store belongs to one process, which always leads.
type Leader struct {
	st *Store
	// Retry is how often a follower tries to take the lead (default 5 s).
	Retry time.Duration
	// Check is how often the leader checks that its session is alive
	// (default 5 s); a failed check ends its leadership at once.
	Check time.Duration
	// OnChange, when set, is called when this replica starts or stops
	// leading.
	OnChange func(leading bool, err error)

	leading atomic.Bool
}

// Leader returns the store's leader election; Run it.
func (s *Store) Leader() *Leader { return &Leader{st: s} }

// Leading reports whether this replica leads now.
func (l *Leader) Leading() bool { return l.leading.Load() }

// Run takes part in the election until ctx ends: it leads whenever it
// holds the lock, and gives the lock up on return.
func (l *Leader) Run(ctx context.Context) error {
	if l.Retry <= 0 {
		l.Retry = 5 * time.Second
	}
	if l.Check <= 0 {
		l.Check = 5 * time.Second
	}
	if !l.st.Shared() {
		l.set(true, nil)
		<-ctx.Done()
		l.set(false, nil)
		return nil
	}
	for ctx.Err() == nil {
		err := l.session(ctx)
		l.set(false, err)
		if ctx.Err() != nil {
			break
		}
		wait(ctx, l.Retry)
	}
	return nil
}

// session opens a connection and, on it, tries for the lock every Retry;
// once it holds the lock it leads until the connection fails or ctx ends.
func (l *Leader) session(ctx context.Context) error {
	conn, err := l.st.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The server drops this session (and the lock) about 20 s after the
	// network to this process goes silent, instead of after hours.
	if _, err := conn.ExecContext(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3`); err != nil {
		return err
	}
	key := l.st.db.lockKeys.leader
	for {
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
			return err
		}
		if got {
			break
		}
		if !wait(ctx, l.Retry) {
			return nil
		}
	}
	defer func() {
		// A clean stop hands the lead over at once; the connection's end
		// would release it too.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(c, `SELECT pg_advisory_unlock($1)`, key)
	}()
	l.set(true, nil)
	for wait(ctx, l.Check) {
		if err := checkSession(ctx, conn, l.Check); err != nil {
			return err
		}
	}
	return nil
}

// checkSession asks the server, within timeout, whether this session
// still holds anything: a failed or slow answer means the lock may be
// gone.
func checkSession(ctx context.Context, conn *sql.Conn, timeout time.Duration) error {
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var one int
	return conn.QueryRowContext(c, `SELECT 1`).Scan(&one)
}

func (l *Leader) set(leading bool, err error) {
	if l.leading.Swap(leading) != leading && l.OnChange != nil {
		l.OnChange(leading, err)
	}
}

// wait sleeps for d, returning false if ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
