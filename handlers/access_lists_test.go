package handlers

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
)

// slackAccess is an Access over the fake Slack: user group S0IAMTEAM
// (@iam-team) holds UALICE; UBOB is listed by id; clock is the Access's.
type slackAccess struct {
	a     *Access
	slack *slacktest.Server
	log   *bytes.Buffer
	clock *fakeClock
}

// fakeClock is an injected clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newSlackAccess(t *testing.T, approvers ...string) *slackAccess {
	t.Helper()
	s := slacktest.New()
	t.Cleanup(s.Close)
	s.AddUser(slacktest.User{ID: "UALICE", Name: "alice", Email: "alice@example.com"})
	s.AddUser(slacktest.User{ID: "UBOB", Name: "bob", Email: "bob@example.com"})
	s.AddUserGroup("S0IAMTEAM", "iam-team", "UALICE")
	r := &slackAccess{slack: s, log: &bytes.Buffer{}, clock: &fakeClock{t: t0}}
	r.a = &Access{Users: &fakeUsers{}, Groups: s.Client(), Approvers: approvers, Admins: approvers,
		Log: zerolog.New(r.log), Now: r.clock.Now}
	return r
}

// Handles resolve to user groups (usergroups.list) or users, and one entry
// that names nothing never voids the entries after it. The old code sent
// "@iam-team" to usergroups.users.list as an id; the failure ended the
// loop, so UBOB, listed after it, was refused too.
func TestListsResolveEachEntry(t *testing.T) {
	tests := []struct {
		name      string
		approvers []string
		user      string
		want      bool
	}{
		{"group handle", []string{"@iam-team"}, "UALICE", true},
		{"group handle without @", []string{"iam-team"}, "UALICE", true},
		{"user id after a handle", []string{"@iam-team", "UBOB"}, "UBOB", true},
		{"user id after an unknown handle", []string{"@no-such-team", "UBOB"}, "UBOB", true},
		{"group after an unknown group id", []string{"S0GONE", "S0IAMTEAM"}, "UALICE", true},
		{"user handle", []string{"@bob"}, "UBOB", true},
		{"not listed", []string{"@no-such-team", "@iam-team", "UBOB"}, "UCAROL", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newSlackAccess(t, tc.approvers...)
			r.a.SetUserHandles(map[string]string{"bob": "UBOB"})
			got, err := r.a.IsApprover(context.Background(), tc.user)
			if err != nil || got != tc.want {
				t.Fatalf("IsApprover(%s) = %v, %v; want %v, nil\nlog: %s", tc.user, got, err, tc.want, r.log)
			}
		})
	}
}

// A bad entry is logged once, clearly, however often the list is read.
func TestBadEntryLoggedOnce(t *testing.T) {
	r := newSlackAccess(t, "@no-such-team", "S0GONE", "UBOB")
	for range 3 {
		if ok, err := r.a.IsApprover(context.Background(), "UCAROL"); ok || err != nil {
			t.Fatalf("UCAROL: %v, %v", ok, err)
		}
		r.clock.Add(2 * membersFresh)
	}
	for _, entry := range []string{"@no-such-team", "S0GONE"} {
		if n := strings.Count(r.log.String(), `"entry":"`+entry+`"`); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", entry, n, r.log)
		}
	}
	if !strings.Contains(r.log.String(), "the rest of the list still counts") {
		t.Errorf("the log does not say the rest still counts:\n%s", r.log)
	}
}

// Membership is kept for membersFresh; under rate limiting or a failure
// that passes, the last membership decides up to MaxMembershipStaleness;
// beyond it the check fails closed saying it could not be made. The old
// code asked Slack on every check and refused Alice at the first 429.
func TestMembershipBoundedStaleness(t *testing.T) {
	r := newSlackAccess(t, "S0IAMTEAM")
	ctx := context.Background()
	calls := func() int { return len(r.slack.Calls("usergroups.users.list")) }
	steps := []struct {
		name    string
		advance time.Duration
		fail    func()
		want    bool
		failed  bool // the check could not be made
		calls   int  // usergroups.users.list calls so far
	}{
		{name: "first read", want: true, calls: 1},
		{name: "cached", advance: 30 * time.Second, want: true, calls: 1},
		{name: "429 with a minute-old membership", advance: 31 * time.Second,
			fail: func() { r.slack.FailHTTP("usergroups.users.list", 429, 1) }, want: true, calls: 2},
		{name: "within Retry-After Slack is not asked", advance: 500 * time.Millisecond, want: true, calls: 2},
		{name: "ratelimited error at ten minutes", advance: 9*time.Minute - 500*time.Millisecond,
			fail: func() { r.slack.FailNext("usergroups.users.list", "ratelimited", 1) }, want: true, calls: 3},
		{name: "503 at the bound", advance: MaxMembershipStaleness - 10*time.Minute - time.Second,
			fail: func() { r.slack.FailHTTP("usergroups.users.list", 503, 1) }, want: true, calls: 4},
		{name: "429 past the bound", advance: 2 * time.Second,
			fail: func() { r.slack.FailHTTP("usergroups.users.list", 429, 1) }, failed: true, calls: 5},
		{name: "past the bound, within Retry-After: not asked, unknown", advance: 500 * time.Millisecond, failed: true, calls: 5},
		{name: "Slack answers again", advance: time.Second, want: true, calls: 6},
	}
	for _, st := range steps {
		r.clock.Add(st.advance)
		if st.fail != nil {
			st.fail()
		}
		got, err := r.a.IsApprover(ctx, "UALICE")
		if got != st.want || errors.Is(err, errCheckFailed) != st.failed || err != nil && !st.failed {
			t.Fatalf("%s: IsApprover = %v, %v; want %v, failed %v", st.name, got, err, st.want, st.failed)
		}
		if calls() != st.calls {
			t.Fatalf("%s: %d calls of usergroups.users.list, want %d", st.name, calls(), st.calls)
		}
	}
}

// Past the bound, an admin is told the check could not be made, never
// that they are not an admin.
func TestCheckFailureMessage(t *testing.T) {
	r := newSlackAccess(t, "S0IAMTEAM")
	r.slack.FailHTTP("usergroups.users.list", 429, 1)
	err := r.a.requireAdmin(context.Background(), "UALICE", "close campaigns")
	msg := campaign.ErrorMessage(err)
	if campaign.ErrorCode(err) != campaign.ETransient || !strings.Contains(msg, "could not check") || strings.Contains(msg, "Only IAM admins") {
		t.Fatalf("refusal %q (%s)", msg, campaign.ErrorCode(err))
	}
}

// Removing someone from the group takes effect once the cache is older
// than membersFresh.
func TestMembershipChangeSeenAfterAMinute(t *testing.T) {
	r := newSlackAccess(t, "@iam-team")
	ctx := context.Background()
	if ok, _ := r.a.IsApprover(ctx, "UALICE"); !ok {
		t.Fatal("Alice is in the group")
	}
	r.slack.AddUserGroup("S0IAMTEAM", "iam-team", "UBOB")
	r.clock.Add(membersFresh)
	if ok, err := r.a.IsApprover(ctx, "UALICE"); ok || err != nil {
		t.Fatalf("Alice removed a minute ago: %v, %v", ok, err)
	}
}
