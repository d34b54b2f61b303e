package main

import (
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
)

func (cc *campaignCmd) start(fs *flag.FlagSet, args []string) error {
	deadline := fs.String("deadline", "", "end of the whole campaign (YYYY-MM-DD or RFC 3339; default: the stages' durations)")
	if err := cc.parseArgs(fs, args, 1, "one definition FILE"); err != nil {
		return err
	}
	def, text, err := app.ReadDefinition(fs.Arg(0))
	if err != nil {
		return err
	}
	name := cc.as
	if name == "" {
		name = def.Owner
	}
	if name == "" {
		return usagef("--as EMAIL (the launcher) is required when the definition has no owner")
	}
	owner := cliActor(name)
	req := campaign.LaunchRequest{Definition: def, YAML: text, Owner: owner, Trigger: "cli"}
	if *deadline != "" {
		if req.Deadline, err = parseDate(*deadline); err != nil {
			return usagef("--deadline %q: %v", *deadline, err)
		}
	}
	c, err := cc.engine.Launch(cc.e.ctx, req)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, campaignJSON(c))
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Launched campaign %d: %s (%s until %s)\n", c.ID, c.Name, c.State, c.StageDeadline().Format(time.RFC3339))
	return err
}

// campaignView is a campaign as printed with --json.
type campaignView struct {
	ID             int64          `json:"id"`
	Name           string         `json:"name"`
	State          campaign.State `json:"state"`
	Owner          string         `json:"owner"`
	Trigger        string         `json:"trigger"`
	SnapshotID     int64          `json:"snapshot_id"`
	SnapshotDigest string         `json:"snapshot_sha256"`
	CreatedAt      time.Time      `json:"created_at"`
	Stage1Ends     time.Time      `json:"stage1_ends,omitempty"`
	Deadline       time.Time      `json:"deadline"`
	ClosedAt       time.Time      `json:"closed_at,omitempty"`
}

func campaignJSON(c *campaign.Campaign) campaignView {
	return campaignView{ID: c.ID, Name: c.Name, State: c.State, Owner: c.Owner, Trigger: c.Trigger, SnapshotID: c.SnapshotID,
		SnapshotDigest: c.SnapshotDigest, CreatedAt: c.CreatedAt, Stage1Ends: c.Stage1Ends, Deadline: c.Deadline, ClosedAt: c.ClosedAt}
}

