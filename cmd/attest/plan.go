package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

func cmdPlan(e *env, args []string) error {
	fs, c := newFlags(e, "plan", "FILE", true)
	asCSV := fs.Bool("csv", false, "print one CSV row per case")
	snapID := fs.Int64("snapshot", 0, "snapshot id to plan against (default: the latest)")
	top := fs.Int("top", 10, "rows shown per list in the text output (0: all)")
	asOf := fs.String("as-of", "", "judge stale and unused access as of this date (YYYY-MM-DD or RFC 3339; default now)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("plan needs exactly one campaign definition FILE")
	}
	if c.json && *asCSV {
		return usagef("--json and --csv exclude each other")
	}
	now := time.Now().UTC()
	if *asOf != "" {
		t, err := parseDate(*asOf)
		if err != nil {
			return usagef("--as-of %q: %v", *asOf, err)
		}
		now = t
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	def, err := campaign.ParseDefinition(fs.Arg(0), data)
	if err != nil {
		return err
	}
	cfg, log, err := e.setup(c)
	if err != nil {
		return err
	}
	st, err := store.OpenExisting(e.ctx, cfg.Store.Target())
	if err != nil {
		return err
	}
	defer st.Close()
	id := *snapID
	if id == 0 {
		info, err := st.LatestSnapshot(e.ctx)
		if err != nil {
			return err
		}
		id = info.ID
	}
	start := time.Now()
	snap, err := st.LoadSnapshot(e.ctx, id)
	if err != nil {
		return err
	}
	cs, err := campaign.BuildCases(campaign.NewIndex(snap), def, now)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	log.Debug().Int64("snapshot", id).Int("cases", len(cs.Cases)).Dur("took", time.Since(start)).Msg("plan built")
	switch {
	case *asCSV:
		return campaign.WriteCasesCSV(e.stdout, cs)
	case c.json:
		return writeJSON(e.stdout, campaign.Summarize(cs))
	}
	return printPlan(e.stdout, campaign.Summarize(cs), *top)
}

func printPlan(w io.Writer, p *campaign.PlanSummary, top int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Campaign\t%s\n", p.Campaign)
	fmt.Fprintf(tw, "Snapshot\t%d (taken %s)\n", p.SnapshotID, p.SnapshotTaken.Format(time.RFC3339))
	fmt.Fprintf(tw, "Cases\t%d\n", p.Cases)
	fmt.Fprintf(tw, "Members\t%d\n", p.Members)
	fmt.Fprintf(tw, "Apps\t%d\n", p.Apps)
	fmt.Fprintf(tw, "Reviewers (managers)\t%d\t(%d cases go to the IAM team: no manager)\n", len(p.Reviewers), p.IAMTeamCases)
	fmt.Fprintln(tw, "\nFlags\tcases")
	for _, n := range campaign.FlagNames() {
		fmt.Fprintf(tw, "  %s\t%d\n", n, p.Flags[n])
	}
	fmt.Fprintln(tw, "\nReviewer\tmembers\tcases")
	for i, r := range p.Reviewers {
		if top > 0 && i == top {
			fmt.Fprintf(tw, "  ... %d more\t\t\n", len(p.Reviewers)-top)
			break
		}
		fmt.Fprintf(tw, "  %s <%s>\t%d\t%d\n", r.Name, r.Email, r.Members, r.Cases)
	}
	fmt.Fprintln(tw, "\nApp\tcases\tdirect\tvia group")
	for i, a := range p.CasesPerApp {
		if top > 0 && i == top {
			fmt.Fprintf(tw, "  ... %d more\t\t\t\n", len(p.CasesPerApp)-top)
			break
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\n", a.Label, a.Cases, a.Direct, a.ViaGroup)
	}
	fmt.Fprintf(tw, "\nUsers without a manager\t%d\n", len(p.UsersWithoutManager))
	for i, u := range p.UsersWithoutManager {
		if top > 0 && i == top {
			fmt.Fprintf(tw, "  ... %d more\t\n", len(p.UsersWithoutManager)-top)
			break
		}
		fmt.Fprintf(tw, "  %s <%s>\t%d cases\n", u.Name, u.Email, u.Cases)
	}
	return tw.Flush()
}

// parseDate reads a date as YYYY-MM-DD (midnight UTC) or RFC 3339.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("use YYYY-MM-DD or RFC 3339")
	}
	return t.UTC(), nil
}
