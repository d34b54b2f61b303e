package oktatest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	tests := []struct {
		name, prefix, path, other string
		status, n                 int
		code                      string
	}{
		{"500 on apps", "/api/v1/apps", "/api/v1/apps?limit=2", "/api/v1/groups", 500, 2, "E0000009"},
		{"503 on group members", "/api/v1/groups/", "/api/v1/groups/%s/users", "/api/v1/groups", 503, 1, "E0000010"},
		{"403 on users", "/api/v1/users", "/api/v1/users", "/api/v1/apps", 403, 1, "E0000006"},
		{"429 on logs", "/api/v1/logs", "/api/v1/logs", "/api/v1/groups/rules", 429, 3, "E0000047"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, org := serve(t, small(2))
			path := strings.Replace(tc.path, "%s", org.Everyone(), 1)
			srv.FailNext(tc.prefix, tc.status, tc.n)
			if resp, _ := get(t, srv, tc.other); resp.StatusCode != 200 {
				t.Fatalf("a path outside the prefix failed: %d", resp.StatusCode)
			}
			for i := range tc.n {
				resp, body := get(t, srv, path)
				if resp.StatusCode != tc.status {
					t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, tc.status)
				}
				if e := decodeError(t, body); e.ErrorCode != tc.code {
					t.Errorf("errorCode = %s, want %s", e.ErrorCode, tc.code)
				}
				if tc.status == 429 && (resp.Header.Get("X-Rate-Limit-Remaining") != "0" || resp.Header.Get("X-Rate-Limit-Reset") == "") {
					t.Errorf("429 headers: %v", resp.Header)
				}
			}
			if resp, body := get(t, srv, path); resp.StatusCode != 200 {
				t.Fatalf("after %d failures: %d %s", tc.n, resp.StatusCode, body)
			}
			s := srv.Stats()
			wantServer, wantTooMany := 0, 0
			if tc.status >= 500 {
				wantServer = tc.n
			}
			if tc.status == 429 {
				wantTooMany = tc.n
			}
			if s.Injected != tc.n || s.ServerErrors != wantServer || s.TooMany != wantTooMany || s.Total != tc.n+2 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	srv, _ := serve(t, small(2))
	tests := []struct {
		name, method, path string
		status             int
		code, summary      string
	}{
		{"unknown path", "GET", "/api/v1/widgets", 404, "E0000007", "Not found: Resource not found: /api/v1/widgets"},
		{"unknown group", "GET", "/api/v1/groups/00gnope/users", 404, "E0000007", "Not found: Resource not found: 00gnope (UserGroup)"},
		{"unknown app", "GET", "/api/v1/apps/0oanope/users", 404, "E0000007", "Not found: Resource not found: 0oanope (AppInstance)"},
		{"unknown user", "GET", "/api/v1/users/00unope", 404, "E0000007", "Not found: Resource not found: 00unope (User)"},
		{"unsupported method", "POST", "/api/v1/users", 405, "E0000022", "The endpoint does not support the provided HTTP method"},
		{"delete not yet served", "DELETE", "/api/v1/groups/00g1/users/00u1", 404, "E0000007", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, srv, tc.method, tc.path, "")
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			e := decodeError(t, body)
			if e.ErrorCode != tc.code || !strings.HasPrefix(e.ErrorSummary, tc.summary) {
				t.Errorf("error %s: %s, want %s: %s", e.ErrorCode, e.ErrorSummary, tc.code, tc.summary)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "GET" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestSingleResources(t *testing.T) {
	srv, org := serve(t, small(3))
	u, g, a, r := org.Users[3], org.Groups[2], org.Apps[1], org.GroupRules[0]
	members := org.AppUsers(a.ID)
	tests := []struct {
		name, path, key, want string
	}{
		{"user by id", "/api/v1/users/" + u.ID, "id", u.ID},
		{"user by login", "/api/v1/users/" + u.Login, "id", u.ID},
		{"group", "/api/v1/groups/" + g.ID, "id", g.ID},
		{"rule", "/api/v1/groups/rules/" + r.ID, "name", r.Name},
		{"app", "/api/v1/apps/" + a.ID, "label", a.Label},
		{"app user", "/api/v1/apps/" + a.ID + "/users/" + members[0].UserID, "scope", members[0].Scope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, srv, tc.path)
			var obj map[string]any
			if resp.StatusCode != 200 || json.Unmarshal(body, &obj) != nil || obj[tc.key] != tc.want {
				t.Fatalf("%d %s: want %s = %s", resp.StatusCode, body, tc.key, tc.want)
			}
		})
	}
	resp, body := get(t, srv, "/api/v1/users/"+u.ID+"/groups")
	var groups []struct{ ID string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &groups) != nil || len(groups) != len(org.GroupsOf(u.ID)) {
		t.Errorf("user groups: %d, %d groups, want %d", resp.StatusCode, len(groups), len(org.GroupsOf(u.ID)))
	}
}

func TestConcurrencyAndLatency(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		tooMany bool
	}{
		{"unbounded", []Option{WithLatency(60 * time.Millisecond)}, false},
		{"concurrency limit", []Option{WithLatency(60 * time.Millisecond), WithConcurrencyLimit(4)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, small(4), tc.opts...)
			var wg sync.WaitGroup
			start := time.Now()
			for range 12 {
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/apps", nil)
					req.Header.Set("Authorization", "SSWS "+srv.Token)
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					} else {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			s := srv.Stats()
			if s.MaxInFlight < 5 || s.Total != 12 || time.Since(start) < 60*time.Millisecond {
				t.Errorf("max in flight %d, total %d, took %v", s.MaxInFlight, s.Total, time.Since(start))
			}
			if (s.TooMany > 0) != tc.tooMany {
				t.Errorf("429s = %d, want some: %v", s.TooMany, tc.tooMany)
			}
		})
	}
}

