package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// copyTables are every table of the schema that holds data, parents
// before children (foreign keys), in the order Copy writes them. A test
// checks the list against the schema, so a new table cannot be forgotten.
var copyTables = []string{
	"snapshots", "dir_users", "dir_groups", "dir_group_rules", "dir_apps", "dir_memberships", "dir_app_users",
	"dir_app_groups", "dir_app_usage",
	"campaigns", "campaign_transitions", "cases", "case_reviewers", "case_outcomes", "plan_items", "plan_chunks", "approvals", "reminders_sent", "cert_history", "schedule_runs",
	"audit_log", "audit_chain_start", "audit_checkpoints", "audit_chain_mode", "audit_chain_head",
	"slack_users", "outbox", "slack_messages", "slack_handled",
	"operations", "tickets", "ticket_refs", "sweeps", "risk_bindings",
	"hook_events",
}

// appendOnlyTables refuse changes by trigger; the copy lifts that for its
// own transaction to replace the new database's empty chain start.
var appendOnlyTables = []string{"audit_log", "audit_chain_start", "audit_checkpoints", "audit_chain_mode"}

// CopyReport says what Copy moved: rows per table, in copy order.
type CopyReport struct {
	Tables []TableCount
}

// TableCount is one table's row count.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// ErrTargetNotEmpty is returned by Copy when the target holds data.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// Copy copies every row of every table from one store to another (an
// SQLite file to PostgreSQL, say), ids, hashes and states as they are, in
// one transaction on the target: a failure leaves it as it was. Both must
// be at the same schema version, and the target must be empty (only what
// its migrations wrote: open it without an audit key, since keying writes
// the chain's mode); the source is read in one snapshot. progress,
// when set, is called after each table. Copy then counts every table on
// both sides; the caller verifies the audit chain on the target.
func Copy(ctx context.Context, from, to *Store, progress func(TableCount)) (CopyReport, error) {
	var rep CopyReport
	fv, err := from.SchemaVersion(ctx)
	if err != nil {
		return rep, fmt.Errorf("store: copy: source schema: %w", err)
	}
	tv, err := to.SchemaVersion(ctx)
	if err != nil {
		return rep, fmt.Errorf("store: copy: target schema: %w", err)
	}
	if fv != tv {
		return rep, fmt.Errorf("store: copy: the source is at schema %d and the target at %d; open both with this attest first", fv, tv)
	}
	for _, t := range []string{"snapshots", "campaigns", "audit_log", "audit_chain_mode", "outbox", "hook_events"} {
		var n int64
		if err := to.countRows(ctx, t, &n); err != nil {
			return rep, fmt.Errorf("store: copy: %w", err)
		}
		if n > 0 {
			return rep, fmt.Errorf("store: copy: %w (%s has %d rows in %s): copy into a new, empty database", ErrTargetNotEmpty, t, n, to.Location())
		}
	}
	src, err := from.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("store: copy: %w", err)
	}
	defer src.Rollback()
	var events *sqlTx
	if from.events != nil && from.events != from.db {
		if events, err = from.events.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
			return rep, fmt.Errorf("store: copy: %w", err)
		}
		defer events.Rollback()
	}
	err = to.withCopySink(ctx, func(dst copySink) error {
		if err := dst.appendOnly(ctx, false); err != nil {
			return err
		}
		// The new database's chain start (no legacy prefix) gives way
		// to the source's.
		if err := dst.exec(ctx, `DELETE FROM audit_chain_start`); err != nil {
			return err
		}
		for _, table := range copyTables {
			rd := src
			if table == "hook_events" && events != nil {
				rd = events
			}
			if table == "hook_events" && to.events != nil && to.events != to.db {
				continue // an SQLite target keeps them in its events file: below
			}
			n, err := copyTable(ctx, rd, dst, table)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			tc := TableCount{Table: table, Rows: n}
			rep.Tables = append(rep.Tables, tc)
			if progress != nil {
				progress(tc)
			}
		}
		if err := dst.appendOnly(ctx, true); err != nil {
			return err
		}
		return dst.resetIdentities(ctx)
	})
	if err == nil && to.events != nil && to.events != to.db {
		rd := src
		if events != nil {
			rd = events
		}
		err = inTxOn(ctx, to.events, func(tx *sqlTx) error {
			n, err := copyTable(ctx, rd, sqliteSink{tx}, "hook_events")
			tc := TableCount{Table: "hook_events", Rows: n}
			rep.Tables = append(rep.Tables, tc)
			if progress != nil && err == nil {
				progress(tc)
			}
			return err
		})
	}
	if err != nil {
		return CopyReport{}, fmt.Errorf("store: copy into %s: %w", to.Location(), err)
	}
	// Count again, on both sides, after the commit.
	for _, tc := range rep.Tables {
		var a, b int64
		if err := from.countRows(ctx, tc.Table, &a); err != nil {
			return rep, fmt.Errorf("store: copy: count %s in the source: %w", tc.Table, err)
		}
		if err := to.countRows(ctx, tc.Table, &b); err != nil {
			return rep, fmt.Errorf("store: copy: count %s in the target: %w", tc.Table, err)
		}
		if a != b || b != tc.Rows {
			return rep, fmt.Errorf("store: copy: %s has %d rows in the source and %d in the target (%d copied)", tc.Table, a, b, tc.Rows)
		}
	}
	return rep, nil
}

// countRows counts a table's rows (hook_events in the events database).
func (s *Store) countRows(ctx context.Context, table string, n *int64) error {
	db := s.db
	if table == "hook_events" && s.events != nil {
		db = s.events
	}
	return db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(n)
}

// copyTable streams one table from src into dst: COPY on PostgreSQL,
// multi-row INSERTs on SQLite. Columns are matched by name; a column the
// target has and the source lacks keeps its default.
func copyTable(ctx context.Context, src *sqlTx, dst copySink, table string) (int64, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	if table == "hook_events" && dst.postgres() {
		// SQLite's rowid is implicit; PostgreSQL's is a column SELECT *
		// only returns there.
		cols = slicesWithout(cols, "rowid")
	}
	// Binary columns (a plan chunk's body) stay bytes; text read as
	// bytes becomes a string.
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, err
	}
	binary := map[int]bool{}
	for i, ct := range types {
		if t := strings.ToUpper(ct.DatabaseTypeName()); t == "BLOB" || t == "BYTEA" {
			binary[i] = true
		}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok && !binary[i] {
				v = string(b)
			}
			out[i] = v
		}
		return out, nil
	}
	return dst.copyRows(ctx, table, cols, next)
}

func slicesWithout(s []string, drop string) []string {
	out := s[:0:0]
	for _, v := range s {
		if !strings.EqualFold(v, drop) {
			out = append(out, v)
		}
	}
	return out
}

// rowSource adapts a row iterator to pgx.CopyFromSource.
type rowSource struct {
	next func() ([]any, error)
	row  []any
	err  error
}

func (r *rowSource) Next() bool {
	r.row, r.err = r.next()
	return r.err == nil && r.row != nil
}

func (r *rowSource) Values() ([]any, error) { return r.row, nil }
func (r *rowSource) Err() error             { return r.err }
