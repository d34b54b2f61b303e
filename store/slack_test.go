package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	items := []slackrec.OutboxItem{
		{Key: "post:a", Kind: slackrec.KindPost, Target: "okta:00u1", Ref: "form:a", Payload: slackrec.Payload{Text: "hi", Blocks: []byte(`[]`)}},
		{Key: "post:b", Kind: slackrec.KindPost, Target: "C1", Payload: slackrec.Payload{Text: "b"}},
		{Key: "later", Kind: slackrec.KindPost, Target: "C1", NextAt: now.Add(time.Hour)},
	}
	if n, err := st.Enqueue(ctx, items...); err != nil || n != 3 {
		t.Fatalf("enqueue = %d, %v", n, err)
	}
	if n, err := st.Enqueue(ctx, items[0]); err != nil || n != 0 {
		t.Fatalf("re-enqueue of the same key = %d, %v; want 0", n, err)
	}
	claimed, err := st.ClaimOutbox(ctx, now, 10)
	if err != nil || len(claimed) != 2 || claimed[0].Key != "post:a" || claimed[0].Payload.Text != "hi" || claimed[0].Attempts != 1 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	if again, _ := st.ClaimOutbox(ctx, now, 10); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	if err := st.OutboxSent(ctx, claimed[0].ID, "D1", "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	if ch, ts, err := st.MessageRef(ctx, "form:a"); err != nil || ch != "D1" || ts != "1700000000.000100" {
		t.Fatalf("message ref = %s %s %v", ch, ts, err)
	}
	if _, _, err := st.MessageRef(ctx, "nope"); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("missing ref err = %v", err)
	}
	// The second item stays in sending. A live claim is not taken over:
	// only one older than the lease.
	claimedAt := st.Now()
	if live, err := st.ReclaimOutbox(ctx, claimedAt.Add(-2*time.Minute)); err != nil || len(live) != 0 {
		t.Fatalf("a claim younger than the lease was taken over: %+v, %v", live, err)
	}
	// Its process stopped: the first to look takes it over, once.
	stuck, err := st.ReclaimOutbox(ctx, claimedAt.Add(time.Second))
	if err != nil || len(stuck) != 1 || stuck[0].Key != "post:b" {
		t.Fatalf("stuck = %+v, %v", stuck, err)
	}
	if again, err := st.ReclaimOutbox(ctx, claimedAt.Add(-time.Second)); err != nil || len(again) != 0 {
		t.Fatalf("a taken-over item was taken over again: %+v, %v", again, err)
	}
	if err := st.OutboxRetry(ctx, stuck[0].ID, now.Add(time.Minute), "429"); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.ClaimOutbox(ctx, now, 10); len(c) != 0 {
		t.Fatal("a retried item was claimed before its time")
	}
	if c, _ := st.ClaimOutbox(ctx, now.Add(2*time.Minute), 10); len(c) != 1 || c[0].Attempts != 2 {
		t.Fatalf("retried claim = %+v", c)
	}
	counts, err := st.OutboxCounts(ctx)
	if err != nil || counts["sent"] != 1 || counts["sending"] != 1 || counts["pending"] != 1 {
		t.Fatalf("counts = %v, %v", counts, err)
	}
}

func TestSlackUserMapping(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	users := []slackrec.User{{OktaUserID: "00u1", Email: "a@x.com", SlackID: "U1", TeamID: "T1"},
		{OktaUserID: "00u2", Email: "b@x.com", SlackID: "U2", TeamID: "T1"}}
	if err := st.ReplaceSlackUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDMChannel(ctx, "00u1", "D1"); err != nil {
		t.Fatal(err)
	}
	// A refresh keeps the known DM channel and drops users who left.
	if err := st.ReplaceSlackUsers(ctx, users[:1]); err != nil {
		t.Fatal(err)
	}
	if id, ch, err := st.DMChannel(ctx, "00u1"); err != nil || id != "U1" || ch != "D1" {
		t.Fatalf("dm = %s %s %v", id, ch, err)
	}
	if _, err := st.SlackUserBySlack(ctx, "U2"); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("removed user still mapped: %v", err)
	}
	if u, err := st.SlackUserBySlack(ctx, "U1"); err != nil || u.OktaUserID != "00u1" || u.Email != "a@x.com" {
		t.Fatalf("by slack = %+v, %v", u, err)
	}
	first, err := st.MarkHandled(ctx, "act:trigger1", time.Now())
	second, _ := st.MarkHandled(ctx, "act:trigger1", time.Now())
	if err != nil || !first || second {
		t.Fatalf("mark handled = %v %v %v", first, second, err)
	}
}

// Old interaction keys are forgotten; recent ones still refuse a replay.
func TestPruneHandled(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, k := range []struct {
		key string
		at  time.Time
	}{{"act:old", now.Add(-8 * 24 * time.Hour)}, {"act:new", now.Add(-time.Hour)}} {
		if first, err := st.MarkHandled(ctx, k.key, k.at); err != nil || !first {
			t.Fatalf("mark %s: %v %v", k.key, first, err)
		}
	}
	n, err := st.PruneHandled(ctx, now.Add(-7*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if first, _ := st.MarkHandled(ctx, "act:new", now); first {
		t.Fatal("a recent key was forgotten: a replay would be handled twice")
	}
}
