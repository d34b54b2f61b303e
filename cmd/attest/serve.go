package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/metrics"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/store"
)

// cmdServe runs the long-lived process: the Slack bot (when its tokens are
// set), directory syncs on the configured schedule (and one at start when
// there is no snapshot yet), the campaign engine's minute tick and
// scheduled launches, and the HTTP health endpoints.
func cmdServe(e *env, args []string) error {
	fs, c := newFlags(e, "serve", "", false)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, log, err := e.setup(c)
	if err != nil {
		return err
	}
	st, err := store.Open(e.ctx, cfg.Store.Path)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info().Str("version", version).Str("store", cfg.Store.Path).Msg("attest serving")

	e.metrics = metrics.New(st.ReadGauges)
	srv := &server{cfg: cfg, log: log, st: st, env: e, started: time.Now()}
	engine := newEngine(cfg, st, log)
	slackApp, err := startSlack(e.ctx, cfg, log, st, engine, e.metrics)
	if err != nil {
		return err
	}
	if slackApp != nil {
		srv.slack = slackApp
		defer slackApp.wait()
	}
	if err := startServiceNow(e.ctx, cfg, log, st, engine); err != nil {
		return err
	}
	startHooks(e.ctx, cfg, log, st, engine, slackApp)
	var ln net.Listener
	if cfg.HTTP.Listen != "" && cfg.HTTP.Listen != config.ListenOff {
		if ln, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
			return fmt.Errorf("http.listen %s: %w", cfg.HTTP.Listen, err)
		}
		hs := &http.Server{Handler: srv.routes(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("http server stopped")
			}
		}()
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = hs.Shutdown(ctx)
		}()
		log.Info().Str("addr", ln.Addr().String()).Msg("health endpoints listening")
	}

	if err := cfg.RequireOkta(); err != nil {
		log.Warn().Err(err).Msg("Okta is not configured: no directory syncs will run")
	} else {
		sched := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
		if _, err := sched.AddFunc(cfg.Okta.SyncSchedule, func() { srv.sync() }); err != nil {
			return fmt.Errorf("okta.sync_schedule %q: %w", cfg.Okta.SyncSchedule, err)
		}
		sched.Start()
		defer func() { <-sched.Stop().Done() }()
		if _, err := st.LatestSnapshot(e.ctx); errors.Is(err, campaign.ErrNotFound) {
			go srv.sync()
		}
		log.Info().Str("schedule", cfg.Okta.SyncSchedule).Msg("directory sync scheduled")
	}
	sched := &campaign.Scheduler{
		Engine:      engine,
		Definitions: func() ([]campaign.DefinitionFile, error) { return loadDefinitions(cfg.Campaigns.Dir) },
		OnLaunch: func(d campaign.DefinitionFile, c *campaign.Campaign) {
			log.Info().Str("definition", d.Path).Int64("campaign", c.ID).Str("trigger", c.Trigger).Msg("campaign launched")
		},
		OnError: func(d campaign.DefinitionFile, err error) {
			log.Error().Err(err).Str("definition", d.Path).Msg("scheduled launch failed")
		},
	}
	var executor *campaign.Executor
	if cfg.RequireOkta() == nil {
		if executor, err = newExecutor(e, cfg, st, log, engine.Notifier); err != nil {
			return err
		}
		if cfg.Remediation.StepUp {
			engine.StepUp = stepUp(executor.Okta.(*okta.Client))
		}
	}
	runLoop(e.ctx, time.Minute, func(ctx context.Context) {
		if err := engine.Tick(ctx); err != nil {
			log.Error().Err(err).Msg("campaign tick")
		}
		if executor != nil {
			if err := executor.Tick(ctx); err != nil {
				log.Error().Err(err).Msg("remediation")
			}
		}
		if err := sched.Tick(ctx, srv.started); err != nil {
			log.Error().Err(err).Msg("schedule tick")
		}
		if slackApp != nil {
			slackApp.sweepTick(ctx, cfg, st, srv.started)
		}
	})
	log.Info().Msg("shutting down")
	return nil
}

// runLoop calls fn at once and then every interval until ctx ends.
func runLoop(ctx context.Context, every time.Duration, fn func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// server holds what the long-running process shares between its parts.
type server struct {
	cfg     *config.Config
	log     zerolog.Logger
	st      *store.Store
	env     *env
	started time.Time
	syncing atomic.Bool
	slack   *slackApp // nil when Slack is not configured
}

// sync runs one directory sync unless one is already running.
func (s *server) sync() {
	if !s.syncing.CompareAndSwap(false, true) {
		s.log.Info().Msg("a sync is already running; skipping this one")
		return
	}
	defer s.syncing.Store(false)
	if _, err := syncOnce(s.env, s.cfg, s.log, s.st); err != nil {
		s.log.Error().Err(err).Msg("scheduled sync failed")
		return
	}
	if s.slack != nil {
		s.slack.refreshUsers(s.env.ctx)
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	if s.env.metrics != nil {
		mux.Handle("GET /metrics", s.env.metrics.Handler())
	}
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if _, err := s.st.SchemaVersion(r.Context()); err != nil {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		info, err := s.st.LatestSnapshot(r.Context())
		if err != nil {
			http.Error(w, "no directory snapshot yet", http.StatusServiceUnavailable)
			return
		}
		if s.slack != nil && !s.slack.bot.Connected() {
			http.Error(w, "slack socket mode not connected", http.StatusServiceUnavailable)
			return
		}
		// A snapshot older than two sync intervals (and at least a day and
		// a half) means syncs are failing.
		if age := time.Since(info.CompletedAt); age > s.maxSnapshotAge() {
			http.Error(w, fmt.Sprintf("last directory sync was %s ago", age.Round(time.Minute)), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok: snapshot %d from %s\n", info.ID, info.CompletedAt.Format(time.RFC3339))
	})
	// Okta event hooks: deliveries are stored before the 200 and processed
	// later by a hooks.Processor; without a secret the route does not exist.
	if secret := s.cfg.Okta.EventHook.Secret; secret.IsSet() {
		mux.Handle("/okta/events", &hooks.Handler{Secret: secret.Reveal(), Store: s.st, Log: s.log})
	}
	return mux
}

// maxSnapshotAge is how old the latest snapshot may be before /readyz
// fails: twice the sync interval, at least 36 hours.
func (s *server) maxSnapshotAge() time.Duration {
	limit := 36 * time.Hour
	if sched, err := cron.ParseStandard(s.cfg.Okta.SyncSchedule); err == nil {
		first := sched.Next(time.Now())
		if gap := 2 * sched.Next(first).Sub(first); gap > limit {
			limit = gap
		}
	}
	return limit
}
