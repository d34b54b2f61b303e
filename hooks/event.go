// Package hooks takes in Okta event hook deliveries and processes them
// later: the Handler authenticates a delivery, stores every event in one
// transaction and only then answers 200, so Okta (which waits 3 s and
// retries once) never waits on processing; the Processor claims stored
// events and hands them to a pluggable function. Events are keyed by
// Okta's uuid, so a retried delivery is stored, and processed, once.
package hooks

import (
	"context"
	"errors"
	"time"

	"github.com/attestbot/attest/internal/hookevent"
)

// ErrIgnore, wrapped in the error a Processor's Handle returns, marks the
// event ignored (nothing to do, not a failure): it is never retried.
var ErrIgnore = errors.New("hooks: event ignored")

// Store keeps events durably. The store package implements it.
type Store interface {
	// SaveHookEvents stores events in one transaction, skipping uuids
	// already stored, and returns how many were new. On error nothing is
	// stored.
	SaveHookEvents(ctx context.Context, events []hookevent.Event) (inserted int, err error)
	// ClaimHookEvents moves up to limit events, oldest first, from pending
	// (or from processing whose lease began more than hookevent.Lease before now) to
	// processing, counting an attempt, and returns them.
	ClaimHookEvents(ctx context.Context, limit int, now time.Time) ([]hookevent.Event, error)
	// FinishHookEvent moves a processing event to state (done, ignored,
	// failed, or pending to retry) and records errMsg.
	FinishHookEvent(ctx context.Context, uuid, state, errMsg string) error
}
