package campaign

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return testNow.AddDate(0, 0, -n) }

// smallOrg is a hand-made directory where every flag and path occurs once.
func smallOrg() *Snapshot {
	s := &Snapshot{
		ID: 7,
		Users: []User{
			{ID: "ceo", Login: "ceo@x.com", Email: "ceo@x.com", Status: StatusActive, LastLogin: daysAgo(1), Department: "Exec"},
			{ID: "mgr", Login: "mgr@x.com", Email: "mgr@x.com", Status: StatusActive, LastLogin: daysAgo(2), Department: "Eng", ManagerID: "ceo"},
			{ID: "dev", Login: "dev@x.com", Email: "dev@x.com", Status: StatusActive, LastLogin: daysAgo(3), Department: "Eng", ManagerID: "mgr"},
			{ID: "stale", Login: "stale@x.com", Email: "stale@x.com", Status: StatusActive, LastLogin: daysAgo(61), Department: "Eng", ManagerID: "mgr"},
			{ID: "gone", Login: "gone@x.com", Email: "gone@x.com", Status: StatusDeprovisioned, LastLogin: daysAgo(200), Department: "Sales", ManagerID: "ceo"},
			{ID: "new", Login: "new@x.com", Email: "new@x.com", Status: StatusActive, Created: daysAgo(5), Department: "Sales", ManagerID: "ceo"},
			{ID: "staged", Login: "staged@x.com", Email: "staged@x.com", Status: StatusStaged, Department: "Sales", ManagerID: "ceo"},
		},
		Groups: []Group{
			{ID: "everyone", Name: "Everyone", Type: GroupBuiltIn},
			{ID: "eng", Name: "Engineering", Type: GroupOkta},
			{ID: "admins", Name: "aws-admins", Type: GroupOkta},
		},
		Apps: []App{
			{ID: "slack", Label: "Slack", Status: StatusActive},
			{ID: "aws", Label: "AWS Production", Status: StatusActive},
			{ID: "payroll", Label: "Payroll", Status: StatusActive},
			{ID: "old", Label: "Old Wiki", Status: "INACTIVE"},
		},
		GroupAssignments: []GroupAssignment{
			{AppID: "slack", GroupID: "everyone"},
			{AppID: "aws", GroupID: "eng"}, {AppID: "aws", GroupID: "admins"},
		},
		AppAssignments: []AppAssignment{
			{AppID: "aws", UserID: "mgr", Scope: ScopeUser},
			{AppID: "payroll", UserID: "gone", Scope: ScopeUser},
			{AppID: "payroll", UserID: "new", Scope: ScopeUser},
			{AppID: "payroll", UserID: "staged", Scope: ScopeUser},
			{AppID: "old", UserID: "dev", Scope: ScopeUser},
			{AppID: "payroll", UserID: "ceo", Scope: ScopeGroup}, // GROUP scope with no group found
		},
		Usage: []AppUsage{
			{UserID: "dev", AppID: "aws", LastUsed: daysAgo(10)},
			{UserID: "mgr", AppID: "aws", LastUsed: daysAgo(95)},
		},
	}
	for _, u := range s.Users {
		s.Memberships = append(s.Memberships, Membership{GroupID: "everyone", UserID: u.ID})
	}
	s.Memberships = append(s.Memberships,
		Membership{GroupID: "eng", UserID: "mgr"}, Membership{GroupID: "eng", UserID: "dev"},
		Membership{GroupID: "eng", UserID: "stale"}, Membership{GroupID: "admins", UserID: "dev"})
	return s
}

func caseKeys(cs *CaseSet) map[string]Case {
	out := map[string]Case{}
	for _, c := range cs.Cases {
		out[cs.Index.Snap.Users[c.User].ID+"/"+cs.Index.Snap.Apps[c.App].ID] = c
	}
	return out
}

