package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/hookevent"
	"github.com/attestbot/attest/store"
)

// clock is a fake time that tests move by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// queued opens a store holding the given events, pending, and a clock.
func queued(t *testing.T, uuids ...string) (*store.Store, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	st := openStore(t)
	st.Now = c.Now
	var evs []hookevent.Event
	for _, u := range uuids {
		ev, err := hookevent.DecodeEvent([]byte(oktaEvent(u, "user.risk.detect", `{"risk":"{level=HIGH}"}`)))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := st.SaveHookEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return st, c
}

func TestProcessorTransitions(t *testing.T) {
	tests := []struct {
		name      string
		handle    func(attempt int) error
		ticks     int
		wantState string
		wantTries int // Handle calls, and attempts recorded
		wantError string
	}{
		{"done", func(int) error { return nil }, 1, hookevent.StateDone, 1, ""},
		{"ignored", func(int) error { return fmt.Errorf("app not reviewed: %w", hooks.ErrIgnore) }, 3, hookevent.StateIgnored, 1, "app not reviewed"},
		{"retried, then done", func(n int) error {
			if n < 3 {
				return errors.New("okta 503")
			}
			return nil
		}, 5, hookevent.StateDone, 3, ""},
		{"retry pending", func(int) error { return errors.New("okta 503") }, 2, hookevent.StatePending, 2, "okta 503"},
		{"failed after 5 attempts", func(int) error { return errors.New("okta 503") }, 8, hookevent.StateFailed, 5, "okta 503"},
		{"a panic is an error", func(int) error { panic("nil map") }, 1, hookevent.StatePending, 1, "panicked: nil map"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, c := queued(t, "e1")
			calls := 0
			p := &hooks.Processor{Store: st, Now: c.Now, Handle: func(_ context.Context, ev hookevent.Event) error {
				calls++
				if ev.UUID != "e1" || ev.RiskLevel() != "HIGH" || ev.Attempts != calls {
					t.Errorf("Handle got %s, risk %q, attempt %d on call %d", ev.UUID, ev.RiskLevel(), ev.Attempts, calls)
				}
				return tc.handle(calls)
			}}
			for range tc.ticks {
				if _, err := p.Tick(ctx); err != nil {
					t.Fatal(err)
				}
				c.now = c.now.Add(time.Minute)
			}
			ev, err := st.HookEvent(ctx, "e1")
			if err != nil {
				t.Fatal(err)
			}
			if ev.State != tc.wantState || calls != tc.wantTries || ev.Attempts != tc.wantTries || !strings.Contains(ev.LastError, tc.wantError) {
				t.Fatalf("state %s, %d calls, %d attempts, error %q; want %s, %d, %q",
					ev.State, calls, ev.Attempts, ev.LastError, tc.wantState, tc.wantTries, tc.wantError)
			}
		})
	}
}

func TestProcessorOrderAndBatch(t *testing.T) {
	ctx := context.Background()
	st, c := queued(t, "e1", "e2", "e3")
	var seen []string
	p := &hooks.Processor{Store: st, Now: c.Now, Batch: 2, Handle: func(_ context.Context, ev hookevent.Event) error {
		seen = append(seen, ev.UUID)
		return nil
	}}
	for _, want := range []int{2, 1, 0} {
		if n, err := p.Tick(ctx); err != nil || n != want {
			t.Fatalf("Tick = %d, %v; want %d", n, err, want)
		}
	}
	if strings.Join(seen, ",") != "e1,e2,e3" {
		t.Fatalf("handled %v; want each once, in order", seen)
	}
}

// A process that stops mid-Handle leaves its events processing; once the
// lease runs out another Tick processes them, and only then.
func TestProcessorCrash(t *testing.T) {
	ctx := context.Background()
	st, c := queued(t, "e1", "e2")
	// The crashed process claimed both and never finished.
	if got, err := st.ClaimHookEvents(ctx, 10, c.Now()); err != nil || len(got) != 2 {
		t.Fatalf("claim = %d, %v", len(got), err)
	}
	var seen []string
	p := &hooks.Processor{Store: st, Now: c.Now, Handle: func(_ context.Context, ev hookevent.Event) error {
		seen = append(seen, fmt.Sprintf("%s#%d", ev.UUID, ev.Attempts))
		return nil
	}}
	steps := []struct {
		after time.Duration
		want  int
	}{
		{0, 0},
		{hookevent.Lease - time.Second, 0},
		{time.Second, 2},
		{hookevent.Lease, 0},
	}
	for _, s := range steps {
		c.now = c.now.Add(s.after)
		if n, err := p.Tick(ctx); err != nil || n != s.want {
			t.Fatalf("Tick after +%v = %d, %v; want %d", s.after, n, err, s.want)
		}
	}
	if strings.Join(seen, ",") != "e1#2,e2#2" {
		t.Fatalf("handled %v; want each once more, on attempt 2", seen)
	}
	if counts, _ := st.HookEventCounts(ctx); counts[hookevent.StateDone] != 2 {
		t.Fatalf("counts = %v", counts)
	}
}

// An event that keeps killing the process is given up on, not retried
// forever.
func TestProcessorCrashLoop(t *testing.T) {
	ctx := context.Background()
	st, c := queued(t, "e1")
	for range hooks.DefaultMaxAttempts {
		if got, err := st.ClaimHookEvents(ctx, 10, c.Now()); err != nil || len(got) != 1 {
			t.Fatalf("claim = %d, %v", len(got), err)
		}
		c.now = c.now.Add(hookevent.Lease)
	}
	p := &hooks.Processor{Store: st, Now: c.Now, Handle: func(context.Context, hookevent.Event) error {
		t.Error("Handle called past the last attempt")
		return nil
	}}
	if n, err := p.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("Tick = %d, %v", n, err)
	}
	if ev, _ := st.HookEvent(ctx, "e1"); ev.State != hookevent.StateFailed || !strings.Contains(ev.LastError, "gave up") {
		t.Fatalf("event = %s %q; want failed", ev.State, ev.LastError)
	}
}

// On shutdown the events not yet handled go back to pending at once,
// rather than waiting out the lease.
func TestProcessorShutdown(t *testing.T) {
	st, c := queued(t, "e1", "e2", "e3")
	ctx, cancel := context.WithCancel(context.Background())
	p := &hooks.Processor{Store: st, Now: c.Now, Handle: func(hctx context.Context, ev hookevent.Event) error {
		if ev.UUID == "e1" {
			return nil
		}
		cancel()
		return hctx.Err()
	}}
	if n, err := p.Tick(ctx); err != nil || n != 3 {
		t.Fatalf("Tick = %d, %v", n, err)
	}
	counts, err := st.HookEventCounts(context.Background())
	if err != nil || counts[hookevent.StateDone] != 1 || counts[hookevent.StatePending] != 2 {
		t.Fatalf("counts = %v, %v; want 1 done, 2 pending", counts, err)
	}
}

func TestProcessorWithoutHandle(t *testing.T) {
	st, _ := queued(t, "e1")
	if _, err := (&hooks.Processor{Store: st}).Tick(context.Background()); err == nil {
		t.Fatal("Tick without Handle succeeded")
	}
	if counts, _ := st.HookEventCounts(context.Background()); counts[hookevent.StatePending] != 1 {
		t.Fatalf("counts = %v; want the event left pending", counts)
	}
}
