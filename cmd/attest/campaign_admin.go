package main

import (
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
)

func (cc *campaignCmd) closeCmd(fs *flag.FlagSet, args []string) error {
	id, actor, err := cc.target(fs, args, true)
	if err != nil {
		return err
	}
	c, plan, err := cc.engine.Close(cc.e.ctx, id, actor)
	if err != nil {
		return friendly(err)
	}
	counts := map[string]int{}
	for _, p := range plan {
		counts[p.Kind]++
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, map[string]any{"campaign": campaignJSON(c), "plan": counts, "plan_items": plan})
	}
	fmt.Fprintf(cc.e.stdout, "Campaign %d is %s.\n", c.ID, c.State)
	return printPlanItems(cc, plan)
}

func printPlanItems(cc *campaignCmd, plan []campaign.PlanItem) error {
	if len(plan) == 0 {
		_, err := fmt.Fprintln(cc.e.stdout, "Nothing to remove.")
		return err
	}
	tw := tabwriter.NewWriter(cc.e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tKIND\tUSER\tGROUP\tAPP\tNOTE")
	for _, p := range plan {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", p.Seq, p.Kind, p.UserID, p.GroupID, p.AppID, p.Reason)
	}
	return tw.Flush()
}

func (cc *campaignCmd) approve(fs *flag.FlagSet, args []string) error {
	return cc.decide(fs, args, "approve")
}

func (cc *campaignCmd) reject(fs *flag.FlagSet, args []string) error {
	return cc.decide(fs, args, "reject")
}

// decide approves or rejects a plan; the engine is built only after the
// flags parse, so the choice is by name.
func (cc *campaignCmd) decide(fs *flag.FlagSet, args []string, what string) error {
	id, actor, err := cc.target(fs, args, true)
	if err != nil {
		return err
	}
	decide := cc.engine.Approve
	if what == "reject" {
		decide = cc.engine.Reject
	}
	c, approvals, err := decide(cc.e.ctx, id, actor)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, map[string]any{"campaign": campaignJSON(c), "approvals": approvals,
			"required": c.Definition.Approval.Required})
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Campaign %d is %s (%d of %d approvals).\n", c.ID, c.State, approvals, c.Definition.Approval.Required)
	return err
}

func (cc *campaignCmd) cancel(fs *flag.FlagSet, args []string) error {
	reason := fs.String("reason", "", "why the campaign is cancelled")
	id, actor, err := cc.target(fs, args, true)
	if err != nil {
		return err
	}
	c, err := cc.engine.Cancel(cc.e.ctx, id, actor, *reason)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, campaignJSON(c))
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Campaign %d is %s.\n", c.ID, c.State)
	return err
}

func (cc *campaignCmd) nextDue(fs *flag.FlagSet, args []string) error {
	limit := fs.Int("limit", 50, "rows shown in the text output (0: all)")
	if err := cc.parseArgs(fs, args, 1, "one definition FILE"); err != nil {
		return err
	}
	def, _, err := app.ReadDefinition(fs.Arg(0))
	if err != nil {
		return err
	}
	due, err := cc.engine.NextDue(cc.e.ctx, def)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, due)
	}
	tw := tabwriter.NewWriter(cc.e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DUE\tUSER\tKIND\tENTITLEMENT\tSINCE\tWHY")
	for i, d := range due {
		if *limit > 0 && i == *limit {
			fmt.Fprintf(tw, "... %d more\t\t\t\t\t\n", len(due)-i)
			break
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.DueAt.Format("2006-01-02"), d.UserID, d.Kind, d.Label,
			d.Since.Format("2006-01-02"), d.Reason)
	}
	return tw.Flush()
}

func (cc *campaignCmd) tick(fs *flag.FlagSet, args []string) error {
	if err := cc.parseArgs(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	start := time.Now()
	if err := cc.engine.Tick(cc.e.ctx); err != nil {
		return err
	}
	cc.log.Info().Dur("took", time.Since(start)).Msg("tick done")
	return nil
}