func TestRequestsAndReset(t *testing.T) {
	srv, _ := serve(t, small(5))
	get(t, srv, "/api/v1/users?limit=3&filter=x")
	get(t, srv, "/api/v1/nothing")
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Path != "/api/v1/users" ||
		reqs[0].Query.Get("limit") != "3" || reqs[0].Status != 400 || reqs[1].Status != 404 ||
		reqs[0].Bucket != BucketUsers || reqs[0].At.IsZero() {
		t.Fatalf("requests = %+v", reqs)
	}
	srv.ResetStats()
	if s := srv.Stats(); s.Total != 0 || len(srv.Requests()) != 0 || s.Calls[BucketUsers] != 0 {
		t.Errorf("after reset: %+v", s)
	}
}

// A change between two reads shows in the second, and a read that spans
// the change serves nothing twice.
func TestMutationsBetweenSyncs(t *testing.T) {
	srv, org := serve(t, small(6), WithLimits(map[Bucket]int{BucketApps: 0}))
	app := org.Apps[len(org.Apps)-1].ID
	target := "/api/v1/apps/" + app + "/users?limit=5"
	before, _ := collect(t, srv, target, "id")
	var newcomer string
	for _, u := range org.Users {
		if !slices.Contains(before, u.ID) {
			newcomer = u.ID
			break
		}
	}
	if err := srv.AddAssignment(app, newcomer); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetUserStatus(newcomer, StatusSuspended); err != nil {
		t.Fatal(err)
	}
	after, _ := collect(t, srv, target, "id")
	if len(after) != len(before)+1 || !slices.Contains(after, newcomer) {
		t.Fatalf("app users %d -> %d; newcomer present: %v", len(before), len(after), slices.Contains(after, newcomer))
	}
	resp, body := get(t, srv, "/api/v1/users/"+newcomer)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"SUSPENDED"`) {
		t.Errorf("user after SetUserStatus: %s", body)
	}
	if err := srv.RemoveGroupMember(org.Everyone(), "00unobody"); err == nil {
		t.Error("removing a non-member succeeded")
	}

	// Members leave while a read pages through Everyone.
	everyone := "/api/v1/groups/" + org.Everyone() + "/users?limit=10"
	resp, body = get(t, srv, everyone)
	var first []struct{ ID string }
	if err := json.Unmarshal(body, &first); err != nil || len(first) != 10 {
		t.Fatalf("first page: %v, %d items", err, len(first))
	}
	want := len(srv.Org().Members[org.Everyone()])
	for _, u := range first[:3] {
		if err := srv.RemoveGroupMember(org.Everyone(), u.ID); err != nil {
			t.Fatal(err)
		}
	}
	rest, _ := collect(t, srv, links(resp)["next"], "id")
	if len(rest)+len(first) != want || slices.ContainsFunc(first, func(u struct{ ID string }) bool { return slices.Contains(rest, u.ID) }) {
		t.Errorf("served %d + %d members across the change, want %d once each", len(first), len(rest), want)
	}
}
