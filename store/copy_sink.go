package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// copySink is the target side of Copy: one transaction on the target.
type copySink interface {
	postgres() bool
	exec(ctx context.Context, q string) error
	// appendOnly turns the append-only rules back on (on) or lifts them
	// for this transaction (off).
	appendOnly(ctx context.Context, on bool) error
	copyRows(ctx context.Context, table string, cols []string, next func() ([]any, error)) (int64, error)
	// resetIdentities moves identity sequences past the copied ids.
	resetIdentities(ctx context.Context) error
}

// withCopySink runs fn in one write transaction on s: on PostgreSQL a pgx
// transaction on a connection of its own (COPY needs pgx's connection),
// holding the store's write lock; on SQLite the store's own.
func (s *Store) withCopySink(ctx context.Context, fn func(copySink) error) error {
	if s.db.d != dialectPostgres {
		return s.inTx(ctx, func(tx *sqlTx) error { return fn(sqliteSink{tx}) })
	}
	return s.inPgTx(ctx, func(tx pgx.Tx) error { return fn(pgSink{tx}) })
}

// inCopyTx is inTx in a transaction whose bulk writes (sqlTx.bulk) use
// COPY on PostgreSQL: the transaction is begun on a connection held for
// it, which COPY reaches through pgx. On SQLite it is inTx.
func (s *Store) inCopyTx(ctx context.Context, fn func(*sqlTx) error) error {
	if s.db.d != dialectPostgres {
		return s.inTx(ctx, fn)
	}
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	t, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &sqlTx{Tx: t, d: s.db.d, lockKeys: s.db.lockKeys, conn: conn}
	if s.db.writeLock {
		if err := tx.beginWrite(ctx); err != nil {
			_ = t.Rollback()
			return err
		}
	}
	if err := fn(tx); err != nil {
		_ = t.Rollback()
		return err
	}
	return t.Commit()
}

// bulk writes plain rows into table (a duplicate key fails the write):
// with COPY in a transaction of inCopyTx on PostgreSQL, else with
// multi-row INSERTs.
func (tx *sqlTx) bulk(ctx context.Context, table string, cols ...string) rowWriter {
	if tx.conn == nil {
		return newBulk(ctx, tx, table, cols...)
	}
	return &txCopier{ctx: ctx, conn: tx.conn, table: table, cols: cols}
}

// txCopier is bulk's writer on PostgreSQL: COPY on the transaction's
// connection, copyChunk rows at a time.
type txCopier struct {
	ctx   context.Context
	conn  *sql.Conn
	table string
	cols  []string
	rows  [][]any
	err   error
}

func (c *txCopier) add(values ...any) {
	if c.err != nil {
		return
	}
	if c.rows = append(c.rows, values); len(c.rows) >= copyChunk {
		c.copy()
	}
}

func (c *txCopier) copy() {
	if c.err != nil || len(c.rows) == 0 {
		return
	}
	c.err = c.conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(c.ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows))
		return err
	})
	c.rows = c.rows[:0]
}

func (c *txCopier) flush() error {
	c.copy()
	return c.err
}

// inPgTx runs fn in a pgx transaction on a connection of the pool held
// for it, after taking the store's write lock: for what needs pgx itself
// (COPY). It commits if fn returns nil.
func (s *Store) inPgTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.pgTx(ctx, true, fn)
}

// inPgTxUnlocked is inPgTx without the store's write lock, for a
// transaction that only writes rows no other one can know of.
func (s *Store) inPgTxUnlocked(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.pgTx(ctx, false, fn)
}

