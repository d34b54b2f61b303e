package oktatest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	item := map[string][]string{
		"status":    {"ACTIVE"},
		"eventType": {"user.authentication.sso"},
		"target.id": {"0oa1", "0ua2"},
		"lastLogin": {"2026-11-01T00:00:00.000Z"},
		"title":     {`Say "hi"`},
		"empty":     {""},
	}
	get := func(attr string) ([]string, bool) {
		v, ok := item[attr]
		return v, ok
	}
	tests := []struct {
		name, expr string
		want, bad  bool
	}{
		{"empty matches", "", true, false},
		{"eq", `status eq "ACTIVE"`, true, false},
		{"eq other", `status eq "SUSPENDED"`, false, false},
		{"or", `status eq "SUSPENDED" or status eq "ACTIVE"`, true, false},
		{"and", `status eq "ACTIVE" and eventType eq "user.session.start"`, false, false},
		{"and binds tighter", `status eq "X" and status eq "Y" or status eq "ACTIVE"`, true, false},
		{"parentheses", `(status eq "X" or status eq "ACTIVE") and eventType sw "user.auth"`, true, false},
		{"keywords any case", `status EQ "ACTIVE" OR status eq "X"`, true, false},
		{"any value of many", `target.id eq "0ua2"`, true, false},
		{"ne", `status ne "ACTIVE"`, false, false},
		{"co", `eventType co "authentication"`, true, false},
		{"timestamps compare", `lastLogin gt "2026-10-01T00:00:00.000Z"`, true, false},
		{"escaped quote", `title eq "Say \"hi\""`, true, false},
		{"present", `status pr`, true, false},
		{"not present", `empty pr`, false, false},
		{"null", `empty eq null`, true, false},
		{"unknown attribute", `colour eq "red"`, false, true},
		{"unknown operator", `status like "A%"`, false, true},
		{"unterminated string", `status eq "ACTIVE`, false, true},
		{"dangling or", `status eq "ACTIVE" or`, false, true},
		{"unbalanced", `(status eq "ACTIVE"`, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pred, err := parseFilter(tc.expr, get)
			if tc.bad {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := pred(get); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

// statusesOf lists users and returns how many of each status came back.
func statusesOf(t *testing.T, srv *Server, query string) (map[string]int, int) {
	t.Helper()
	resp, body := get(t, srv, "/api/v1/users?limit=200&"+query)
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	var users []struct{ Status string }
	if err := json.Unmarshal(body, &users); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, u := range users {
		out[u.Status]++
	}
	return out, resp.StatusCode
}

func TestUserListFilters(t *testing.T) {
	srv, org := serve(t, Params{Seed: 8, Users: 190, Apps: 5, Groups: 15})
	want := map[string]int{}
	for _, u := range org.Users {
		want[u.Status]++
	}
	deprov := url.Values{"filter": {`status eq "DEPROVISIONED"`}}.Encode()
	tests := []struct {
		name, query string
		statuses    []string // the statuses that must come back, in full
		status      int
	}{
		{"plain list omits DEPROVISIONED", "", []string{StatusActive, StatusSuspended, StatusStaged}, 200},
		{"filter asks for DEPROVISIONED", deprov, []string{StatusDeprovisioned}, 200},
		{"search asks for DEPROVISIONED", "search=" + url.QueryEscape(`status eq "DEPROVISIONED"`), []string{StatusDeprovisioned}, 200},
		{"or of statuses", "filter=" + url.QueryEscape(`status eq "SUSPENDED" or status eq "DEPROVISIONED"`),
			[]string{StatusSuspended, StatusDeprovisioned}, 200},
		{"bad filter", "filter=" + url.QueryEscape(`status eq`), nil, 400},
		{"unknown attribute", "filter=" + url.QueryEscape(`profile.shoeSize eq "9"`), nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, code := statusesOf(t, srv, tc.query)
			if code != tc.status {
				t.Fatalf("status = %d, want %d", code, tc.status)
			}
			for _, s := range tc.statuses {
				if got[s] != want[s] || want[s] == 0 {
					t.Errorf("%s users = %d, want %d (and some)", s, got[s], want[s])
				}
			}
			if tc.query == "" && got[StatusDeprovisioned] != 0 {
				t.Errorf("plain list served %d DEPROVISIONED users", got[StatusDeprovisioned])
			}
			if tc.query != "" && code == 200 && len(got) != len(tc.statuses) {
				t.Errorf("statuses served %v, want only %v", got, tc.statuses)
			}
		})
	}
}

func TestOtherListFilters(t *testing.T) {
	srv, org := serve(t, small(13))
	count := func(target string) int {
		resp, body := get(t, srv, target)
		if resp.StatusCode != http.StatusOK {
			return -resp.StatusCode
		}
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	byType, inactive, prefixed := map[string]int{}, 0, 0
	for _, g := range org.Groups {
		byType[g.Type]++
		if strings.HasPrefix(strings.ToLower(g.Name), "team-") {
			prefixed++
		}
	}
	for _, a := range org.Apps {
		if a.Status != StatusActive {
			inactive++
		}
	}
	busiest := org.Groups[0].ID
	assigned := map[string]int{}
	for _, a := range org.Apps {
		for _, ga := range org.AppGroups[a.ID] {
			if assigned[ga.GroupID]++; assigned[ga.GroupID] > assigned[busiest] {
				busiest = ga.GroupID
			}
		}
	}
	tests := []struct {
		name, target string
		want         int
	}{
		{"apps of a group", "/api/v1/groups/" + busiest + "/apps?limit=200", assigned[busiest]},
		{"apps by group filter", "/api/v1/apps?limit=200&filter=" + url.QueryEscape(`group.id eq "`+busiest+`"`), assigned[busiest]},
		{"group type", "/api/v1/groups?filter=" + url.QueryEscape(`type eq "APP_GROUP"`), byType[GroupApp]},
		{"group name prefix", "/api/v1/groups?q=team-", prefixed},
		{"inactive apps", "/api/v1/apps?limit=200&filter=" + url.QueryEscape(`status eq "INACTIVE"`), inactive},
		{"bad app filter", "/api/v1/apps?filter=" + url.QueryEscape(`status eq`), -400},
		{"bad log filter", "/api/v1/logs?filter=" + url.QueryEscape(`eventType = "x"`), -400},
		{"bad since", "/api/v1/logs?since=yesterday", -400},
		{"bad sort order", "/api/v1/logs?sortOrder=RANDOM", -400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := count(tc.target); got != tc.want {
				t.Errorf("items = %d, want %d (negative: status)", got, tc.want)
			}
		})
	}
}
