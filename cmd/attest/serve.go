package main

import (
	"github.com/attestbot/attest/app"
)

// cmdServe runs the long-lived process (see app.App): the Slack bot when
// its tokens are set, directory syncs, the minute tick, event hooks,
// ServiceNow tickets and the HTTP endpoints, until a signal or a fatal
// error in any of them.
func cmdServe(e *env, args []string) error {
	fs, c := newFlags(e, "serve", "", false)
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
	a, err := app.New(e.ctx, cfg, log.With().Str("version", version).Logger())
	if err != nil {
		return err
	}
	runErr := a.Run(e.ctx)
	if err := a.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
