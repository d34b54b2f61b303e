package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/attestbot/attest/app"
)

// The tick forgets interaction keys older than a week, and keeps recent
// ones, so a redelivery within minutes is still refused.
func TestTickForgetsOldInteractionKeys(t *testing.T) {
	r := newRig(t)
	a, err := app.New(context.Background(), r.config(""), r.log())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	for key, at := range map[string]time.Time{"act:old": time.Now().Add(-8 * 24 * time.Hour), "act:new": time.Now().Add(-time.Minute)} {
		if first, err := a.Store.MarkHandled(ctx, key, at); err != nil || !first {
			t.Fatalf("mark %s: %v, %v", key, first, err)
		}
	}
	a.Tick(ctx)
	if first, err := a.Store.MarkHandled(ctx, "act:old", time.Now()); err != nil || !first {
		t.Fatalf("an 8-day-old key was kept (first %v, %v)", first, err)
	}
	if first, err := a.Store.MarkHandled(ctx, "act:new", time.Now()); err != nil || first {
		t.Fatalf("a minute-old key was forgotten (first %v, %v)", first, err)
	}
}
