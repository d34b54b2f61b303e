package main

import (
	"flag"
	"fmt"
)

// execute runs an approved campaign's plan once, here and now.
func (cc *campaignCmd) execute(fs *flag.FlagSet, args []string) error {
	dry := fs.Bool("dry-run", false, "do everything but the Okta writes (overrides remediation.dry_run)")
	id, _, err := cc.target(fs, args, false)
	if err != nil {
		return err
	}
	if err := cc.cfg.RequireOkta(); err != nil {
		return err
	}
	x := cc.core.Executor
	x.DryRun = x.DryRun || *dry
	if err := x.Start(cc.e.ctx, id); err != nil {
		return friendly(err)
	}
	sum, err := x.Run(cc.e.ctx, id)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, sum)
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Campaign %d: %d operations %v; %d failed, %d came back; done=%v\n",
		id, sum.Operations, sum.ByResult, sum.Failed, sum.CameBack, sum.Done)
	return err
}

// retry puts a campaign's failed operations back in the queue (approvers).
func (cc *campaignCmd) retry(fs *flag.FlagSet, args []string) error {
	id, actor, err := cc.target(fs, args, true)
	if err != nil {
		return err
	}
	n, err := cc.engine.RetryFailed(cc.e.ctx, id, actor)
	if err != nil {
		return friendly(err)
	}
	if cc.c.json {
		return writeJSON(cc.e.stdout, map[string]any{"campaign": id, "requeued": n})
	}
	_, err = fmt.Fprintf(cc.e.stdout, "Requeued %d failed operations of campaign %d.\n", n, id)
	return err
}
