package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/servicenow"
	"github.com/attestbot/attest/store"
)

// App is the whole long-running process of `attest serve`: the Core plus
// every long-lived component (HTTP, Slack socket and sender, directory
// syncs, the minute tick, event hooks, ServiceNow). New builds it, Run runs
// it, Close releases it; nothing is changed after New.
type App struct {
	*Core

	started         time.Time
	shutdownTimeout time.Duration
	life            context.CancelFunc // ends work spawned by Slack clicks

	ln     net.Listener // nil with http.listen: off
	http   *http.Server
	bot    *bot.Bot
	sender *bot.Sender
	sched  *campaign.Scheduler
	// leader elects the replica that runs the singleton work (leader.go).
	leader *store.Leader
	// pruned is when the tick last forgot old interaction keys.
	pruned time.Time
	hooks  *hooks.Processor
	snow   *servicenow.Worker

	components []component
	running    sync.Mutex // held by Run, so Close waits for it

	// mapped closes once the first mapping of Okta users to Slack users
	// was attempted: the outbox waits for it, since a DM is addressed by
	// Okta user id, and /readyz fails until then.
	mapped     chan struct{}
	mappedOnce sync.Once
}

// component is one long-lived part: Run blocks until ctx ends (returning
// nil) or the part fails (returning why).
type component struct {
	name string
	run  func(ctx context.Context) error
}

// New opens the store, builds every component from cfg and binds the HTTP
// listener, so a port already taken fails here, before anything runs. On
// error everything opened so far is closed again.
func New(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*App, error) {
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &App{started: time.Now(), shutdownTimeout: cfg.Serve.ShutdownTimeout.Duration(), life: cancel, mapped: make(chan struct{})}
	if a.shutdownTimeout <= 0 {
		a.shutdownTimeout = config.DefaultShutdownTimeout.Duration()
	}
	// The port is bound first: a port already taken fails at once, before
	// the store is opened or anything connects.
	if cfg.HTTP.Listen != "" && cfg.HTTP.Listen != config.ListenOff {
		ln, err := net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("http.listen %s: %w; free the port or set http.listen to another host:port", cfg.HTTP.Listen, err)
		}
		a.ln = ln
	}
	core, err := Open(ctx, cfg, log, Options{Life: life, Metrics: true})
	if err != nil {
		cancel()
		a.closeListener()
		return nil, err
	}
	a.Core = core
	if err := a.checkOktaAuth(ctx); err != nil {
		cancel()
		a.closeListener()
		core.Close()
		return nil, err
	}
	if err := a.assemble(); err != nil {
		cancel()
		a.closeListener()
		core.Close()
		return nil, err
	}
	return a, nil
}

// assemble builds the components in the order they start.
func (a *App) assemble() error {
	cfg := a.Config
	if a.Slack != nil {
		a.newSlack() // before the routes: in http mode the bot serves on them
	}
	if a.ln != nil {
		a.http = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second}
		a.add("http", a.runHTTP)
	}
	if a.Slack != nil {
		a.add("slack", a.runBot)
		a.add("outbox", a.runSender)
	} else {
		a.Log.Warn().Msg("Slack is not configured: nothing will be delivered to people")
	}
	a.newLeader()
	a.add("directory", a.runDirectory)
	a.sched = &campaign.Scheduler{
		Engine:      a.Engine,
		Definitions: func() ([]campaign.DefinitionFile, error) { return LoadDefinitions(cfg.Campaigns.Dir) },
		OnLaunch: func(d campaign.DefinitionFile, c *campaign.Campaign) {
			a.Log.Info().Str("definition", d.Path).Int64("campaign", c.ID).Str("trigger", c.Trigger).Msg("campaign launched")
		},
		OnError: func(d campaign.DefinitionFile, err error) {
			a.Log.Error().Err(err).Str("definition", d.Path).Msg("scheduled launch failed")
		},
	}
	a.add("tick", a.runTicks)
	if cfg.Okta.EventHook.Secret.IsSet() {
		tr := a.hookTriggers()
		a.hooks = &hooks.Processor{Store: a.Store, Handle: tr.Handle, Failed: tr.Failed,
			Log: a.Log.With().Str("component", "event-hooks").Logger()}
		a.add("event-hooks", func(ctx context.Context) error { a.hooks.Run(ctx, 5*time.Second); return nil })
		a.Log.Info().Msg("Okta event hooks: /okta/events accepts deliveries")
	}
	if sn := cfg.ServiceNow; sn.Enabled() {
		client, err := servicenow.New(servicenow.Options{BaseURL: sn.URL, Username: sn.Username, Password: sn.Password.Reveal(),
			ClientID: sn.ClientID, ClientSecret: sn.ClientSecret.Reveal()})
		if err != nil {
			return err
		}
		a.snow = &servicenow.Worker{Client: client, Store: a.Store, Log: a.Log.With().Str("component", "servicenow").Logger(),
			CloseCode: sn.CloseCode, CloseNotes: sn.CloseNotes}
		a.add("servicenow", func(ctx context.Context) error { return a.snow.Run(ctx, 30*time.Second) })
		a.Log.Info().Str("table", sn.Table).Bool("review_tickets", sn.ReviewTickets).Msg("ServiceNow tickets enabled")
	}
	return nil
}

