package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/progress"
)

// Sync reads the Okta directory into a new snapshot with the read token.
// It fails when Okta is not configured, the HR CSV cannot be read, or the
// sync fails; the previous snapshot then stays the latest. After the
// snapshot is saved it binds the risk rules to it (campaign.RiskBook.Bind);
// when that fails the snapshot stays and the error says so.
func (c *Core) Sync(ctx context.Context) (*campaign.SyncResult, error) {
	cfg, log := c.Config, c.Log
	if err := cfg.RequireOkta(); err != nil {
		return nil, err
	}
	var hr []campaign.HRRecord
	if cfg.Okta.HRCSV != "" {
		f, err := os.Open(cfg.Okta.HRCSV)
		if err != nil {
			return nil, fmt.Errorf("okta.hr_csv: %w", err)
		}
		hr, err = campaign.ReadHRCSV(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Okta.HRCSV, err)
		}
	}
	client, err := newOktaClient(ctx, cfg, log, c.Metrics, false)
	if err != nil {
		return nil, err
	}
	// A service app's token first: a scope Okta did not grant is named
	// before the sync starts, not met halfway through.
	if err := client.CheckAuth(ctx); err != nil {
		return nil, err
	}
	rep := progress.New(log, "sync")
	log.Info().Str("org", cfg.Okta.OrgURL).Int("concurrency", cfg.Okta.Concurrency).Msg("sync started")
	res, err := campaign.Sync(ctx, client, c.Store, campaign.SyncOptions{
		LogWindow: time.Duration(cfg.Okta.SystemLogDays) * 24 * time.Hour,
		HR:        hr,
		Progress:  rep.Update,
	})
	if err != nil {
		calls, limited, retries := client.CallCounts()
		log.Error().Err(err).Int64("api_calls", calls).Int64("rate_limited", limited).Int64("retries", retries).
			Msg("sync failed; the previous snapshot is unchanged")
		return nil, err
	}
	// Bind label and pattern risk rules to the ids they match now, so a
	// later rename keeps the rating.
	if c.Risk != nil {
		bound, err := c.Risk.Bind(ctx, res.SnapshotID)
		if err != nil {
			log.Error().Err(err).Int64("snapshot", res.SnapshotID).Msg("risk ratings not bound; earlier bindings stay")
			return nil, fmt.Errorf("sync: snapshot %d saved but %w", res.SnapshotID, err)
		}
		log.Info().Int("risk_bindings", len(bound)).Msg("risk ratings bound")
	}
	for _, email := range res.HRUnmatched {
		log.Warn().Str("email", email).Msg("hr csv row matches no Okta user")
	}
	if r := res.Counts.Read; r != nil {
		for _, rec := range r.Reconciliation {
			for _, m := range rec.Mismatches {
				log.Warn().Str("object", rec.Object).Str("id", m.ID).Str("name", m.Name).Int("read", m.Read).Int("okta_total", m.OktaTotal).
					Msg("count read differs from Okta's own total; the evidence flags it")
			}
		}
	}
	if h := res.Counts.HR; h != nil && len(h.Leavers) > 0 {
		log.Warn().Int("terminated_in_hr", h.Terminated).Int("not_in_hr", h.Absent).
			Msg("users active in Okta are terminated in or absent from the HR CSV; their cases will be flagged")
	}
	log.Info().Int64("snapshot", res.SnapshotID).Int("users", res.Counts.Users).Int("relations", res.Counts.Relations).
		Int64("api_calls", res.Counts.APICalls).Int64("rate_limited", res.Counts.RateLimited).
		Float64("seconds", res.Counts.DurationSeconds).Msg("sync done")
	return res, nil
}

// runDirectory keeps the directory fresh: a sync at start when there is no
// snapshot yet, then one per okta.sync_schedule slot (never two at once,
// since they run in this one goroutine), each followed by a refresh of the
// Okta-to-Slack user map. Without Okta it only maps users once. A failed
// sync is logged and retried at the next slot; Run stops only with ctx.
func (a *App) runDirectory(ctx context.Context) error {
	if a.Config.RequireOkta() != nil {
		a.Log.Warn().Msg("Okta is not configured: no directory syncs will run")
		a.refreshUsers(ctx)
		a.markMapped()
		<-ctx.Done()
		return nil
	}
	sched, err := cron.ParseStandard(a.Config.Okta.SyncSchedule)
	if err != nil {
		return fmt.Errorf("okta.sync_schedule %q: %w", a.Config.Okta.SyncSchedule, err)
	}
	a.whileLeading(ctx, func(term context.Context) { a.syncOnSchedule(term, sched) }, a.followMap)
	return nil
}

// syncOnSchedule is runDirectory's work while this replica leads.
func (a *App) syncOnSchedule(ctx context.Context, sched cron.Schedule) {
	defer a.markMapped() // also when ctx ends during the first sync
	a.Log.Info().Str("schedule", a.Config.Okta.SyncSchedule).Msg("directory sync scheduled")
	if _, err := a.Store.LatestSnapshot(ctx); errors.Is(err, campaign.ErrNotFound) {
		a.syncAndMap(ctx)
	} else {
		a.refreshUsers(ctx)
	}
	a.markMapped()
	for {
		wait := time.Until(sched.Next(time.Now()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		a.syncAndMap(ctx)
	}
}

// syncAndMap runs one sync and, when it worked, maps users to Slack.
func (a *App) syncAndMap(ctx context.Context) {
	if _, err := a.Sync(ctx); err != nil {
		if ctx.Err() == nil {
			a.Log.Error().Err(err).Msg("scheduled sync failed")
		}
		return
	}
	a.refreshUsers(ctx)
}
