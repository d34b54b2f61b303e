// Package csvsafe writes CSV that a spreadsheet opens as data, never as
// formulas. A cell that begins with '=', '+', '-', '@', a tab or a carriage
// return is what Excel, LibreOffice and Google Sheets evaluate (CSV or
// formula injection: =HYPERLINK(...) in a comment becomes a live link, or
// worse, in an auditor's spreadsheet); OWASP's rule is to prefix such a cell
// with a single quote, which the spreadsheet shows as text. Every CSV the
// product writes goes through this package; JSON outputs keep the original
// values.
package csvsafe

import (
	"encoding/csv"
	"io"
)

// Cell returns s prefixed with a single quote when a spreadsheet would read
// it as a formula, and s unchanged otherwise.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Writer is an encoding/csv Writer that neutralises every cell with Cell.
type Writer struct {
	cw  *csv.Writer
	row []string
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{cw: csv.NewWriter(w)}
}

// Write writes one record, each cell neutralised; record itself is not
// changed. It returns the underlying writer's error.
func (w *Writer) Write(record []string) error {
	w.row = w.row[:0]
	for _, s := range record {
		w.row = append(w.row, Cell(s))
	}
	return w.cw.Write(w.row)
}

// WriteAll writes records with Write and flushes. It returns the first
// write or flush error.
func (w *Writer) WriteAll(records [][]string) error {
	for _, r := range records {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// Flush writes any buffered data to the underlying io.Writer; Error reports
// whether it failed.
func (w *Writer) Flush() { w.cw.Flush() }

// Error returns the error of a previous Write or Flush, if any.
func (w *Writer) Error() error { return w.cw.Error() }