// pgTx runs fn in a pgx transaction, taking the write lock first when
// locked.
func (s *Store) pgTx(ctx context.Context, locked bool, fn func(pgx.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it does nothing
		if locked {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.db.lockKeys.write); err != nil {
				return err
			}
		}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

type sqliteSink struct{ tx *sqlTx }

func (sqliteSink) postgres() bool { return false }

func (k sqliteSink) exec(ctx context.Context, q string) error {
	_, err := k.tx.ExecContext(ctx, q)
	return err
}

// appendOnly: the copy only inserts, but the new database's chain start
// must go; its delete trigger is dropped and made again.
func (k sqliteSink) appendOnly(ctx context.Context, on bool) error {
	q := `DROP TRIGGER IF EXISTS audit_chain_start_no_delete`
	if on {
		q = `CREATE TRIGGER audit_chain_start_no_delete BEFORE DELETE ON audit_chain_start
BEGIN SELECT RAISE(ABORT, 'audit_chain_start is append-only'); END`
	}
	return k.exec(ctx, q)
}

func (k sqliteSink) copyRows(ctx context.Context, table string, cols []string, next func() ([]any, error)) (int64, error) {
	ins := newBulk(ctx, k.tx, table, cols...)
	var n int64
	for {
		row, err := next()
		if err != nil {
			return n, err
		}
		if row == nil {
			break
		}
		ins.add(row...)
		n++
	}
	return n, ins.flush()
}

func (sqliteSink) resetIdentities(context.Context) error { return nil }

type pgSink struct{ tx pgx.Tx }

func (pgSink) postgres() bool { return true }

func (k pgSink) exec(ctx context.Context, q string) error {
	_, err := k.tx.Exec(ctx, q)
	return err
}

func (k pgSink) appendOnly(ctx context.Context, on bool) error {
	verb := "DISABLE"
	if on {
		verb = "ENABLE"
	}
	for _, t := range appendOnlyTables {
		if err := k.exec(ctx, `ALTER TABLE `+t+` `+verb+` TRIGGER USER`); err != nil {
			return err
		}
	}
	return nil
}

// copyRows uses PostgreSQL's COPY (pgx's CopyFrom).
func (k pgSink) copyRows(ctx context.Context, table string, cols []string, next func() ([]any, error)) (int64, error) {
	return k.tx.CopyFrom(ctx, pgx.Identifier{table}, cols, &rowSource{next: next})
}

func (k pgSink) resetIdentities(ctx context.Context) error {
	rows, err := k.tx.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	idents, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var tc [2]string
		err := r.Scan(&tc[0], &tc[1])
		return tc, err
	})
	if err != nil {
		return err
	}
	for _, tc := range idents {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)`,
			quoteLiteral(tc[0]), quoteLiteral(tc[1]), pgx.Identifier{tc[1]}.Sanitize(), pgx.Identifier{tc[0]}.Sanitize())
		if err := k.exec(ctx, q); err != nil {
			return fmt.Errorf("reset the ids of %s: %w", tc[0], err)
		}
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// rowWriter takes a table's rows one at a time and writes them in bulk.
type rowWriter interface {
	add(values ...any)
	flush() error
}

// copyChunk is how many rows a pgCopier holds before a COPY.
const copyChunk = 20000

// pgCopier writes a table's rows with COPY into a temporary table of the
// same shape, a chunk at a time, then moves them with one INSERT … ON
// CONFLICT DO NOTHING: as fast as COPY, and, like the SQLite inserter, a
// row whose key is there already is skipped instead of failing the write.
type pgCopier struct {
	ctx   context.Context
	tx    pgx.Tx
	table string
	tmp   string
	cols  []string
	rows  [][]any
	made  bool
	err   error
}

func newPgCopier(ctx context.Context, tx pgx.Tx, table string, cols ...string) *pgCopier {
	return &pgCopier{ctx: ctx, tx: tx, table: table, tmp: "copy_" + table, cols: cols}
}

func (c *pgCopier) add(values ...any) {
	if c.err != nil {
		return
	}
	c.rows = append(c.rows, values)
	if len(c.rows) >= copyChunk {
		c.copy()
	}
}

func (c *pgCopier) copy() {
	if c.err != nil || len(c.rows) == 0 {
		return
	}
	if !c.made {
		_, c.err = c.tx.Exec(c.ctx, `CREATE TEMP TABLE `+c.tmp+` (LIKE `+c.table+` INCLUDING DEFAULTS) ON COMMIT DROP`)
		if c.err != nil {
			return
		}
		c.made = true
	}
	_, c.err = c.tx.CopyFrom(c.ctx, pgx.Identifier{c.tmp}, c.cols, pgx.CopyFromRows(c.rows))
	c.rows = c.rows[:0]
}

func (c *pgCopier) flush() error {
	c.copy()
	if c.err == nil && c.made {
		cols := strings.Join(c.cols, ", ")
		_, c.err = c.tx.Exec(c.ctx, `INSERT INTO `+c.table+` (`+cols+`) SELECT `+cols+` FROM `+c.tmp+` ON CONFLICT DO NOTHING`)
		if c.err == nil {
			_, c.err = c.tx.Exec(c.ctx, `DROP TABLE `+c.tmp)
			c.made = false
		}
	}
	return c.err
}
