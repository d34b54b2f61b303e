package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// dialect is the SQL flavour of a backend. The store writes its queries
// once, in the SQL both SQLite and PostgreSQL read (ON CONFLICT, RETURNING,
// CASE rather than a boolean sum); the few differences are translated here,
// when a query is run, so no query is written twice.
type dialect uint8

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// pgQueries caches PostgreSQL translations by query text.
var pgQueries sync.Map

// sql returns q as d reads it. For PostgreSQL: ? placeholders become $1,
// $2, … (outside quotes), "INDEXED BY name" (an SQLite planner hint) goes,
// a look-up of a table in sqlite_master reads information_schema,
// and a claim query marked with the suffix skipLocked locks the rows it
// returns and passes over rows another replica holds.
func (d dialect) sql(q string) string {
	if d != dialectPostgres {
		return strings.TrimSuffix(q, skipLocked)
	}
	if v, ok := pgQueries.Load(q); ok {
		return v.(string)
	}
	out := rebindPostgres(q)
	// SQLite's catalogue, asked whether a table exists.
	out = strings.ReplaceAll(out, "FROM sqlite_master WHERE type = 'table' AND name = ",
		"FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ")
	if strings.HasSuffix(out, skipLocked) {
		out = strings.TrimSuffix(out, skipLocked) + " FOR UPDATE SKIP LOCKED"
	}
	pgQueries.Store(q, out)
	return out
}

// skipLocked marks the end of a claim query: on PostgreSQL the rows it
// selects are locked, and rows locked by another transaction are skipped,
// so replicas claiming at once never take the same row; SQLite's single
// writer makes that so already.
const skipLocked = " /*skip-locked*/"

// rebindPostgres rewrites ? to $n and drops INDEXED BY hints.
func rebindPostgres(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		case c == 'I' && strings.HasPrefix(q[i:], "INDEXED BY "):
			j := i + len("INDEXED BY ")
			for j < len(q) && q[j] != ' ' && q[j] != '\n' && q[j] != '\t' {
				j++
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sqlDB is a database handle that runs queries in its dialect.
type sqlDB struct {
	*sql.DB
	d dialect
	// writeLock, for PostgreSQL, serialises the store's write transactions
	// as SQLite's single writer does (see beginWrite).
	writeLock bool
	// lockKeys are the PostgreSQL advisory lock keys of the store's schema.
	lockKeys lockKeys
}

func (db *sqlDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if db.writeLock && needsWriteLock(q) {
		// A lone write takes the write lock too, so it cannot slip between
		// a transaction's read and its write.
		var res sql.Result
		err := inTxOn(ctx, db, func(tx *sqlTx) error {
			var err error
			res, err = tx.ExecContext(ctx, q, args...)
			return err
		})
		return res, err
	}
	return db.DB.ExecContext(ctx, db.d.sql(q), args...)
}

func (db *sqlDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.DB.QueryContext(ctx, db.d.sql(q), args...)
}

func (db *sqlDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return db.DB.QueryRowContext(ctx, db.d.sql(q), args...)
}

// queueTables are the tables of queued work and Slack bookkeeping: their
// rows are claimed and settled one by one (compare-and-swap on state and
// claimer, inserts that skip a key already there), and no transaction
// reads one to decide a write elsewhere, so a lone write to them needs no
// store-wide lock. Replicas then settle their sends side by side.
var queueTables = map[string]bool{
	"outbox": true, "slack_handled": true, "slack_messages": true, "slack_users": true,
	"hook_events": true, "tickets": true, "ticket_refs": true, "operations": true,
}

// needsWriteLock reports whether q changes rows of a table other than the
// queue tables.
func needsWriteLock(q string) bool {
	f := strings.Fields(q)
	if len(f) < 3 {
		return false
	}
	var table string
	switch strings.ToUpper(f[0]) {
	case "INSERT", "DELETE":
		table = f[2] // INSERT INTO t, DELETE FROM t
	case "UPDATE":
		table = f[1]
	default:
		return false
	}
	return !queueTables[strings.ToLower(strings.TrimRight(table, "("))]
}

// BeginTx starts a transaction. On PostgreSQL a read-only transaction
// reads one snapshot throughout (REPEATABLE READ), as an SQLite read
// transaction does, and a write transaction first takes the store's write
// lock (beginWrite).
func (db *sqlDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sqlTx, error) {
	if db.d == dialectPostgres && opts != nil && opts.ReadOnly && opts.Isolation == sql.LevelDefault {
		o := *opts
		o.Isolation = sql.LevelRepeatableRead
		opts = &o
	}
	t, err := db.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	tx := &sqlTx{Tx: t, d: db.d, lockKeys: db.lockKeys}
	if db.writeLock && (opts == nil || !opts.ReadOnly) {
		if err := tx.beginWrite(ctx); err != nil {
			_ = t.Rollback()
			return nil, err
		}
	}
	return tx, nil
}

// concurrentTx starts a write transaction that does not take the store's
// write lock: for claims of queued work, which lock only the rows they
// take (skipLocked) and touch nothing else.
func (db *sqlDB) concurrentTx(ctx context.Context) (*sqlTx, error) {
	t, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqlTx{Tx: t, d: db.d, lockKeys: db.lockKeys}, nil
}

// sqlTx is a transaction that runs queries in its dialect.
type sqlTx struct {
	*sql.Tx
	d        dialect
	lockKeys lockKeys
	// conn, on PostgreSQL in a transaction begun by Store.inCopyTx, is
	// the transaction's connection: bulk writes COPY through it.
	conn *sql.Conn
}

// beginWrite takes the store's write lock for the rest of the
// transaction. SQLite lets one transaction write at a time, and the
// store's read-then-write transactions (the audit chain's head, a case's
// state fence, a plan's digest) are written for that; on PostgreSQL a
// transaction-scoped advisory lock gives them the same guarantee across
// every replica, released at commit or rollback.
func (tx *sqlTx) beginWrite(ctx context.Context) error {
	_, err := tx.Tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, tx.lockKeys.write)
	return err
}

func (tx *sqlTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(ctx, tx.d.sql(q), args...)
}

func (tx *sqlTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, tx.d.sql(q), args...)
}

func (tx *sqlTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, tx.d.sql(q), args...)
}

func (tx *sqlTx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return tx.Tx.PrepareContext(ctx, tx.d.sql(q))
}

func (db *sqlDB) Exec(q string, args ...any) (sql.Result, error) {
	return db.ExecContext(context.Background(), q, args...)
}

func (db *sqlDB) Query(q string, args ...any) (*sql.Rows, error) {
	return db.QueryContext(context.Background(), q, args...)
}

func (db *sqlDB) QueryRow(q string, args ...any) *sql.Row {
	return db.QueryRowContext(context.Background(), q, args...)
}

// auditDeleteOff and auditDeleteOn lift and restore, inside a prune's
// transaction, the rule that refuses deleting audit entries: SQLite drops
// and recreates migration 0002's trigger, PostgreSQL disables and enables
// its trigger (DDL that, like SQLite's, commits or rolls back with the
// prune).
func (d dialect) auditDeleteOff() string {
	if d == dialectPostgres {
		return `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_delete`
	}
	return `DROP TRIGGER audit_log_no_delete`
}

func (d dialect) auditDeleteOn() string {
	if d == dialectPostgres {
		return `ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_delete`
	}
	return `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`
}
