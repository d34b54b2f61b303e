// Package hooks takes in Okta event hook deliveries and processes them
// later: the Handler authenticates a delivery, stores every event durably
// in one transaction (shared with the deliveries arriving meanwhile, in a
// database that nothing slow writes) and only then answers 200, so Okta
// (which waits 3 s and retries once) never waits on processing or on a
// sync; the Processor claims stored events and hands them to a pluggable
// function. Events are keyed by Okta's uuid, so a retried delivery is
// stored, and processed, once.
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

// ErrGiveUp, wrapped in the error a Processor's Handle returns, marks the
// event failed at once: another attempt cannot succeed (the user it names
// exists nowhere, say), so it is not retried, and the Processor's Failed
// hears of it.
var ErrGiveUp = errors.New("hooks: cannot be processed")

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
