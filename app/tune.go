package app

import "time"

// Tuning adjusts an App for `attest demo` and `attest preview`, which run
// serve against in-process fakes. Zero fields leave their part as New
// built it.
type Tuning struct {
	// Now is the one clock of the engine, the Slack handlers, the store
	// and the executor, so simulated days can pass at once (a stage
	// deadline, an escalation delay) while the components run for real.
	Now func() time.Time
	// SlackRate and SlackPerChannel pace the outbox (bot.Sender's Rate and
	// PerChannel): the fake Slack has no rate limits to respect, and
	// Slack's own pace would make a 200-person demo last minutes.
	SlackRate       float64
	SlackPerChannel time.Duration
}

// Tune applies t. Call it after New and before Run: the components read
// these fields while they run.
func (a *App) Tune(t Tuning) {
	if t.Now != nil {
		a.Engine.Now = t.Now
		a.Store.Now = t.Now
		if a.Executor != nil {
			a.Executor.Now = t.Now
		}
		if h := a.Slack; h != nil {
			// The handler built its halves already (New asked it for the
			// engine's checks): give each the clock too.
			h.Now = t.Now
			h.Inbound().Now = t.Now
			h.Outbound().Now = t.Now
		}
	}
	if a.sender != nil {
		if t.SlackRate > 0 {
			a.sender.Rate = t.SlackRate
		}
		if t.SlackPerChannel > 0 {
			a.sender.PerChannel = t.SlackPerChannel
		}
	}
}
