package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/hookevent"
)

func hookEvent(t *testing.T, uuid, typ string, received time.Time) hookevent.Event {
	t.Helper()
	raw := fmt.Sprintf(`{"uuid":%q,"published":"2026-11-24T09:00:00.123Z","eventType":%q,"actor":{"id":"00uadmin","type":"User"},
		"target":[{"id":"0oa1","type":"AppInstance","displayName":"Payroll"},{"id":"00u1","type":"User"}]}`, uuid, typ)
	ev, err := hookevent.DecodeEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	ev.ReceivedAt = received
	return ev
}

func TestSaveHookEvents(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	tests := []struct {
		name  string
		uuids []string
		want  int
	}{
		{"new events", []string{"a", "b", "c"}, 3},
		{"a redelivery", []string{"a", "b", "c"}, 0},
		{"partly new", []string{"c", "d"}, 1},
		{"a duplicate inside one delivery", []string{"e", "e"}, 1},
		{"nothing", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evs []hookevent.Event
			for _, u := range tc.uuids {
				evs = append(evs, hookEvent(t, u, "app.user_membership.add", time.Time{}))
			}
			n, err := st.SaveHookEvents(ctx, evs)
			if err != nil || n != tc.want {
				t.Fatalf("SaveHookEvents = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
	counts, err := st.HookEventCounts(ctx)
	if err != nil || counts[hookevent.StatePending] != 5 || len(counts) != 1 {
		t.Fatalf("counts = %v, %v; want 5 pending", counts, err)
	}
	ev, err := st.HookEvent(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	app, ok := ev.AppInstance()
	if !ev.ReceivedAt.Equal(now) || ev.EventType != "app.user_membership.add" || ev.Actor.ID != "00uadmin" || !ok || app.ID != "0oa1" {
		t.Fatalf("stored event = %+v", ev)
	}
	var published, targets string
	if err := st.events.QueryRowContext(ctx, `SELECT published, target_json FROM hook_events WHERE uuid = 'a'`).Scan(&published, &targets); err != nil {
		t.Fatal(err)
	}
	if published != "2026-11-24T09:00:00.123000000Z" || targets == "[]" {
		t.Fatalf("columns: published %q, targets %q", published, targets)
	}
	// A batch with an invalid event stores nothing of the batch.
	if n, err := st.SaveHookEvents(ctx, []hookevent.Event{hookEvent(t, "z", "x", now), {}}); err == nil || n != 0 {
		t.Fatalf("batch with an event without uuid = %d, %v; want an error", n, err)
	}
	if _, err := st.HookEvent(ctx, "z"); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("half a batch was stored: %v", err)
	}
}

func TestClaimHookEvents(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return t0 }
	for i, u := range []string{"c", "a", "b"} { // received in this order
		if _, err := st.SaveHookEvents(ctx, []hookevent.Event{hookEvent(t, u, "user.risk.detect", t0.Add(time.Duration(i)*time.Second))}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ClaimHookEvents(ctx, 2, t0.Add(time.Minute))
	if err != nil || len(got) != 2 || got[0].UUID != "c" || got[1].UUID != "a" {
		t.Fatalf("first claim = %+v, %v; want c, a", got, err)
	}
	if got[0].State != hookevent.StateProcessing || got[0].Attempts != 1 {
		t.Fatalf("claimed event = %+v", got[0])
	}
	steps := []struct {
		name string
		at   time.Duration // after t0
		want []string
	}{
		{"the rest", 2 * time.Minute, []string{"b"}},
		{"nothing due inside the lease", 3 * time.Minute, nil},
		{"the first two after their lease", time.Minute + hookevent.Lease, []string{"c", "a"}},
		{"b after its lease", 2*time.Minute + hookevent.Lease, []string{"b"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got, err := st.ClaimHookEvents(ctx, 10, t0.Add(s.at))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, ev := range got {
				ids = append(ids, ev.UUID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(s.want) {
				t.Fatalf("claimed %v; want %v", ids, s.want)
			}
		})
	}
	if ev, _ := st.HookEvent(ctx, "c"); ev.Attempts != 2 {
		t.Fatalf("attempts after a re-claim = %d; want 2", ev.Attempts)
	}
	// An event whose stored JSON no longer decodes fails instead of looping.
	if _, err := st.events.ExecContext(ctx, `INSERT INTO hook_events (uuid, received_at, raw) VALUES ('bad', '', 'not json')`); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ClaimHookEvents(ctx, 10, t0.Add(time.Hour)); err != nil || len(got) != 3 {
		t.Fatalf("claim past a broken row = %d events, %v; want the 3 expired", len(got), err)
	}
	var state string
	_ = st.events.QueryRowContext(ctx, `SELECT state FROM hook_events WHERE uuid = 'bad'`).Scan(&state)
	if state != hookevent.StateFailed {
		t.Fatalf("broken row is %q; want failed", state)
	}
}

func TestFinishHookEvent(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	tests := []struct {
		name      string
		state     string
		msg       string
		claim     bool
		wantErr   error
		wantState string
	}{
		{"done", hookevent.StateDone, "", true, nil, hookevent.StateDone},
		{"ignored", hookevent.StateIgnored, "not an app we review", true, nil, hookevent.StateIgnored},
		{"failed", hookevent.StateFailed, "boom", true, nil, hookevent.StateFailed},
		{"back to pending", hookevent.StatePending, "okta 503", true, nil, hookevent.StatePending},
		{"unknown state", "processing", "", true, campaign.ErrInvalid, hookevent.StateProcessing},
		{"not claimed", hookevent.StateDone, "", false, campaign.ErrConflict, hookevent.StatePending},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uuid := fmt.Sprintf("ev%d", i)
			if _, err := st.SaveHookEvents(ctx, []hookevent.Event{hookEvent(t, uuid, "x", now)}); err != nil {
				t.Fatal(err)
			}
			if tc.claim {
				if got, err := st.ClaimHookEvents(ctx, 1, now); err != nil || len(got) != 1 || got[0].UUID != uuid {
					t.Fatalf("claim = %+v, %v", got, err)
				}
			}
			err := st.FinishHookEvent(ctx, uuid, tc.state, tc.msg)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("FinishHookEvent = %v; want %v", err, tc.wantErr)
			}
			ev, err := st.HookEvent(ctx, uuid)
			if err != nil || ev.State != tc.wantState {
				t.Fatalf("state = %q, %v; want %q", ev.State, err, tc.wantState)
			}
			if tc.wantErr == nil && ev.LastError != tc.msg {
				t.Fatalf("last error = %q; want %q", ev.LastError, tc.msg)
			}
			final := tc.wantErr == nil && tc.state != hookevent.StatePending
			if final != !ev.ProcessedAt.IsZero() {
				t.Fatalf("processed at = %v for %s", ev.ProcessedAt, tc.state)
			}
			// Leave nothing claimed for the next case.
			if ev.State == hookevent.StateProcessing {
				_ = st.FinishHookEvent(ctx, uuid, hookevent.StateDone, "")
			}
			if ev.State == hookevent.StatePending {
				if got, _ := st.ClaimHookEvents(ctx, 10, now); len(got) == 1 {
					_ = st.FinishHookEvent(ctx, uuid, hookevent.StateDone, "")
				}
			}
		})
	}
	if err := st.FinishHookEvent(ctx, "nope", hookevent.StateDone, ""); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("unknown uuid = %v; want ErrNotFound", err)
	}
}
