package app

import (
	"context"
	"time"
)

// runTicks applies what is due once a minute (and once at start): stage
// ends, escalations and reminders; approved plans' removals; scheduled
// and recertification launches; the stale-access sweep. Each step's
// failure is logged and retried at the next tick. Only the leader ticks.
func (a *App) runTicks(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if a.leads() {
			a.Tick(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick runs one round of the scheduled work; tests call it directly.
func (a *App) Tick(ctx context.Context) {
	if err := a.Engine.Tick(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error().Err(err).Msg("campaign tick")
	}
	if a.Executor != nil {
		if err := a.Executor.Tick(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error().Err(err).Msg("remediation")
		}
	}
	if err := a.sched.Tick(ctx, a.started); err != nil && ctx.Err() == nil {
		a.Log.Error().Err(err).Msg("schedule tick")
	}
	a.sweepTick(ctx)
}
