package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackrec"
)

// Two replicas on one database: a claim stays its claimer's, renewed,
// until another replica takes it over after the lease; from then on the
// first claimer's renewal fails, and so does the new claimer's once the
// message is sent.
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
	claimed, err := a.ClaimOutbox(ctx, time.Now(), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	id := claimed[0].ID
	if mine, err := a.RenewOutboxClaim(ctx, id); err != nil || !mine {
		t.Fatalf("the claimer's renewal = %v, %v; want true", mine, err)
	}
	if mine, err := b.RenewOutboxClaim(ctx, id); err != nil || mine {
		t.Fatalf("another replica renewed a claim it never made: %v, %v", mine, err)
	}
	// The lease passed: b takes the item over.
	if took, err := b.ReclaimOutbox(ctx, time.Now().Add(time.Hour)); err != nil || len(took) != 1 {
		t.Fatalf("take over = %+v, %v", took, err)
	}
	if mine, err := a.RenewOutboxClaim(ctx, id); err != nil || mine {
		t.Fatalf("the first claimer still holds a claim taken over: %v, %v", mine, err)
	}
	if mine, err := b.RenewOutboxClaim(ctx, id); err != nil || !mine {
		t.Fatalf("the new claimer's renewal = %v, %v; want true", mine, err)
	}
	if err := b.OutboxSent(ctx, id, "C1", "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	if mine, err := b.RenewOutboxClaim(ctx, id); err != nil || mine {
		t.Fatalf("a sent message renewed as claimed: %v, %v", mine, err)
	}
}