func (a *App) add(name string, run func(context.Context) error) {
	a.components = append(a.components, component{name: name, run: run})
}

func (a *App) closeListener() {
	if a.ln != nil {
		a.ln.Close()
	}
}

// Addr is the HTTP listener's address (nil with http.listen: off), so tests
// can use port 0.
func (a *App) Addr() net.Addr {
	if a.ln == nil {
		return nil
	}
	return a.ln.Addr()
}

// Run runs every component until ctx ends or one fails; a failure stops
// all the others and is returned. It returns once every component and the
// work they spawned has stopped, or with an error naming the components
// still running after serve.shutdown_timeout.
func (a *App) Run(ctx context.Context) error {
	a.running.Lock()
	defer a.running.Unlock()
	a.Log.Info().Str("store", store.Redact(a.Config.Store.Target())).Int("components", len(a.components)).Msg("attest serving")
	g, gctx := errgroup.WithContext(ctx)
	var mu sync.Mutex
	// Every name is in live before any component starts, so the deletes
	// below never race the inserts.
	live := map[string]bool{}
	for _, c := range a.components {
		live[c.name] = true
	}
	for _, c := range a.components {
		g.Go(func() error {
			defer func() { mu.Lock(); delete(live, c.name); mu.Unlock() }()
			err := c.run(gctx)
			if err != nil && gctx.Err() != nil && errors.Is(err, context.Canceled) {
				return nil
			}
			if err != nil {
				a.Log.Error().Err(err).Str("component", c.name).Msg("component failed; stopping attest")
				return fmt.Errorf("%s: %w", c.name, err)
			}
			return nil
		})
	}
	done := make(chan error, 1)
	go func() {
		err := g.Wait()
		a.life() // work spawned by clicks ends with the components
		if a.Slack != nil {
			a.Slack.Wait()
		}
		done <- err
	}()
	select {
	case err := <-done:
		a.life()
		return err
	case <-gctx.Done():
	}
	a.Log.Info().Dur("timeout", a.shutdownTimeout).Msg("shutting down")
	a.life() // work spawned by clicks ends with the process
	t := time.NewTimer(a.shutdownTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		mu.Lock()
		names := make([]string, 0, len(live))
		for n := range live {
			names = append(names, n)
		}
		mu.Unlock()
		sort.Strings(names)
		return fmt.Errorf("shutdown: %s still running after serve.shutdown_timeout %s", strings.Join(names, ", "), a.shutdownTimeout)
	}
}

// Close releases what New opened: the listener and then the store. It
// waits for Run to return first, so the store closes only after the last
// component stopped.
func (a *App) Close() error {
	a.running.Lock()
	defer a.running.Unlock()
	a.life()
	a.closeListener()
	return a.Core.Close()
}
