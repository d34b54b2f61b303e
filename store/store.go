// Package store keeps attest's state in SQLite through modernc.org/sqlite
// (pure Go, no cgo; embedded numbered migrations, WAL, foreign keys and a
// busy timeout), or in PostgreSQL through pgx for several replicas. Its
// SQL is written once, portable; sqldb.go translates what differs.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/attestbot/attest/campaign"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a SQLite database holding attest's state.
type Store struct {
	db   *sqlDB
	path string
	Now  func() time.Time
	// auditKey keys the audit chain (audit_key.go); nil for an unkeyed one.
	auditKey []byte
	// readOnly is set by OpenReadOnly.
	readOnly bool
	// events holds Okta event hook deliveries, in a file of its own
	// (events_db.go) on SQLite, in the main database on PostgreSQL; nil
	// for a read-only store.
	events *sqlDB
	// pool is the pgx pool under a PostgreSQL store's db; url its
	// location without the password.
	pool *pgxpool.Pool
	url  string
	// worker names this process in the claims it makes (outbox items):
	// host, pid and a random suffix.
	worker string
	// target is what Open was given (a path or a URL, password included:
	// never logged), for reopening the same database.
	target string
}

var _ campaign.SnapshotStore = (*Store)(nil)

// Open opens the database at target, applies pending migrations and, with
// WithAuditKey, keys the audit chain (see WithAuditKey). target is a
// PostgreSQL URL (postgres://…), an sqlite:// URL or a plain path: an
// SQLite file is created readable by its owner only (0600) if there is
// none. It returns an error if the database cannot be opened, a migration
// fails (leaving the schema as it was) or the chain is keyed under another
// key.
func Open(ctx context.Context, target string, opts ...Option) (*Store, error) {
	if target == "" {
		return nil, fmt.Errorf("store: empty database path; set store.path or ATTEST_DB (or store.url, ATTEST_DATABASE_URL)")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if IsPostgres(target) {
		return openPostgres(ctx, target, o)
	}
	path := sqlitePath(target)
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)",
		"cache_size(" + sqliteCacheKiB + ")"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + uriPath(path) + "?" + q.Encode()
	raw, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &sqlDB{DB: raw}
	s := &Store{db: db, path: path, target: target, worker: newWorkerID(), Now: time.Now}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if o.auditKey != nil {
		if err := s.useAuditKey(ctx, o.auditKey); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}
	if err := s.openEvents(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database and the events database beside it.
func (s *Store) Close() error {
	if s.pool != nil {
		err := s.db.Close()
		s.pool.Close()
		return err
	}
	return s.closeEvents(s.db.Close())
}

// sqliteCacheKiB is each SQLite connection's page cache, as cache_size's
// negative KiB: 64 MiB at most, allocated as pages are read. SQLite's
// default of 2 MiB makes a launch or close of millions of cases spill and
// re-read pages of the cases table and its indexes all the time (about a
// third of their time in system calls, measured at 1.5M cases).
const sqliteCacheKiB = "-65536"

// DB exposes the handle for packages that extend the store's tables.
func (s *Store) DB() *sql.DB { return s.db.DB }

// SchemaVersion returns the highest applied migration number.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// migrate applies the main database's embedded migrations not yet
// recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if err := applyMigrations(ctx, s.db, migrations, "migrations", s.Now()); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// newWorkerID names this process for the claims it makes.
func newWorkerID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
}

// Worker is the name this store's claims carry.
func (s *Store) Worker() string { return s.worker }

// Shared reports whether other processes may use the database at the same
// time (PostgreSQL, several replicas); an SQLite database belongs to one
// process, so what it finds claimed at start was left by a process that
// stopped.
func (s *Store) Shared() bool { return s.db.d == dialectPostgres }

// inClaimTx runs a claim of queued work in a transaction. On PostgreSQL it
// does not take the store's write lock: a claim locks only the rows it
// takes (skipLocked), so replicas claim side by side, and a long write
// (a snapshot, a launch) never holds a claim up.
func (s *Store) inClaimTx(ctx context.Context, fn func(*sqlTx) error) error {
	return claimTxOn(ctx, s.db, fn)
}

// claimTxOn is inClaimTx on db (the main or the events database).
func claimTxOn(ctx context.Context, db *sqlDB, fn func(*sqlTx) error) error {
	if db.d != dialectPostgres {
		return inTxOn(ctx, db, fn)
	}
	tx, err := db.concurrentTx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// inTx runs fn in a transaction on the main database, committing if it
// returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sqlTx) error) error {
	return inTxOn(ctx, s.db, fn)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// countBy runs a query yielding (key, count) rows and collects them.
func (s *Store) countBy(ctx context.Context, q string, args ...any) (map[string]int, error) {
	out := map[string]int{}
	err := s.each(ctx, q, args, func(r *sql.Rows) error {
		var k string
		var n int
		if err := r.Scan(&k, &n); err != nil {
			return err
		}
		out[k] = n
		return nil
	})
	return out, err
}
