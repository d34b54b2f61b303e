package store

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed pg_migrations/*.sql
var pgMigrations embed.FS

// IsPostgres reports whether target names a PostgreSQL database
// (postgres:// or postgresql://) rather than an SQLite file.
func IsPostgres(target string) bool {
	t := strings.ToLower(strings.TrimSpace(target))
	return strings.HasPrefix(t, "postgres://") || strings.HasPrefix(t, "postgresql://")
}

// sqlitePath returns the file an SQLite target names: a plain path, or
// the path of a sqlite:// URL (sqlite:///data/attest.db is /data/attest.db).
func sqlitePath(target string) string {
	if rest, ok := strings.CutPrefix(target, "sqlite://"); ok {
		return rest
	}
	return target
}

// Redact returns target with any password replaced by "xxxxx", for
// messages and logs.
func Redact(target string) string {
	if !IsPostgres(target) {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// pgOpen connects to the PostgreSQL database at target through a pgx pool.
// readOnly makes every transaction of the session read-only.
func pgOpen(ctx context.Context, target string, readOnly bool) (*sqlDB, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(target)
	if err != nil {
		// pgx's message can quote the URL; name it redacted instead.
		return nil, nil, fmt.Errorf("store: %s is not a PostgreSQL URL like postgres://user@host:5432/attest", Redact(target))
	}
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if !strings.Contains(target, "pool_max_conns") {
		// pgx's default (4 on this kind of machine) is too few for a
		// replica: the leader's session, the outbox's claims and sends, the
		// executor's workers and the handlers each hold one at times.
		cfg.MaxConns = 16
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "attest"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("store: connect to %s: %w", Redact(target), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("store: connect to %s: %w", Redact(target), err)
	}
	db := &sqlDB{DB: stdlib.OpenDBFromPool(pool), d: dialectPostgres, writeLock: !readOnly}
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		db.Close()
		pool.Close()
		return nil, nil, fmt.Errorf("store: connect to %s: %w", Redact(target), err)
	}
	if schema == "" {
		db.Close()
		pool.Close()
		return nil, nil, fmt.Errorf("store: %s: no schema to write to (the search_path names none that exists)", Redact(target))
	}
	// Advisory locks are database-wide: the keys are per schema, so two
	// installations (or two tests) in one database never share a lock.
	db.lockKeys = newLockKeys(schema)
	return db, pool, nil
}

// lockKeys are the PostgreSQL advisory lock keys of one schema.
type lockKeys struct {
	write, migrate, leader int64
}

func newLockKeys(schema string) lockKeys {
	key := func(purpose string) int64 {
		h := fnv.New64a()
		h.Write([]byte("attest:" + purpose + ":" + schema))
		return int64(h.Sum64())
	}
	return lockKeys{write: key("write"), migrate: key("migrate"), leader: key("leader")}
}

// openPostgres opens the PostgreSQL store at target and applies its
// pending migrations under an advisory lock, so replicas starting together
// migrate once: the first migrates, the others wait and then find nothing
// left to do.
func openPostgres(ctx context.Context, target string, o options) (*Store, error) {
	db, pool, err := pgOpen(ctx, target, false)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, pool: pool, url: Redact(target), target: target, worker: newWorkerID(), Now: time.Now}
	fail := func(err error) (*Store, error) {
		db.Close()
		pool.Close()
		return nil, err
	}
	if err := s.migratePostgres(ctx); err != nil {
		return fail(err)
	}
	if o.auditKey != nil {
		if err := s.useAuditKey(ctx, o.auditKey); err != nil {
			return fail(fmt.Errorf("store: open %s: %w", s.url, err))
		}
	}
	s.events = db
	return s, nil
}

// migratePostgres applies pg_migrations holding the schema's migration
// lock on a connection of its own.
func (s *Store) migratePostgres(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: %s: %w", s.url, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, s.db.lockKeys.migrate); err != nil {
		return fmt.Errorf("store: %s: wait for the migration lock: %w", s.url, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, s.db.lockKeys.migrate) //nolint:errcheck // closing the connection releases it too
	if err := applyMigrations(ctx, s.db, pgMigrations, "pg_migrations", s.Now()); err != nil {
		return fmt.Errorf("store: %s: %w", s.url, err)
	}
	return nil
}

// openPostgresExisting opens a PostgreSQL store that attest has created
// before (its schema_migrations is there): it returns an error wrapping
// ErrNoDatabase otherwise, and creates nothing.
func openPostgresExisting(ctx context.Context, target string, readOnly bool, o options) (*Store, error) {
	db, pool, err := pgOpen(ctx, target, true)
	if err != nil {
		return nil, err
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`).Scan(&n)
	db.Close()
	pool.Close()
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: %s: %w", Redact(target), err)
	case n == 0:
		return nil, fmt.Errorf("store: %w at %s (store.url or ATTEST_DATABASE_URL): run `attest sync` to create it, or point ATTEST_DATABASE_URL at the database", ErrNoDatabase, Redact(target))
	}
	if !readOnly {
		return openPostgres(ctx, target, o)
	}
	db, pool, err = pgOpen(ctx, target, true)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, pool: pool, url: Redact(target), target: target, Now: time.Now, readOnly: true}, nil
}

// Backend names the store's database: "sqlite" or "postgres".
func (s *Store) Backend() string { return s.db.d.String() }

// Location is where the store lives: the SQLite file's path, or the
// PostgreSQL URL without its password.
func (s *Store) Location() string {
	if s.url != "" {
		return s.url
	}
	return s.path
}
