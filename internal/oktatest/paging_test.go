package oktatest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// serve starts a server for a generated org and closes it with the test.
func serve(t *testing.T, p Params, opts ...Option) (*Server, *Org) {
	t.Helper()
	org := Generate(p)
	srv := NewServer(org, opts...)
	t.Cleanup(srv.Close)
	return srv, org
}

// call sends a request with the server's token unless auth says otherwise
// ("-" for no Authorization header).
func call(t *testing.T, srv *Server, method, target, auth string) (*http.Response, []byte) {
	t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = srv.URL + target
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	switch auth {
	case "":
		req.Header.Set("Authorization", "SSWS "+srv.Token)
	case "-":
	default:
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func get(t *testing.T, srv *Server, target string) (*http.Response, []byte) {
	t.Helper()
	return call(t, srv, http.MethodGet, target, "")
}

// links returns the Link headers by rel.
func links(resp *http.Response) map[string]string {
	out := map[string]string{}
	for _, v := range resp.Header.Values("Link") {
		u, rel, ok := strings.Cut(v, ">; rel=")
		if ok {
			out[strings.Trim(rel, `"`)] = strings.TrimPrefix(u, "<")
		}
	}
	return out
}

// collect follows rel="next" from target to the end and returns every
// item's key field, in order, and the number of pages.
func collect(t *testing.T, srv *Server, target, key string) (keys []string, pages int) {
	t.Helper()
	for target != "" {
		resp, body := get(t, srv, target)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, resp.StatusCode, body)
		}
		var items []map[string]any
		if err := json.Unmarshal(body, &items); err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		for _, it := range items {
			keys = append(keys, it[key].(string))
		}
		pages++
		if pages > 10_000 {
			t.Fatal("paging does not end")
		}
		target = links(resp)["next"]
	}
	return keys, pages
}

func TestPagingCollectsEveryItemOnce(t *testing.T) {
	srv, org := serve(t, small(11))
	everyone, company := org.Everyone(), ""
	var users, deprov, groups, rules, apps, active []string
	for _, u := range org.Users {
		if u.Status == StatusDeprovisioned {
			deprov = append(deprov, u.ID)
		} else {
			users = append(users, u.ID)
		}
	}
	for _, g := range org.Groups {
		groups = append(groups, g.ID)
	}
	for _, r := range org.GroupRules {
		rules = append(rules, r.ID)
	}
	for _, a := range org.Apps {
		apps = append(apps, a.ID)
		if a.Status == StatusActive {
			active = append(active, a.ID)
		}
		if a.CompanyWide {
			company = a.ID
		}
	}
	var appUsers, appGroups []string
	for _, au := range org.AppUsers(company) {
		appUsers = append(appUsers, au.UserID)
	}
	busiest := org.Apps[0].ID
	for _, a := range org.Apps {
		if len(org.AppGroups[a.ID]) > len(org.AppGroups[busiest]) {
			busiest = a.ID
		}
	}
	for _, ga := range org.AppGroups[busiest] {
		appGroups = append(appGroups, ga.GroupID)
	}
	since, until := org.Now.AddDate(0, 0, -90), org.Now
	var sso []string
	for _, e := range org.Events {
		if e.EventType == EventSSO && !e.Published.Before(since) && e.Published.Before(until) {
			sso = append(sso, e.UUID)
		}
	}
	logQuery := url.Values{"since": {since.Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)},
		"filter": {`eventType eq "user.authentication.sso"`}, "limit": {"250"}}

	tests := []struct {
		name, target, key string
		limit             int
		want              []string
		ordered           bool // the list keeps the order of want (logs)
	}{
		{"users", "/api/v1/users?limit=37", "id", 37, users, false},
		{"deprovisioned users", "/api/v1/users?limit=4&filter=" + url.QueryEscape(`status eq "DEPROVISIONED"`), "id", 4, deprov, false},
		{"groups", "/api/v1/groups?limit=7", "id", 7, groups, false},
		{"group rules", "/api/v1/groups/rules?limit=3", "id", 3, rules, false},
		{"group members", "/api/v1/groups/" + everyone + "/users?limit=50", "id", 50, org.Members[everyone], false},
		{"apps", "/api/v1/apps?limit=4", "id", 4, apps, false},
		{"active apps", "/api/v1/apps?limit=5&filter=" + url.QueryEscape(`status eq "ACTIVE"`), "id", 5, active, false},
		{"app users", "/api/v1/apps/" + company + "/users?limit=33", "id", 33, appUsers, false},
		{"app groups", "/api/v1/apps/" + busiest + "/groups?limit=1", "id", 1, appGroups, false},
		{"sso events", "/api/v1/logs?" + logQuery.Encode(), "uuid", 250, sso, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.want) < 2 {
				t.Fatalf("fixture too small: %d items", len(tc.want))
			}
			got, pages := collect(t, srv, tc.target, tc.key)
			if wantPages := (len(tc.want) + tc.limit - 1) / tc.limit; pages != wantPages {
				t.Errorf("pages = %d, want %d", pages, wantPages)
			}
			if tc.ordered {
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %d items, want %d in order", len(got), len(tc.want))
				}
				return
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Error("items repeat or are not in id order")
			}
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("got %d items, want %d", len(got), len(want))
			}
		})
	}
}

