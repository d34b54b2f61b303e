package store

import (
	"context"
	"database/sql"
	"strings"
)

// batchRows is how many rows one multi-row INSERT carries: large enough to
// amortise statement overhead, small enough to stay far below SQLite's
// bound on bound variables.
const batchRows = 256

// inserter writes many rows, skipping rows whose key is there already, into one table inside a transaction with
// prepared multi-row INSERTs.
type inserter struct {
	ctx  context.Context
	tx   *sqlTx
	head string
	row  string // one row of VALUES: "(?, ?, ...)", one ? a column, unless set
	tail string
	cols int
	full *sql.Stmt
	args []any
	err  error
}

func newInserter(ctx context.Context, tx *sqlTx, table string, columns ...string) *inserter {
	return &inserter{
		ctx:  ctx,
		tx:   tx,
		head: "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ",
		row:  "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")",
		tail: " ON CONFLICT DO NOTHING",
		cols: len(columns),
		args: make([]any, 0, batchRows*len(columns)),
	}
}

func (in *inserter) statement(rows int) string {
	row := in.row
	var b strings.Builder
	b.WriteString(in.head)
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(in.tail)
	return b.String()
}

// add queues one row; the values must match the columns in order.
func (in *inserter) add(values ...any) {
	if in.err != nil {
		return
	}
	in.args = append(in.args, values...)
	if len(in.args) == batchRows*in.cols {
		if in.full == nil {
			in.full, in.err = in.tx.PrepareContext(in.ctx, in.statement(batchRows))
			if in.err != nil {
				return
			}
		}
		_, in.err = in.full.ExecContext(in.ctx, in.args...)
		in.args = in.args[:0]
	}
}

// flush writes the queued rows and returns the first error met.
func (in *inserter) flush() error {
	if in.err == nil && len(in.args) > 0 {
		_, in.err = in.tx.ExecContext(in.ctx, in.statement(len(in.args)/in.cols), in.args...)
		in.args = in.args[:0]
	}
	if in.full != nil {
		in.full.Close()
	}
	return in.err
}
