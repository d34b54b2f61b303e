package okta_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/okta"
)

var refNow = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func smallParams() oktatest.Params {
	return oktatest.Params{Seed: 7, Users: 450, Apps: 30, Groups: 60, Now: refNow}
}

func newClient(t *testing.T, srv *oktatest.Server, mut ...func(*okta.Options)) *okta.Client {
	t.Helper()
	o := okta.Options{OrgURL: srv.URL, Token: srv.Token, Concurrency: 4, MaxRetries: 3, Logger: zerolog.Nop()}
	for _, m := range mut {
		m(&o)
	}
	c, err := okta.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readAll(t *testing.T, c *okta.Client) (*campaign.Snapshot, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.ReadDirectory(ctx, campaign.ReadOptions{LogSince: refNow.AddDate(0, 0, -90), LogUntil: refNow})
}

// The client reads everything the fake holds, exactly once, following every
// page: users of all statuses, groups and members, rules, apps, app users
// with their scope, app groups and the latest sign-in per (user, app).
func TestReadDirectoryMatchesOrg(t *testing.T) {
	org := oktatest.Generate(smallParams())
	// Small pages force every list through several pages.
	opts := []oktatest.Option{oktatest.WithWindow(time.Second), oktatest.WithMaxPageSize(oktatest.ListLogs, 400)}
	for _, l := range []oktatest.List{oktatest.ListUsers, oktatest.ListGroups, oktatest.ListGroupRules, oktatest.ListApps} {
		opts = append(opts, oktatest.WithMaxPageSize(l, 7))
	}
	for _, l := range []oktatest.List{oktatest.ListGroupMembers, oktatest.ListAppUsers, oktatest.ListAppGroups} {
		opts = append(opts, oktatest.WithMaxPageSize(l, 40))
	}
	srv := oktatest.NewServer(org, opts...)
	defer srv.Close()
	snap, err := readAll(t, newClient(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != len(org.Users) {
		t.Errorf("users = %d, want %d (DEPROVISIONED included)", len(snap.Users), len(org.Users))
	}
	deprov := 0
	for _, u := range snap.Users {
		if u.Status == campaign.StatusDeprovisioned {
			deprov++
		}
	}
	if deprov == 0 {
		t.Error("no DEPROVISIONED user read; the generator makes some")
	}
	if len(snap.Groups) != len(org.Groups) || len(snap.Apps) != len(org.Apps) || len(snap.Rules) != len(org.GroupRules) {
		t.Errorf("groups/apps/rules = %d/%d/%d, want %d/%d/%d", len(snap.Groups), len(snap.Apps), len(snap.Rules),
			len(org.Groups), len(org.Apps), len(org.GroupRules))
	}
	wantMembers := 0
	for _, g := range org.Groups {
		wantMembers += len(org.Members[g.ID])
	}
	if len(snap.Memberships) != wantMembers {
		t.Errorf("memberships = %d, want %d", len(snap.Memberships), wantMembers)
	}
	wantAppUsers, wantDirect := 0, 0
	for _, a := range org.Apps {
		for _, au := range org.AppUsers(a.ID) {
			wantAppUsers++
			if au.Scope == "USER" {
				wantDirect++
			}
		}
	}
	direct := 0
	for _, au := range snap.AppAssignments {
		if au.Scope == campaign.ScopeUser {
			direct++
		}
	}
	if len(snap.AppAssignments) != wantAppUsers || direct != wantDirect {
		t.Errorf("app users = %d (%d direct), want %d (%d direct)", len(snap.AppAssignments), direct, wantAppUsers, wantDirect)
	}
	if got := campaign.Count(snap).Relations; got != org.Relations() {
		t.Errorf("effective relations = %d, want %d", got, org.Relations())
	}
	checkUsage(t, org, snap)
	for _, a := range snap.Apps {
		if a.Label == "" || !strings.HasPrefix(a.LinkURL, "http") {
			t.Errorf("app %s: label %q link %q", a.ID, a.Label, a.LinkURL)
			break
		}
	}
}

// checkUsage compares the sign-ins read with the latest SSO event per
// (user, app) inside the window, computed from the org's raw events.
func checkUsage(t *testing.T, org *oktatest.Org, snap *campaign.Snapshot) {
	t.Helper()
	want := map[string]time.Time{}
	since := refNow.AddDate(0, 0, -90)
	for _, ev := range org.Events {
		if ev.EventType != "user.authentication.sso" || ev.Published.Before(since) || !ev.Published.Before(refNow) {
			continue
		}
		k := ev.ActorID + "/" + ev.AppID
		if ev.Published.After(want[k]) {
			want[k] = ev.Published
		}
	}
	if len(want) == 0 {
		t.Fatal("the org has no sign-in events in the window")
	}
	got := map[string]time.Time{}
	for _, u := range snap.Usage {
		got[u.UserID+"/"+u.AppID] = u.LastUsed
	}
	if len(got) != len(want) {
		t.Errorf("sign-ins = %d pairs, want %d", len(got), len(want))
	}
	for k, w := range want {
		if !got[k].Equal(w.UTC().Truncate(time.Millisecond)) && !got[k].Equal(w) {
			t.Errorf("last sign-in %s = %v, want %v", k, got[k], w)
			return
		}
	}
}

// Every list asks for the largest page Okta allows, and the System Log
// query always carries until.
func TestReadDirectoryUsesLargestPagesAndBoundedLogQuery(t *testing.T) {
	srv := oktatest.NewServer(oktatest.Generate(smallParams()))
	defer srv.Close()
	if _, err := readAll(t, newClient(t, srv)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/api/v1/users": "200", "/api/v1/groups": "10000", "/api/v1/groups/rules": "200",
		"/api/v1/apps": "200", "/api/v1/logs": "1000"}
	seen := map[string]bool{}
	for _, r := range srv.Requests() {
		p := r.Path
		switch {
		case strings.HasSuffix(p, "/users") && strings.HasPrefix(p, "/api/v1/groups/"):
			p, want[p] = "members", "1000"
		case strings.HasPrefix(p, "/api/v1/apps/") && strings.HasSuffix(p, "/users"):
			p, want[p] = "app users", "500"
		case strings.HasPrefix(p, "/api/v1/apps/") && strings.HasSuffix(p, "/groups"):
			p, want[p] = "app groups", "200"
		}
		if w, ok := want[p]; ok && r.Query.Get("limit") != w {
			t.Errorf("%s asked limit=%q, want %s", r.Path, r.Query.Get("limit"), w)
		}
		if r.Path == "/api/v1/logs" && (r.Query.Get("until") == "" || r.Query.Get("since") == "") {
			t.Errorf("log query without since/until: %v", r.Query)
		}
		seen[p] = true
	}
	for _, p := range []string{"/api/v1/users", "/api/v1/groups", "members", "app users", "app groups", "/api/v1/logs"} {
		if !seen[p] {
			t.Errorf("no request for %s", p)
		}
	}
}

// Under tight limits the pacer keeps every bucket under its limit: no 429
// in steady state, and it still finishes.
func TestReadDirectoryPacesUnderRateLimits(t *testing.T) {
	limits := map[oktatest.Bucket]int{oktatest.BucketUsers: 20, oktatest.BucketGroups: 20,
		oktatest.BucketGroupByID: 40, oktatest.BucketApps: 25, oktatest.BucketLogs: 10}
	srv := oktatest.NewServer(oktatest.Generate(smallParams()), oktatest.WithLimits(limits), oktatest.WithWindow(time.Second))
	defer srv.Close()
	c := newClient(t, srv)
	if _, err := readAll(t, c); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.TooMany != 0 || c.Stats().TooMany != 0 {
		t.Errorf("429s served = %d (client saw %d), want 0 in steady state", st.TooMany, c.Stats().TooMany)
	}
	if c.Stats().Calls != int64(st.Total) {
		t.Errorf("client counted %d calls, server %d", c.Stats().Calls, st.Total)
	}
}

// When another integration eats the budget, the 429 is waited out until
// the window resets and the read completes.
func TestReadDirectoryRecoversFrom429(t *testing.T) {
	srv := oktatest.NewServer(oktatest.Generate(smallParams()), oktatest.WithWindow(time.Second))
	defer srv.Close()
	srv.FailNext("/api/v1/apps", http.StatusTooManyRequests, 3)
	c := newClient(t, srv)
	snap, err := readAll(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Apps) == 0 || c.Stats().TooMany != 3 {
		t.Errorf("apps = %d, 429s met = %d, want 3", len(snap.Apps), c.Stats().TooMany)
	}
}

func TestReadDirectoryRetries5xx(t *testing.T) {
	srv := oktatest.NewServer(oktatest.Generate(smallParams()))
	defer srv.Close()
	srv.FailNext("/api/v1/groups/", http.StatusInternalServerError, 2)
	srv.FailNext("/api/v1/users", http.StatusServiceUnavailable, 1)
	c := newClient(t, srv)
	if _, err := readAll(t, c); err != nil {
		t.Fatalf("transient 5xx should be retried: %v", err)
	}
	if c.Stats().Retries != 3 {
		t.Errorf("retries = %d, want 3", c.Stats().Retries)
	}
}

func TestReadDirectoryGivesUpAfterBound(t *testing.T) {
	srv := oktatest.NewServer(oktatest.Generate(smallParams()))
	defer srv.Close()
	srv.FailNext("/api/v1/apps", http.StatusInternalServerError, 1000)
	c := newClient(t, srv, func(o *okta.Options) { o.MaxRetries = 2 })
	_, err := readAll(t, c)
	if err == nil || !errors.Is(err, campaign.ErrTransient) || !strings.Contains(err.Error(), "list apps") {
		t.Fatalf("err = %v, want a transient error naming the apps list", err)
	}
}

func TestReadDirectoryBadToken(t *testing.T) {
	srv := oktatest.NewServer(oktatest.Generate(smallParams()))
	defer srv.Close()
	c := newClient(t, srv, func(o *okta.Options) { o.Token = "wrong" })
	_, err := readAll(t, c)
	if err == nil || !errors.Is(err, campaign.ErrForbidden) || !strings.Contains(err.Error(), "E0000011") {
		t.Fatalf("err = %v, want forbidden with E0000011", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error leaks the token: %v", err)
	}
}

func TestNewRejectsUnsafeURLs(t *testing.T) {
	tests := []struct{ url, token, want string }{
		{"http://example.okta.com", "t", "http:// on a non-loopback host"},
		{"ftp://example.okta.com", "t", "https://"},
		{"not a url", "t", "not a URL"},
		{"https://example.okta.com", "", "OKTA_API_TOKEN"},
	}
	for _, tc := range tests {
		_, err := okta.New(context.Background(), okta.Options{OrgURL: tc.url, Token: tc.token})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q) err = %v, want %q", tc.url, err, tc.want)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://example.okta.com/"} {
		if _, err := okta.New(context.Background(), okta.Options{OrgURL: u, Token: "t"}); err != nil {
			t.Errorf("New(%q): %v", u, err)
		}
	}
}