func TestLinkHeaders(t *testing.T) {
	srv, _ := serve(t, small(12))
	filter := `status eq "ACTIVE" or status eq "SUSPENDED"`
	resp, _ := get(t, srv, "/api/v1/users?limit=10&filter="+url.QueryEscape(filter))
	if n := len(resp.Header.Values("Link")); n != 2 {
		t.Fatalf("Link lines = %d, want self and next", n)
	}
	l := links(resp)
	self, next := l["self"], l["next"]
	if self != srv.URL+"/api/v1/users?limit=10&filter="+url.QueryEscape(filter) {
		t.Errorf("self = %q", self)
	}
	nu, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, srv.URL+"/api/v1/users?") {
		t.Fatalf("next = %q: want an absolute URL on the server", next)
	}
	if q := nu.Query(); q.Get("limit") != "10" || q.Get("filter") != filter || q.Get("after") == "" {
		t.Errorf("next query = %v: want limit, filter and after", q)
	}
	// The last page links to itself only.
	resp, _ = get(t, srv, "/api/v1/groups/rules")
	if l := links(resp); l["self"] == "" || l["next"] != "" {
		t.Errorf("single page links = %v, want self only", l)
	}
	// The cursor is opaque, and a forged one is refused.
	resp, body := get(t, srv, "/api/v1/users?after=00u0000000000000000")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), CodeValidation) {
		t.Errorf("forged cursor: %d %s", resp.StatusCode, body)
	}
}

func TestLimitClamping(t *testing.T) {
	srv, org := serve(t, Params{Seed: 3, Users: 1300, Apps: 230, Groups: 40})
	company := org.Apps[0].ID
	logs := "/api/v1/logs?since=2026-01-01T00:00:00Z&until=2026-12-01T00:00:00Z"
	tests := []struct {
		name, target string
		want         int
		status       int
	}{
		{"users above max", "/api/v1/users?limit=1000", 200, 200},
		{"users default", "/api/v1/users", 200, 200},
		{"members above max", "/api/v1/groups/" + org.Everyone() + "/users?limit=5000", 1000, 200},
		{"members default", "/api/v1/groups/" + org.Everyone() + "/users", 1000, 200},
		{"apps above max", "/api/v1/apps?limit=500", 200, 200},
		{"apps default", "/api/v1/apps", 20, 200},
		{"app users above max", "/api/v1/apps/" + company + "/users?limit=900", 500, 200},
		{"app users default", "/api/v1/apps/" + company + "/users", 50, 200},
		{"logs above max", logs + "&limit=5000", 1000, 200},
		{"logs default", logs, 100, 200},
		{"groups default", "/api/v1/groups", 40, 200},
		{"zero means default", "/api/v1/apps?limit=0", 20, 200},
		{"not a number", "/api/v1/apps?limit=ten", 0, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, srv, tc.target)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status != http.StatusOK {
				return
			}
			var items []json.RawMessage
			if err := json.Unmarshal(body, &items); err != nil {
				t.Fatal(err)
			}
			if len(items) != tc.want {
				t.Errorf("page size = %d, want %d", len(items), tc.want)
			}
		})
	}
}

// WithMaxPageSize forces paging on lists that would fit in one page.
func TestMaxPageSizeOverride(t *testing.T) {
	srv, org := serve(t, small(14), WithMaxPageSize(ListGroups, 9), WithMaxPageSize(ListUsers, 500))
	got, pages := collect(t, srv, "/api/v1/groups?limit=10000", "id")
	if len(got) != len(org.Groups) || pages != (len(org.Groups)+8)/9 {
		t.Errorf("groups = %d in %d pages, want %d in pages of 9", len(got), pages, len(org.Groups))
	}
	if _, pages := collect(t, srv, "/api/v1/users?limit=500", "id"); pages != 1 {
		t.Errorf("users pages = %d, want 1 with the raised maximum", pages)
	}
	if MaxPageSize(ListAppUsers) != 500 || DefaultPageSize(ListApps) != 20 {
		t.Error("Okta's page sizes changed")
	}
}
