package slacktest

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// rateLimited reports whether err is slack-go's 429 error with a
// one-second Retry-After.
func rateLimited(err error) bool {
	var rl *slack.RateLimitedError
	return errors.As(err, &rl) && rl.RetryAfter == time.Second
}

func TestMethodRateLimit(t *testing.T) {
	clock := newFakeClock()
	s, api := start(t, WithClock(clock.Now), WithRateLimit("users.lookupByEmail", 2))
	c := ctx(t)
	lookup := func() error { _, err := api.GetUserByEmailContext(c, "alice@example.com"); return err }

	tests := []struct {
		name    string
		advance time.Duration
		limited bool
	}{
		{"first of the burst", 0, false},
		{"second of the burst", 0, false},
		{"beyond the burst", 0, true},
		{"still limited", 100 * time.Millisecond, true},
		{"one more after half a second", 400 * time.Millisecond, false},
		{"limited again", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(tt.advance)
			err := lookup()
			if rateLimited(err) != tt.limited {
				t.Errorf("error %v (%T), want rate limited: %v", err, err, tt.limited)
			}
		})
	}
	counts := s.Counts()
	if counts["users.lookupByEmail"] != 6 || counts["429"] != 3 {
		t.Errorf("counts %v", counts)
	}
	if _, err := api.GetUserInfoContext(c, "U1"); err != nil {
		t.Errorf("other methods are not limited: %v", err)
	}
}

func TestChannelRateLimit(t *testing.T) {
	clock := newFakeClock()
	s, api := start(t, WithClock(clock.Now), WithChannelRate(1, 3))
	s.AddChannel("C2", "other")
	c := ctx(t)
	post := func(ch string) error {
		_, _, err := api.PostMessageContext(c, ch, slack.MsgOptionText("x", false))
		return err
	}

	tests := []struct {
		name    string
		channel string
		advance time.Duration
		limited bool
	}{
		{"burst 1", "C1", 0, false},
		{"burst 2", "C1", 0, false},
		{"burst 3", "C1", 0, false},
		{"over the burst", "C1", 0, true},
		{"another channel", "C2", 0, false},
		{"one a second", "C1", time.Second, false},
		{"not two", "C1", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(tt.advance)
			if err := post(tt.channel); rateLimited(err) != tt.limited {
				t.Errorf("error %v, want rate limited: %v", err, tt.limited)
			}
		})
	}
	if n := len(s.Messages("C1")); n != 4 {
		t.Errorf("%d messages stored in C1, want 4", n)
	}
}

func TestScriptedFailures(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	s.FailNext("chat.postMessage", "fatal_error", 2)
	s.FailHTTP("users.info", http.StatusServiceUnavailable, 1)
	s.FailHTTP("auth.test", http.StatusTooManyRequests, 1)

	post := func() error {
		_, _, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("x", false))
		return err
	}
	info := func() error { _, err := api.GetUserInfoContext(c, "U1"); return err }
	auth := func() error { _, err := api.AuthTestContext(c); return err }
	status := func(err error) int {
		var sc slack.StatusCodeError
		if errors.As(err, &sc) {
			return sc.Code
		}
		return 0
	}

	tests := []struct {
		name string
		call func() error
		// check reports whether err is the one expected.
		check func(err error) bool
	}{
		{"first post fails", post, func(err error) bool { return slackErr(t, err) == "fatal_error" }},
		{"second post fails", post, func(err error) bool { return slackErr(t, err) == "fatal_error" }},
		{"third post passes", post, func(err error) bool { return err == nil }},
		{"users.info 503", info, func(err error) bool { return status(err) == http.StatusServiceUnavailable }},
		{"auth.test 429", auth, func(err error) bool { return rateLimited(err) }},
		{"any method 500", func() error { s.FailHTTP("*", http.StatusInternalServerError, 1); return info() }, func(err error) bool { return status(err) == http.StatusInternalServerError }},
		{"then all is well", info, func(err error) bool { return err == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !tt.check(err) {
				t.Errorf("unexpected error %v (%T)", err, err)
			}
		})
	}
	if got := s.Counts(); got["5xx"] != 2 || got["429"] != 1 {
		t.Errorf("counts %v", got)
	}
}

// slack-go retries a 429 itself only when retries are configured; it then
// waits the Retry-After.
func TestSlackGoRetriesRateLimit(t *testing.T) {
	s, _ := start(t)
	s.FailHTTP("auth.test", http.StatusTooManyRequests, 1)
	api := s.Client(slack.OptionRetry(1))
	began := time.Now()
	if _, err := api.AuthTestContext(ctx(t)); err != nil {
		t.Fatalf("after one retry: %v", err)
	}
	if waited := time.Since(began); waited < time.Second {
		t.Errorf("retried after %v, before Retry-After", waited)
	}
	if n := len(s.Calls("auth.test")); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestLatency(t *testing.T) {
	_, api := start(t, WithLatency(30*time.Millisecond))
	began := time.Now()
	if _, err := api.AuthTestContext(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 30*time.Millisecond {
		t.Errorf("call took %v", d)
	}
}
