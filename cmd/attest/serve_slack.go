package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/metrics"
	"github.com/attestbot/attest/store"
)

// slackApp is the running Slack side of serve.
type slackApp struct {
	handler *handlers.Handler
	bot     *bot.Bot
	sender  *bot.Sender
	log     zerolog.Logger
	wg      sync.WaitGroup
}

// startSlack connects the bot when the Slack tokens are configured, and
// makes the engine notify through Slack. It returns nil without Slack.
func startSlack(ctx context.Context, cfg *config.Config, log zerolog.Logger, st *store.Store, engine *campaign.Engine, m *metrics.Metrics) (*slackApp, error) {
	if err := cfg.RequireSlack(); err != nil {
		log.Warn().Err(err).Msg("Slack is not configured: notifications are only logged")
		return nil, nil
	}
	api := slack.New(cfg.Slack.BotToken.Reveal(), slack.OptionAppLevelToken(cfg.Slack.AppToken.Reveal()),
		slack.OptionAPIURL(cfg.Slack.APIURL))
	h := &handlers.Handler{
		Engine: engine, Store: st, Campaign: st, API: api, Log: log.With().Str("component", "slack").Logger(), Life: ctx,
		Settings: handlers.Settings{
			Command: cfg.Slack.Command, ApprovalsChannel: cfg.Slack.ApprovalsChannel,
			Admins: cfg.Slack.Admins, Approvers: cfg.Slack.Approvers, SignInWindowDays: cfg.Okta.SystemLogDays,
			Definitions: func() ([]campaign.DefinitionFile, error) { return loadDefinitions(cfg.Campaigns.Dir) },
		},
	}
	engine.Notifier = h
	engine.IsAdmin, engine.IsApprover = h.EngineChecks()
	app := &slackApp{
		handler: h,
		log:     log,
		bot:     &bot.Bot{API: api, Client: socketmode.New(api), Handler: h, Log: log.With().Str("component", "socket").Logger()},
		sender:  &bot.Sender{API: api, Store: st, Log: log.With().Str("component", "outbox").Logger(), Observe: observeSlack(m)},
	}
	app.wg.Add(2)
	go func() {
		defer app.wg.Done()
		if err := app.bot.Run(ctx); err != nil {
			log.Error().Err(err).Msg("slack bot stopped")
			if errors.Is(err, bot.ErrFatal) {
				log.Error().Msg("fix the Slack credentials and restart attest")
			}
		}
	}()
	go func() {
		defer app.wg.Done()
		_ = app.sender.Run(ctx)
	}()
	go app.refreshUsers(ctx)
	return app, nil
}

// refreshUsers maps Okta users to Slack users after a sync.
func (a *slackApp) refreshUsers(ctx context.Context) {
	start := time.Now()
	n, unmapped, err := a.handler.RefreshUsers(ctx)
	if errors.Is(err, campaign.ErrNotFound) {
		return // no snapshot yet: the first sync maps them
	}
	if err != nil {
		a.log.Error().Err(err).Msg("map Okta users to Slack")
		return
	}
	ev := a.log.Info().Int("mapped", n).Int("unmapped", len(unmapped)).Dur("took", time.Since(start))
	if len(unmapped) > 0 {
		ev = ev.Strs("unmapped_sample", unmapped[:min(len(unmapped), 20)])
	}
	ev.Msg("Okta users mapped to Slack; unmapped users' cases go to their managers")
	if len(unmapped) > 0 {
		list := unmapped
		if len(list) > 50 {
			list = list[:50]
		}
		text := fmt.Sprintf("%d active Okta users have no Slack account with their email; their cases go to their managers: %s",
			len(unmapped), strings.Join(list, ", "))
		if err := a.handler.NotifyIAM(ctx, "unmapped:"+time.Now().UTC().Format("2006-01-02"), text); err != nil {
			a.log.Error().Err(err).Msg("tell the IAM team about unmapped users")
		}
	}
}

// wait blocks until the bot and the sender have stopped.
func (a *slackApp) wait() { a.wg.Wait() }

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
func (a *slackApp) sweepTick(ctx context.Context, cfg *config.Config, st *store.Store, started time.Time) {
	if cfg.Sweep.Schedule == "" {
		return
	}
	sched, err := cron.ParseStandard(cfg.Sweep.Schedule)
	if err != nil {
		return // refused by config validation already
	}
	last, err := st.LastScheduleRun(ctx, sweepName)
	if err != nil {
		a.log.Error().Err(err).Msg("sweep schedule")
		return
	}
	now := time.Now()
	slot, due := campaign.DueSlot(sched, last, started, now)
	if !due {
		return
	}
	if ok, err := st.ClaimScheduleRun(ctx, sweepName, slot, now); err != nil || !ok {
		return
	}
	findings, err := a.handler.RunSweep(ctx, st, campaign.SweepOptions{StaleLoginDays: cfg.Sweep.StaleLoginDays,
		UnusedAppDays: cfg.Sweep.UnusedAppDays, ExcessiveGroups: cfg.Sweep.ExcessiveGroups})
	if err != nil {
		a.log.Error().Err(err).Msg("stale-access sweep")
		return
	}
	a.log.Info().Int("findings", len(findings)).Msg("stale-access sweep posted")
}
