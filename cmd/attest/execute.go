package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/progress"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/store"
)

// newExecutor builds the remediation executor with its own Okta client on
// the write token (okta.write_api_token, else okta.api_token).
func newExecutor(e *env, cfg *config.Config, st *store.Store, log zerolog.Logger, n campaign.Notifier) (*campaign.Executor, error) {
	ctx := e.ctx
	if err := cfg.RequireOkta(); err != nil {
		return nil, err
	}
	o := e.oktaOptions(cfg, log)
	o.Token = cfg.Okta.WriteToken().Reveal()
	client, err := okta.New(ctx, o)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return &campaign.Executor{
		Store: st, Ops: st, Okta: client, Notifier: n, Progress: progress.New(log, "remediation").Update,
		Worker:          host + ":" + strconv.Itoa(os.Getpid()),
		DryRun:          cfg.Remediation.DryRun,
		ProtectedGroups: cfg.Remediation.ProtectedGroups,
		ProtectedUsers:  cfg.Remediation.ProtectedUsers,
		MaxOperations:   cfg.Remediation.MaxOperations,
		MaxGroupShare:   cfg.Remediation.MaxGroupShare,
	}, nil
}

// execute runs an approved campaign's plan once, here and now.
func (cc *campaignCmd) execute(fs *flag.FlagSet, args []string) error {
	dry := fs.Bool("dry-run", false, "do everything but the Okta writes (overrides remediation.dry_run)")
	id, _, err := cc.target(fs, args, false)
	if err != nil {
		return err
	}
	x, err := newExecutor(cc.e, cc.cfg, cc.st, cc.log, cc.engine.Notifier)
	if err != nil {
		return err
	}
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

// stepUp makes approvals wait for an Okta Verify push the approver accepts.
func stepUp(c *okta.Client) func(ctx context.Context, a campaign.Actor) error {
	return func(ctx context.Context, a campaign.Actor) error {
		return c.StepUp(ctx, a.UserID, 90*time.Second, 2*time.Second)
	}
}
