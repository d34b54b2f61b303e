package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/metrics"
)

// newSlack builds the bot (over Socket Mode, or over HTTP request URLs
// with slack.mode: http) and the outbox sender around the core's Slack
// handler.
func (a *App) newSlack() {
	h := a.Slack
	h.AwaitUserMap() // interactions before the first user map wait for it, told attest is starting
	a.bot = &bot.Bot{API: a.SlackAPI, Handler: h, Handled: a.Store, Log: a.Log.With().Str("component", "socket").Logger()}
	if a.Config.Slack.Mode == config.SlackModeHTTP {
		a.bot.SigningSecret = a.Config.Slack.SigningSecret.Reveal()
		a.bot.Log = a.Log.With().Str("component", "slack-http").Logger()
	} else {
		a.bot.Client = socketmode.New(a.SlackAPI)
	}
	a.sender = &bot.Sender{API: a.SlackAPI, Store: a.Store, Log: a.Log.With().Str("component", "outbox").Logger(),
		Observe: observeSlack(a.Metrics)}
	if a.Store.Shared() {
		// Other replicas send from the same outbox: take over only what a
		// dead replica left in sending, after the lease.
		a.sender.Lease = a.claimLease()
	}
}

// runBot holds the Socket Mode connection (in http mode it waits for the
// requests in flight at shutdown); credentials Slack refuses are fatal and
// stop the whole process.
func (a *App) runBot(ctx context.Context) error {
	if err := a.bot.Run(ctx); err != nil {
		if errors.Is(err, bot.ErrFatal) {
			return fmt.Errorf("slack: %w; fix the Slack credentials and restart attest", err)
		}
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// runSender delivers the outbox once users are mapped to Slack.
func (a *App) runSender(ctx context.Context) error {
	select {
	case <-a.mapped:
	case <-ctx.Done():
		return nil
	}
	return a.sender.Run(ctx)
}

// markMapped records that the first user mapping was attempted.
func (a *App) markMapped() { a.mappedOnce.Do(func() { close(a.mapped) }) }

// isMapped reports whether markMapped was called.
func (a *App) isMapped() bool {
	select {
	case <-a.mapped:
		return true
	default:
		return false
	}
}

// refreshUsers maps Okta users to Slack users (after a sync, and at start)
// and tells the IAM team who could not be mapped.
func (a *App) refreshUsers(ctx context.Context) {
	if a.Slack == nil {
		return
	}
	start := time.Now()
	n, unmapped, err := a.Slack.RefreshUsers(ctx)
	if errors.Is(err, campaign.ErrNotFound) {
		return // no snapshot yet: the first sync maps them
	}
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Error().Err(err).Msg("map Okta users to Slack")
		}
		return
	}
	ev := a.Log.Info().Int("mapped", n).Int("unmapped", len(unmapped)).Dur("took", time.Since(start))
	if len(unmapped) > 0 {
		ev = ev.Strs("unmapped_sample", unmapped[:min(len(unmapped), 20)])
	}
	ev.Msg("Okta users mapped to Slack; unmapped users' cases go to their managers")
	if len(unmapped) == 0 {
		return
	}
	list := unmapped[:min(len(unmapped), 50)]
	text := fmt.Sprintf("%d active Okta users have no Slack account with their email; their cases go to their managers: %s",
		len(unmapped), strings.Join(list, ", "))
	if err := a.Slack.NotifyIAM(ctx, "unmapped:"+time.Now().UTC().Format("2006-01-02"), text); err != nil {
		a.Log.Error().Err(err).Msg("tell the IAM team about unmapped users")
	}
}

// observeSlack counts Slack calls for /metrics.
func observeSlack(m *metrics.Metrics) func(string) {
	if m == nil {
		return nil
	}
	return func(outcome string) { m.APICalls.WithLabelValues("slack", outcome).Inc() }
}

// sweepName is the schedule-run name of the stale-access sweep.
const sweepName = "__stale_access_sweep__"

// sweepTick runs the stale-access sweep when its schedule says so, once per
// slot across processes (claimed in the store like scheduled campaigns).
func (a *App) sweepTick(ctx context.Context) {
	if a.Slack == nil || a.Config.Sweep.Schedule == "" {
		return
	}
	sched, err := cron.ParseStandard(a.Config.Sweep.Schedule)
	if err != nil {
		return // refused by config validation already
	}
	_, claimed, err := a.Engine.ClaimDueSlot(ctx, sweepName, sched, a.started)
	if err != nil {
		a.Log.Error().Err(err).Msg("sweep schedule")
		return
	}
	if !claimed {
		return
	}
	s := a.Config.Sweep
	findings, err := a.Slack.RunSweep(ctx, a.Store, campaign.SweepOptions{StaleLoginDays: s.StaleLoginDays,
		UnusedAppDays: s.UnusedAppDays, ExcessiveGroups: s.ExcessiveGroups})
	if err != nil {
		a.Log.Error().Err(err).Msg("stale-access sweep")
		return
	}
	a.Log.Info().Int("findings", len(findings)).Msg("stale-access sweep posted")
}
