package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
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
	core, err := app.Open(e.ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer core.Close()
	res, err := core.Sync(e.ctx)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, res)
	}
	return printSync(e.stdout, res)
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
