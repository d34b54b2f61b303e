package app

import (
	"context"
	"time"
)

// Several replicas on one PostgreSQL database all serve Slack, the HTTP
// endpoints, the outbox, Okta event hooks and ServiceNow jobs (queued work
// is claimed row by row, with leases). The work that must run once (the
// minute tick: stage ends, escalations, reminders, scheduled launches,
// sweeps, approved removals; the directory syncs and the Slack user map)
// runs on one leader, elected through a PostgreSQL advisory lock
// (store.Leader). On SQLite the one process always leads.

// newLeader builds the election and its component.
func (a *App) newLeader() {
	a.leader = a.Store.Leader()
	log := a.Log.With().Str("component", "leader").Logger()
	a.leader.OnChange = func(leading bool, err error) {
		switch {
		case leading:
			log.Info().Str("worker", a.Store.Worker()).Msg("this replica leads: it runs the tick, syncs and the user map")
		case err != nil:
			log.Warn().Err(err).Msg("this replica stopped leading: its database session failed")
		default:
			log.Info().Msg("this replica stopped leading")
		}
	}
	a.add("leader", a.leader.Run)
	if a.Executor != nil && a.Store.Shared() {
		// A removal a dead replica left running is settled (read back from
		// Okta) by the leader once this lease has passed.
		a.Executor.Lease = a.claimLease()
	}
}

// leads reports whether this replica runs the singleton work now.
// An SQLite store has one process, which leads from the start.
func (a *App) leads() bool { return a.leader == nil || !a.Store.Shared() || a.leader.Leading() }

// claimLease is how old a replica's claim on queued work must be before
// another replica takes it over (its replica died): an outbox item still
// in sending, a removal still running. serve.claim_lease, 2 minutes by
// default: longer than any one Slack or Okta call with its retries.
func (a *App) claimLease() time.Duration {
	if d := a.Config.Serve.ClaimLease.Duration(); d > 0 {
		return d
	}
	return 2 * time.Minute
}

// leaderPoll is how often a follower looks whether it leads, and a leader
// whether it still does.
const leaderPoll = time.Second

// whileLeading runs fn whenever this replica leads, with a context that
// ends when it stops leading (or ctx ends); between terms it calls idle,
// when set, every leaderPoll. It returns when ctx ends.
func (a *App) whileLeading(ctx context.Context, fn func(context.Context), idle func(context.Context)) {
	for ctx.Err() == nil {
		if !a.leads() {
			if idle != nil {
				idle(ctx)
			}
			if !sleep(ctx, leaderPoll) {
				return
			}
			continue
		}
		term, cancel := a.leaderTerm(ctx)
		fn(term)
		cancel()
	}
}

// leaderTerm returns a context that ends when ctx does or, within
// leaderPoll, when this replica stops leading; stop releases it.
func (a *App) leaderTerm(ctx context.Context) (context.Context, context.CancelFunc) {
	term, cancel := context.WithCancel(ctx)
	go func() {
		for sleep(term, leaderPoll) {
			if !a.leads() {
				cancel()
				return
			}
		}
	}()
	return term, cancel
}

// sleep waits d, returning false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// followMap, on a follower, opens the user-map gate once the leader has
// mapped users (a snapshot exists): the map lives in the shared store.
func (a *App) followMap(ctx context.Context) {
	if a.isMapped() {
		return
	}
	if _, err := a.Store.LatestSnapshot(ctx); err == nil {
		if a.Slack != nil {
			a.Slack.MarkMapped()
		}
		a.markMapped()
	}
}
