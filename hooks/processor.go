package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attestbot/attest/internal/hookevent"
	"github.com/rs/zerolog"
)

// Defaults for a Processor's zero fields.
const (
	DefaultBatch       = 100
	DefaultMaxAttempts = 5
	// DefaultTimeout bounds one Handle call. It stays well under Lease so
	// a slow call is cut off before another process may claim the event.
	DefaultTimeout = time.Minute
)

// Processor hands stored events to Handle, each exactly once when Handle
// succeeds: a claimed event is processing until Handle returns, and only
// a stopped process (whose lease runs out) or an error sends it round
// again.
type Processor struct {
	// Store is where events are claimed and finished.
	Store Store
	// Handle processes one event. nil marks it done; an error wrapping
	// ErrIgnore marks it ignored; any other error retries it on a later
	// Tick until MaxAttempts, then marks it failed. A panic counts as an
	// error. Handle may see an event again after a crash, so it should be
	// idempotent (key its effects on Event.UUID).
	Handle func(ctx context.Context, ev hookevent.Event) error
	// Log receives a line per failed or retried event.
	Log zerolog.Logger
	// Now is the clock the lease is measured by; nil means time.Now.
	Now func() time.Time
	// Batch is how many events one Tick claims; zero means DefaultBatch.
	Batch int
	// MaxAttempts is how many times an event is tried; zero means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Timeout bounds one Handle call; zero means DefaultTimeout.
	Timeout time.Duration
	// Failed, when set, hears of every event about to be marked failed
	// (its last attempt failed, Handle gave up on it with ErrGiveUp, or a
	// stopped process's lease ran out past the last attempt), with why,
	// so no event is dropped unseen. Until it returns nil the event is not
	// marked failed: it goes back to pending and is reported again on a
	// later Tick.
	Failed func(ctx context.Context, ev hookevent.Event, why error) error
}

// Tick claims one batch of due events and processes them in order. It
// returns how many events it finished (in any state) and the first store
// error met; a Handle error is not a Tick error, it is recorded on the
// event. When ctx ends, the events not yet handled go back to pending.
func (p *Processor) Tick(ctx context.Context) (int, error) {
	if p.Handle == nil {
		return 0, errors.New("hooks: processor has no Handle")
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	batch := p.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	events, err := p.Store.ClaimHookEvents(ctx, batch, now())
	if err != nil {
		return 0, fmt.Errorf("hooks: claim: %w", err)
	}
	var errs []error
	done := 0
	for _, ev := range events {
		state, msg := hookevent.StatePending, "interrupted by shutdown"
		if ctx.Err() == nil {
			state, msg = p.process(ctx, ev)
		}
		if state == hookevent.StateFailed {
			state, msg = p.reportFailed(ctx, ev, msg)
		}
		// Finishing must outlive a cancelled ctx, or a shutdown would leave
		// the event processing until its lease runs out.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := p.Store.FinishHookEvent(fctx, ev.UUID, state, msg)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("hooks: finish %s as %s: %w", ev.UUID, state, err))
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

// process runs Handle for one event and returns the state to record.
func (p *Processor) process(ctx context.Context, ev hookevent.Event) (state, msg string) {
	maxAttempts := p.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	log := p.Log.With().Str("event", ev.UUID).Str("event_type", ev.EventType).Int("attempt", ev.Attempts).Logger()
	// Only a lease that ran out (a process that stopped mid-Handle) can
	// claim an event past its last attempt: it may be what stops the
	// process, so it is not tried again.
	if ev.Attempts > maxAttempts {
		msg = fmt.Sprintf("gave up after %d attempts; the last did not finish", maxAttempts)
		if why, _, ok := strings.Cut(ev.LastError, notReported); ok {
			msg = why // failed before, and Failed did not take the news: report the same
		}
		log.Error().Msg("event hook event failed: " + msg)
		return hookevent.StateFailed, msg
	}
	err := p.call(ctx, ev)
	switch {
	case err == nil:
		return hookevent.StateDone, ""
	case errors.Is(err, ErrIgnore):
		log.Debug().Err(err).Msg("event hook event ignored")
		return hookevent.StateIgnored, err.Error()
	case errors.Is(err, ErrGiveUp):
		log.Error().Err(err).Msg("event hook event failed; another attempt cannot succeed")
		return hookevent.StateFailed, err.Error()
	case ctx.Err() != nil:
		// Shutting down: not the event's fault, so no verdict.
		return hookevent.StatePending, err.Error()
	case ev.Attempts >= maxAttempts:
		log.Error().Err(err).Msg("event hook event failed; giving up")
		return hookevent.StateFailed, err.Error()
	default:
		log.Warn().Err(err).Msg("event hook event failed; will retry")
		return hookevent.StatePending, err.Error()
	}
}

// notReported joins why an event failed and why Failed refused the news,
// in the stored last error of an event kept to be reported again.
const notReported = "; not reported: "

// reportFailed tells Failed about an event about to be marked failed,
// and returns the state to record: failed once Failed took the news, or
// pending (to report it on a later Tick) when Failed returned an error.
func (p *Processor) reportFailed(ctx context.Context, ev hookevent.Event, why string) (state, msg string) {
	if p.Failed == nil {
		return hookevent.StateFailed, why
	}
	if err := p.Failed(ctx, ev, errors.New(why)); err != nil {
		p.Log.Error().Err(err).Str("event", ev.UUID).Str("event_type", ev.EventType).
			Msg("event hook event failed and the failure was not reported; will report again")
		return hookevent.StatePending, why + notReported + err.Error()
	}
	return hookevent.StateFailed, why
}

// call runs Handle with a timeout, turning a panic into an error so one
// bad event cannot stop the loop.
func (p *Processor) call(ctx context.Context, ev hookevent.Event) (err error) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hooks: handling %s panicked: %v", ev.UUID, r)
		}
	}()
	return p.Handle(ctx, ev)
}

// Run calls Tick every interval until ctx ends, and again at once while
// Ticks come back with a full batch, so a burst drains without waiting.
func (p *Processor) Run(ctx context.Context, every time.Duration) {
	batch := p.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := p.Tick(ctx)
		if err != nil {
			p.Log.Error().Err(err).Msg("event hook processing")
		}
		if n >= batch && err == nil && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
