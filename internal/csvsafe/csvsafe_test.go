package csvsafe

import (
	"encoding/csv"
	"errors"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain text", "Needed for payroll", "Needed for payroll"},
		{"formula", `=HYPERLINK("https://evil.example","click")`, `'=HYPERLINK("https://evil.example","click")`},
		{"plus", "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(1,2)", "'@SUM(1,2)"},
		{"tab", "\t=1+1", "'\t=1+1"},
		{"carriage return", "\r=1+1", "'\r=1+1"},
		{"formula later in the cell", "see =A1", "see =A1"},
		{"already quoted", "'=A1", "'=A1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Cell(tc.in); got != tc.want {
				t.Fatalf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWriterNeutralisesEveryCell(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	record := []string{"1", "=cmd", "ok, with comma", "@x"}
	if err := w.Write(record); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll([][]string{{"-1", "+1", "", "x"}}); err != nil {
		t.Fatal(err)
	}
	if record[1] != "=cmd" {
		t.Errorf("Write changed its argument: %q", record)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"1", "'=cmd", "ok, with comma", "'@x"}, {"'-1", "'+1", "", "x"}}
	if len(rows) != 2 || strings.Join(rows[0], "|") != strings.Join(want[0], "|") || strings.Join(rows[1], "|") != strings.Join(want[1], "|") {
		t.Fatalf("rows = %q, want %q", rows, want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterReportsErrors(t *testing.T) {
	w := NewWriter(failWriter{})
	if err := w.WriteAll([][]string{{"a"}}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want disk full", err)
	}
}
