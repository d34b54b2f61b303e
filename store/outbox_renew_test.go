package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackrec"
)

// Two replicas on one database: a claim stays its claimer's, renewed,
// until it is taken over after the lease, by another replica or by the
// claimer's own recovery; from then on the first claim's renewal fails,
// even when the same replica claims the message again, and every renewal
// fails once the message is sent.
func TestRenewOutboxClaim(t *testing.T) {
	ctx := context.Background()
	path := target(t, filepath.Join(t.TempDir(), "attest.db"))
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Worker() == b.Worker() {
		t.Fatalf("two stores share the worker name %q", a.Worker())
	}
	if _, err := a.Enqueue(ctx, slackrec.OutboxItem{Key: "post:a", Kind: slackrec.KindPost, Target: "C1", Payload: slackrec.Payload{Text: "a"}}); err != nil {
		t.Fatal(err)
	}
	renew := func(st *Store, it slackrec.OutboxItem, want bool, what string) {
		t.Helper()
		if mine, err := st.RenewOutboxClaim(ctx, it.ID, it.ClaimedAt); err != nil || mine != want {
			t.Fatalf("%s: renewal = %v, %v; want %v", what, mine, err, want)
		}
	}
	claimed, err := a.ClaimOutbox(ctx, time.Now(), 10)
	if err != nil || len(claimed) != 1 || claimed[0].ClaimedAt.IsZero() {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	first := claimed[0]
	renew(a, first, true, "the claimer")
	renew(b, first, false, "another replica, with the claim's time")

	// The lease passed: a's own recovery takes the item over and queues
	// it again, and a claims it afresh. The first claim no longer holds.
	took, err := a.ReclaimOutbox(ctx, time.Now().Add(time.Hour))
	if err != nil || len(took) != 1 || !took[0].ClaimedAt.After(first.ClaimedAt) {
		t.Fatalf("take over = %+v, %v", took, err)
	}
	renew(a, first, false, "the first claim, taken over by its own replica")
	if err := a.OutboxRetry(ctx, took[0].ID, time.Now(), "recovered"); err != nil {
		t.Fatal(err)
	}
	again, err := a.ClaimOutbox(ctx, time.Now(), 10)
	if err != nil || len(again) != 1 {
		t.Fatalf("claim again = %+v, %v", again, err)
	}
	renew(a, first, false, "the first claim, with the message claimed again")
	renew(a, again[0], true, "the fresh claim")

	// Another replica takes it over in turn and sends it.
	took, err = b.ReclaimOutbox(ctx, time.Now().Add(time.Hour))
	if err != nil || len(took) != 1 {
		t.Fatalf("take over = %+v, %v", took, err)
	}
	renew(a, again[0], false, "a claim another replica took over")
	renew(b, took[0], true, "the replica that took it over")
	if err := b.OutboxSent(ctx, took[0].ID, "C1", "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	renew(b, took[0], false, "a sent message")
}