func TestBuildCasesScopeAndFlags(t *testing.T) {
	def, err := ParseDefinition("t.yaml", []byte("name: Q4\nflags: {excessive_groups: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := BuildCases(NewIndex(smallOrg()), def, testNow)
	if err != nil {
		t.Fatal(err)
	}
	got := caseKeys(cs)
	type want struct {
		flags  Flag
		direct bool
		via    []string
	}
	wants := map[string]want{
		// Slack is company-wide (Everyone), Old Wiki inactive, staged users out of scope.
		"mgr/aws":      {flags: FlagUnusedApp, direct: true, via: []string{"eng"}},
		"dev/aws":      {flags: FlagExcessiveGroups, via: []string{"eng", "admins"}},
		"stale/aws":    {flags: FlagStaleLogin | FlagUnusedApp, via: []string{"eng"}},
		"gone/payroll": {flags: FlagStaleLogin | FlagUnusedApp | FlagOrphaned, direct: true},
		"new/payroll":  {flags: FlagUnusedApp, direct: true},
		"ceo/payroll":  {flags: FlagUnusedApp | FlagNoManager},
	}
	if len(got) != len(wants) {
		t.Errorf("got %d cases %v, want %d", len(got), keys(got), len(wants))
	}
	for k, w := range wants {
		c, ok := got[k]
		if !ok {
			t.Errorf("missing case %s", k)
			continue
		}
		if c.Flags != w.flags {
			t.Errorf("%s flags = %v, want %v", k, c.Flags.Names(), w.flags.Names())
		}
		if c.Direct != w.direct {
			t.Errorf("%s direct = %v, want %v", k, c.Direct, w.direct)
		}
		var via []string
		for _, g := range cs.Via(&c) {
			via = append(via, cs.Index.Snap.Groups[g].ID)
		}
		if strings.Join(via, ",") != strings.Join(sortedLike(w.via, cs), ",") {
			t.Errorf("%s via = %v, want %v", k, via, w.via)
		}
	}
	if c := got["dev/aws"]; c.Reviewer < 0 || cs.Index.Snap.Users[c.Reviewer].ID != "mgr" {
		t.Errorf("dev's reviewer should be mgr, got %d", c.Reviewer)
	}
}

// sortedLike orders group ids as the index does (by snapshot position).
func sortedLike(ids []string, cs *CaseSet) []string {
	out := []string{}
	for _, g := range cs.Index.Snap.Groups {
		for _, id := range ids {
			if g.ID == id {
				out = append(out, id)
			}
		}
	}
	return out
}

func keys(m map[string]Case) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBuildCasesSelectors(t *testing.T) {
	tests := []struct {
		name    string
		def     string
		want    []string
		wantErr string
	}{
		{name: "department", def: "name: x\nscope: {departments: [sales]}", want: []string{"gone/payroll", "new/payroll"}},
		{name: "manager subtree", def: "name: x\nscope: {managers: [mgr@x.com]}", want: []string{"mgr/aws", "dev/aws", "stale/aws"}},
		{name: "listed users", def: "name: x\nscope: {users: [DEV@x.com, ceo]}", want: []string{"dev/aws", "ceo/payroll"}},
		{name: "exclude orphaned", def: "name: x\nscope: {departments: [Sales], exclude_orphaned: true}", want: []string{"new/payroll"}},
		{name: "statuses", def: "name: x\nscope: {statuses: [staged]}", want: []string{"staged/payroll"}},
		{name: "include app", def: "name: x\nscope: {apps: {include: [payroll]}}", want: []string{"gone/payroll", "new/payroll", "ceo/payroll"}},
		{name: "exclude app", def: "name: x\nscope: {apps: {exclude: [AWS Production, payroll]}}", want: nil},
		{name: "company-wide included", def: "name: x\nscope: {users: [new@x.com], apps: {include_company_wide: true}}", want: []string{"new/slack", "new/payroll"}},
		{name: "explicit company-wide", def: "name: x\nscope: {apps: {company_wide: [Payroll]}}", want: []string{"mgr/aws", "dev/aws", "stale/aws"}},
		{name: "inactive included", def: "name: x\nscope: {users: [dev@x.com], apps: {include_inactive: true}}", want: []string{"dev/aws", "dev/old"}},
		{name: "unknown app", def: "name: x\nscope: {apps: {include: [Nope]}}", wantErr: `scope.apps.include: "Nope" matches no app`},
		{name: "unknown manager", def: "name: x\nscope: {managers: [who@x.com]}", wantErr: `scope.managers: "who@x.com" matches no user`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def, err := ParseDefinition("t.yaml", []byte(tc.def))
			if err != nil {
				t.Fatal(err)
			}
			cs, err := BuildCases(NewIndex(smallOrg()), def, testNow)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := caseKeys(cs)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", keys(got), tc.want)
			}
			for _, k := range tc.want {
				if _, ok := got[k]; !ok {
					t.Errorf("missing %s in %v", k, keys(got))
				}
			}
		})
	}
}

func TestParseDefinitionErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "needs at least `name:`"},
		{"no name", "description: x\n", "name: is required"},
		{"unknown key", "name: x\nscop: {}\n", "field scop not found"},
		{"bad status", "name: x\nscope: {statuses: [ALIVE]}\n", "scope.statuses: \"ALIVE\""},
		{"negative", "name: x\nflags: {stale_login_days: -1}\n", "flags.stale_login_days"},
		{"manager not email", "name: x\nscope: {managers: [bob]}\n", "scope.managers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDefinition("def.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "def.yaml") {
				t.Fatalf("err = %v, want it to name def.yaml and %q", err, tc.want)
			}
		})
	}
	d, err := ParseDefinition("min.yaml", []byte("name: Minimal\n"))
	if err != nil {
		t.Fatalf("a definition with only name must be valid: %v", err)
	}
	if d.Flags.StaleLoginDays != 60 || d.Flags.UnusedAppDays != 90 || d.Flags.ExcessiveGroups != 30 {
		t.Errorf("defaults not applied: %+v", d.Flags)
	}
}

func TestSummarizeAndCSV(t *testing.T) {
	def, _ := ParseDefinition("t.yaml", []byte("name: Q4\n"))
	cs, err := BuildCases(NewIndex(smallOrg()), def, testNow)
	if err != nil {
		t.Fatal(err)
	}
	p := Summarize(cs)
	if p.Cases != 6 || p.Members != 6 || p.Apps != 2 {
		t.Errorf("cases/members/apps = %d/%d/%d, want 6/6/2", p.Cases, p.Members, p.Apps)
	}
	if p.IAMTeamCases != 1 || len(p.UsersWithoutManager) != 1 || p.UsersWithoutManager[0].Email != "ceo@x.com" {
		t.Errorf("without manager: %d cases, %+v", p.IAMTeamCases, p.UsersWithoutManager)
	}
	// mgr reviews dev and stale (2 members, 2 cases); ceo reviews mgr, gone, new.
	if len(p.Reviewers) != 2 || p.Reviewers[0].Email != "ceo@x.com" || p.Reviewers[0].Cases != 3 || p.Reviewers[0].Members != 3 {
		t.Errorf("reviewers = %+v", p.Reviewers)
	}
	if p.Flags["orphaned"] != 1 || p.Flags["stale_login"] != 2 || p.Flags["unused_app"] != 5 {
		t.Errorf("flags = %v", p.Flags)
	}
	if p.CasesPerApp[0].Label != "AWS Production" || p.CasesPerApp[0].Cases != 3 || p.CasesPerApp[0].ViaGroup != 3 || p.CasesPerApp[0].Direct != 1 {
		t.Errorf("cases per app = %+v", p.CasesPerApp)
	}
	var buf bytes.Buffer
	if err := WriteCasesCSV(&buf, cs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || strings.Join(rows[0], ",") != strings.Join(CaseCSVHeader, ",") {
		t.Fatalf("csv rows = %d, header %v", len(rows), rows[0])
	}
	for _, r := range rows[1:] {
		if r[0] == "mgr" {
			if r[8] != "direct; group:Engineering" || r[5] != "ceo@x.com" || r[10] == "" {
				t.Errorf("mgr row = %v", r)
			}
		}
	}
}
