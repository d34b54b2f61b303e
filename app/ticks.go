package app

import (
	"context"
	"time"
)

// runTicks applies what is due once a minute (and once at start): stage
// ends, escalations and reminders; approved plans' removals; scheduled
// and recertification launches; the stale-access sweep. Each step's
// failure is logged and retried at the next tick. Only the leader ticks.
//
// A replica that becomes leader (the one before it died or lost its
// database session) ticks at once, not at its next minute: the singleton
// work resumes within the election's retry period. When half the claim
// lease (serve.claim_lease) is shorter than a minute, the leader also
// runs the executor that often between ticks, so removals start soon
// after the approval and a removal a dead replica left running is
// settled soon after its lease ends.
func (a *App) runTicks(ctx context.Context) error {
	minute := time.NewTicker(time.Minute)
	defer minute.Stop()
	watch := time.NewTicker(leaderPoll)
	defer watch.Stop()
	var removals <-chan time.Time // nil: the minute tick is often enough
	if every := a.claimLease() / 2; every < time.Minute && a.Executor != nil {
		t := time.NewTicker(every)
		defer t.Stop()
		removals = t.C
	}
	tick, execute, led := true, false, false
	for {
		leads := a.leads()
		if leads && (tick || !led || execute) {
			// The work stops when this replica stops leading, not only
			// when serve stops: a leader that lost its database session
			// must not go on removing access beside the next one.
			term, stop := a.leaderTerm(ctx)
			if tick || !led {
				a.Tick(term)
			} else {
				a.executorTick(term)
			}
			stop()
		}
		led, tick, execute = leads, false, false
		select {
		case <-ctx.Done():
			return nil
		case <-minute.C:
			tick = true
		case <-removals:
			execute = true
		case <-watch.C:
		}
	}
}

// Tick runs one round of the scheduled work; tests call it directly.
func (a *App) Tick(ctx context.Context) {
	if err := a.Engine.Tick(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error().Err(err).Msg("campaign tick")
	}
	a.executorTick(ctx)
	if err := a.sched.Tick(ctx, a.started); err != nil && ctx.Err() == nil {
		a.Log.Error().Err(err).Msg("schedule tick")
	}
	a.sweepTick(ctx)
	a.pruneTick(ctx)
}

// handledKept is how long a click's or an event's key is kept to refuse a
// redelivery: Slack redelivers within minutes.
const handledKept = 7 * 24 * time.Hour

// pruneTick forgets old interaction keys, at most once an hour.
func (a *App) pruneTick(ctx context.Context) {
	if time.Since(a.pruned) < time.Hour {
		return
	}
	a.pruned = time.Now()
	n, err := a.Store.PruneHandled(ctx, time.Now().Add(-handledKept))
	switch {
	case err != nil && ctx.Err() == nil:
		a.Log.Error().Err(err).Msg("prune handled interactions")
	case n > 0:
		a.Log.Info().Int64("keys", n).Msg("forgot interaction keys older than a week")
	}
}

// executorTick starts approved plans and runs remediating ones.
func (a *App) executorTick(ctx context.Context) {
	if a.Executor == nil {
		return
	}
	if err := a.Executor.Tick(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error().Err(err).Msg("remediation")
	}
}
