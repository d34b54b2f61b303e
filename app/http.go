package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/hooks"
)

// routes serves /healthz, /readyz, /metrics, in http mode Slack's request
// URLs (/slack/commands, /slack/interactivity, /slack/events) and, with a
// hook secret, the Okta event hook.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	if a.Metrics != nil {
		mux.Handle("GET /metrics", a.Metrics.Handler())
	}
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		msg, err := a.Ready(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, msg)
	})
	// Slack over HTTP (slack.mode: http): the request URLs, each request
	// verified with the signing secret before it is read.
	if a.bot != nil && a.bot.Mode() == config.SlackModeHTTP {
		mux.Handle("/slack/", a.bot.HTTPHandler())
	}
	// Okta event hooks: deliveries are stored before the 200 and processed
	// later by a hooks.Processor; without a secret the route does not exist.
	if secret := a.Config.Okta.EventHook.Secret; secret.IsSet() {
		mux.Handle("/okta/events", &hooks.Handler{Secret: secret.Reveal(), Store: a.Store, Log: a.Log})
	}
	return mux
}

// Ready is the readiness policy: the store answers, a directory snapshot
// exists and is fresh (within twice the sync interval, at least 36 h), and
// with Slack in socket mode the socket is connected. It returns a
// one-line status naming the Slack mode, or an error saying what is not
// ready.
func (a *App) Ready(ctx context.Context) (string, error) {
	if _, err := a.Store.SchemaVersion(ctx); err != nil {
		return "", fmt.Errorf("store unreachable (%s)", a.Store.Backend())
	}
	info, err := a.Store.LatestSnapshot(ctx)
	if err != nil {
		return "", errors.New("no directory snapshot yet")
	}
	if a.Slack != nil && !a.isMapped() {
		return "", errors.New("okta users not yet mapped to slack users")
	}
	// Over HTTP there is no connection to wait for: Slack calls in.
	if a.bot != nil && a.bot.Mode() == config.SlackModeSocket && !a.bot.Connected() {
		return "", errors.New("slack socket mode not connected")
	}
	if age := time.Since(info.CompletedAt); age > a.maxSnapshotAge() {
		return "", fmt.Errorf("last directory sync was %s ago", age.Round(time.Minute))
	}
	msg := fmt.Sprintf("ok: snapshot %d from %s", info.ID, info.CompletedAt.Format(time.RFC3339))
	if a.bot != nil {
		msg += ", slack " + a.bot.Mode()
	}
	msg += ", store " + a.Store.Backend()
	if a.leads() {
		msg += ", leader"
	} else {
		msg += ", follower"
	}
	return msg, nil
}

// maxSnapshotAge is how old the latest snapshot may be before /readyz
// fails: twice the sync interval, at least 36 hours, since a snapshot
// older than that means syncs are failing.
func (a *App) maxSnapshotAge() time.Duration {
	limit := 36 * time.Hour
	if sched, err := cron.ParseStandard(a.Config.Okta.SyncSchedule); err == nil {
		first := sched.Next(time.Now())
		if gap := 2 * sched.Next(first).Sub(first); gap > limit {
			limit = gap
		}
	}
	return limit
}

// runHTTP serves on the listener bound by New until ctx ends, then shuts
// down within the shutdown timeout. A serve error stops the process.
func (a *App) runHTTP(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	a.Log.Info().Str("addr", a.ln.Addr().String()).Msg("health endpoints listening")
	select {
	case err := <-errc:
		return fmt.Errorf("http.listen %s: %w", a.Config.HTTP.Listen, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.shutdownTimeout)
	defer cancel()
	err := a.http.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("http: shutdown: %w", err)
	}
	return nil
}

// hookTriggers builds what processes stored Okta event hook deliveries:
// risky grants and risk detections become reviews, the security team
// hears about risk changes, and a rise to HIGH files an incident. Users,
// apps and groups created since the last sync are read from Okta on the
// read token, and the IAM team (the approvals channel) is told of every
// event that could not be reviewed.
func (a *App) hookTriggers() *hooks.Triggers {
	t := &hooks.Triggers{Engine: a.Engine, Risk: a.Engine.Risk, DecideWithin: 3 * 24 * time.Hour,
		QuarantineGroup: a.Config.Okta.EventHook.QuarantineGroup}
	t.Access = func(ctx context.Context, userID string) ([]campaign.Grant, error) {
		return a.Engine.RiskyAccess(ctx, userID, "high")
	}
	if a.Filer != nil {
		t.Incident = a.Filer.RiskIncident
	}
	if a.Config.RequireOkta() == nil {
		// Building the client makes no request; each lookup is one GET.
		client, err := newOktaClient(context.Background(), a.Config, a.Log, a.Metrics, false)
		if err != nil {
			a.Log.Warn().Err(err).Str("component", "event-hooks").Msg("no Okta lookups: events about users created since the last sync cannot be reviewed")
		} else {
			t.Directory = client
		}
	}
	if a.Slack != nil {
		channel := a.Config.Slack.SecurityChannel
		t.Alert = func(ctx context.Context, key, text string) error {
			return a.Slack.PostTo(ctx, channel, key, text)
		}
		t.Unreviewable = a.Slack.NotifyIAM
	}
	return t
}