func (cc *campaignCmd) list(fs *flag.FlagSet, args []string) error {
	if err := cc.parseArgs(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	list, err := cc.st.ListCampaigns(cc.e.ctx)
	if err != nil {
		return err
	}
	if cc.c.json {
		out := make([]campaignView, 0, len(list))
		for i := range list {
			out = append(out, campaignJSON(&list[i]))
		}
		return writeJSON(cc.e.stdout, out)
	}
	tw := tabwriter.NewWriter(cc.e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tOWNER\tDEADLINE")
	for _, c := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.State, c.Owner, c.Deadline.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func (cc *campaignCmd) show(fs *flag.FlagSet, args []string) error {
	id, _, err := cc.target(fs, args, false)
	if err != nil {
		return err
	}
	r, err := cc.engine.Report(cc.e.ctx, id)
	if err != nil {
		return friendly(err)
	}
	tickets, err := cc.st.TicketsOf(cc.e.ctx, id)
	if err != nil {
		return err
	}
	ops, err := cc.st.Operations(cc.e.ctx, id)
	if err != nil {
		return err
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, map[string]any{"report": r, "tickets": tickets, "operations": ops})
	}
	if err := r.WriteMarkdown(cc.e.stdout); err != nil {
		return err
	}
	if len(ops) > 0 {
		counts := map[string]int{}
		for _, o := range ops {
			counts[o.State+"/"+o.Result]++
		}
		fmt.Fprintf(cc.e.stdout, "\n## Removals\n\n%d operations: %v\n", len(ops), counts)
	}
	if len(tickets) > 0 {
		fmt.Fprint(cc.e.stdout, "\n## ServiceNow tickets\n\n| ticket | action | state | number | last error |\n|---|---|---|---|---|\n")
		for _, t := range tickets {
			fmt.Fprintf(cc.e.stdout, "| %s | %s | %s | %s | %s |\n", t.Ref, t.Action, t.State, t.Number, t.LastError)
		}
	}
	return nil
}

func (cc *campaignCmd) report(fs *flag.FlagSet, args []string) error {
	format := fs.String("format", "md", "json, csv or md")
	id, _, err := cc.target(fs, args, false)
	if err != nil {
		return err
	}
	if cc.c.json {
		*format = "json"
	}
	if *format != "json" && *format != "csv" && *format != "md" {
		return usagef("--format %q: use json, csv or md", *format)
	}
	r, err := cc.engine.Report(cc.e.ctx, id)
	if err != nil {
		return friendly(err)
	}
	switch *format {
	case "json":
		return writeJSON(cc.e.stdout, r)
	case "csv":
		return r.WriteCSV(cc.e.stdout)
	}
	return r.WriteMarkdown(cc.e.stdout)
}

func (cc *campaignCmd) answer(fs *flag.FlagSet, args []string) error {
	user := fs.String("user", "", "the member whose access is decided (email or login)")
	app := fs.String("app", "", "the app's label or id")
	group := fs.String("group", "", "the group's name or id (group entitlements)")
	caseID := fs.Int64("case", 0, "the case id (instead of --user and --app)")
	decision := fs.String("decision", "", "keep, revoke or unsure")
	comment := fs.String("comment", "", "optional comment")
	until := fs.String("accept-until", "", "with keep: access is due for review again on this date")
	id, actor, err := cc.target(fs, args, true)
	if err != nil {
		return err
	}
	ent := *app
	if ent == "" {
		ent = *group
	}
	if *caseID == 0 && (*user == "" || ent == "") {
		return usagef("name the case with --case ID, or with --user and --app (or --group)")
	}
	if *decision == "" {
		return usagef("--decision keep|revoke|unsure is required")
	}
	req := campaign.AnswerRequest{CampaignID: id, Actor: actor, CaseID: *caseID, User: *user, Entitlement: ent,
		Decision: *decision, Comment: *comment}
	if *until != "" {
		if req.AcceptUntil, err = parseDate(*until); err != nil {
			return usagef("--accept-until %q: %v", *until, err)
		}
	}
	cs, err := cc.engine.Answer(cc.e.ctx, req)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, map[string]any{"campaign": id, "case": cs.ID, "user": cs.UserID, "entitlement": cs.Label,
			"decision": *decision, "by": actor.Email})
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Recorded %s for %s / %s (case %d)\n", *decision, cs.UserID, cs.Label, cs.ID)
	return err
}

func (cc *campaignCmd) delegate(fs *flag.FlagSet, args []string) error {
	member := fs.String("member", "", "the member whose review is handed over (email)")
	to := fs.String("to", "", "the new reviewer (email)")
	id, actor, err := cc.target(fs, args, true)
	if err != nil {
		return err
	}
	if *member == "" || *to == "" {
		return usagef("--member and --to are required")
	}
	n, err := cc.engine.Delegate(cc.e.ctx, campaign.DelegateRequest{CampaignID: id, Actor: actor, Member: *member, To: *to})
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, map[string]any{"campaign": id, "member": *member, "to": *to, "cases": n})
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Delegated %d cases of %s to %s\n", n, *member, *to)
	return err
}

func (cc *campaignCmd) confirm(fs *flag.FlagSet, args []string) error {
	member := fs.String("member", "", "the member whose answers are confirmed (email)")
	id, actor, err := cc.target(fs, args, true)
	if err != nil {
		return err
	}
	if *member == "" {
		return usagef("--member is required")
	}
	n, err := cc.engine.ConfirmMember(cc.e.ctx, id, actor, *member)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, map[string]any{"campaign": id, "member": *member, "confirmed": n})
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Confirmed %d of %s's answers\n", n, *member)
	return err
}
