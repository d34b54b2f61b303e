package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/progress"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/store"
)

func cmdSync(e *env, args []string) error {
	fs, c := newFlags(e, "sync", "", true)
	hrPath := fs.String("hr-csv", "", "HR CSV (email, manager_email, department) overriding Okta's managers and departments (default okta.hr_csv)")
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
	if *hrPath != "" {
		cfg.Okta.HRCSV = *hrPath
	}
	if err := cfg.RequireOkta(); err != nil {
		return err
	}
	st, err := store.Open(e.ctx, cfg.Store.Path)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := syncOnce(e, cfg, log, st)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, res)
	}
	return printSync(e.stdout, res)
}

// syncOnce runs one directory sync with the configured Okta org and store.
func syncOnce(e *env, cfg *config.Config, log zerolog.Logger, st *store.Store) (*campaign.SyncResult, error) {
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
	client, err := okta.New(e.ctx, e.oktaOptions(cfg, log))
	if err != nil {
		return nil, err
	}
	rep := progress.New(log, "sync")
	log.Info().Str("org", cfg.Okta.OrgURL).Int("concurrency", cfg.Okta.Concurrency).Msg("sync started")
	res, err := campaign.Sync(e.ctx, client, st, campaign.SyncOptions{
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
	for _, email := range res.HRUnmatched {
		log.Warn().Str("email", email).Msg("hr csv row matches no Okta user")
	}
	log.Info().Int64("snapshot", res.SnapshotID).Int("users", res.Counts.Users).Int("relations", res.Counts.Relations).
		Int64("api_calls", res.Counts.APICalls).Int64("rate_limited", res.Counts.RateLimited).
		Float64("seconds", res.Counts.DurationSeconds).Msg("sync done")
	return res, nil
}

func (e *env) oktaOptions(cfg *config.Config, log zerolog.Logger) okta.Options {
	var observe func(int)
	if m := e.metrics; m != nil {
		observe = func(status int) { m.APICalls.WithLabelValues("okta", outcome(status)).Inc() }
	}
	return okta.Options{
		Observe:          observe,
		OrgURL:           cfg.Okta.OrgURL,
		Token:            cfg.Okta.APIToken.Reveal(),
		Concurrency:      cfg.Okta.Concurrency,
		RequestTimeout:   cfg.Okta.RequestTimeout.Duration(),
		MaxRetries:       cfg.Okta.MaxRetries,
		Headroom:         cfg.Okta.RateLimitHeadroom,
		ManagerAttribute: cfg.Okta.ManagerAttribute,
		Logger:           log,
	}
}

func printSync(w io.Writer, res *campaign.SyncResult) error {
	c := res.Counts
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Snapshot\t%d\n", res.SnapshotID)
	fmt.Fprintf(tw, "Users\t%d\n", c.Users)
	statuses := make([]string, 0, len(c.UsersByStatus))
	for s := range c.UsersByStatus {
		statuses = append(statuses, s)
	}
	sort.Strings(statuses)
	for _, s := range statuses {
		fmt.Fprintf(tw, "  %s\t%d\n", s, c.UsersByStatus[s])
	}
	fmt.Fprintf(tw, "Users without a manager\t%d\t(%d manager references matched nobody)\n", c.NoManager, c.UnresolvedManagers)
	fmt.Fprintf(tw, "Groups\t%d\t(%d group rules)\n", c.Groups, c.GroupRules)
	fmt.Fprintf(tw, "Apps\t%d\t(%d inactive)\n", c.Apps, c.InactiveApps)
	fmt.Fprintf(tw, "Group memberships\t%d\n", c.Memberships)
	fmt.Fprintf(tw, "App assignments, direct\t%d\n", c.DirectAssignments)
	fmt.Fprintf(tw, "App assignments, via group\t%d\t(%d group-to-app assignments)\n", c.ViaGroup, c.GroupAssignments)
	fmt.Fprintf(tw, "Effective user-app relations\t%d\n", c.Relations)
	fmt.Fprintf(tw, "Known app sign-ins\t%d\n", c.SignIns)
	if c.HRUnmatched > 0 {
		fmt.Fprintf(tw, "HR rows matching no user\t%d\n", c.HRUnmatched)
	}
	fmt.Fprintf(tw, "API calls\t%d\t(%d rate-limited, %d retried)\n", c.APICalls, c.RateLimited, c.Retries)
	fmt.Fprintf(tw, "Duration\t%.1fs\n", c.DurationSeconds)
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// outcome names an HTTP status for the API call metrics.
func outcome(status int) string {
	switch {
	case status == 429:
		return "rate_limited"
	case status >= 200 && status < 400:
		return "ok"
	}
	return "error"
}
