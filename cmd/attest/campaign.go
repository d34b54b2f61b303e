package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/store"
)

// campaignCommands are the subcommands of `attest campaign`.
var campaignCommands = []struct {
	name, args, summary string
	run                 func(cc *campaignCmd, fs *flag.FlagSet, args []string) error
}{
	{"start", "FILE", "launch a campaign from a definition file", (*campaignCmd).start},
	{"list", "", "list campaigns", (*campaignCmd).list},
	{"show", "ID", "show one campaign, its progress and plan", (*campaignCmd).show},
	{"answer", "ID", "record a decision as a member or reviewer", (*campaignCmd).answer},
	{"delegate", "ID", "hand a member's review to another reviewer", (*campaignCmd).delegate},
	{"confirm", "ID", "as a reviewer, confirm all of a member's answers (--member)", (*campaignCmd).confirm},
	{"close", "ID", "close a campaign and plan the removals", (*campaignCmd).closeCmd},
	{"approve", "ID", "approve a closed campaign's removal plan", (*campaignCmd).approve},
	{"reject", "ID", "reject a closed campaign's removal plan", (*campaignCmd).reject},
	{"cancel", "ID", "cancel a campaign before approval", (*campaignCmd).cancel},
	{"report", "ID", "write a campaign's report (--format json|csv|md)", (*campaignCmd).report},
	{"execute", "ID", "carry out an approved campaign's plan now (--dry-run)", (*campaignCmd).execute},
	{"retry", "ID", "requeue a campaign's failed operations (approvers)", (*campaignCmd).retry},
	{"next-due", "FILE", "list when access in a recertification definition is due", (*campaignCmd).nextDue},
	{"tick", "", "apply what is due now: stage ends, escalations, reminders", (*campaignCmd).tick},
}

// notifies names the subcommands whose changes reach people through the
// notifier chain (forms, reminders, the approval message, results).
var notifies = map[string]bool{"start": true, "answer": true, "delegate": true, "confirm": true, "close": true,
	"approve": true, "reject": true, "cancel": true, "execute": true, "retry": true, "tick": true}

// campaignCmd carries what every campaign subcommand shares.
type campaignCmd struct {
	e      *env
	c      *common
	as     string
	cfg    *config.Config
	log    zerolog.Logger
	core   *app.Core
	st     *store.Store
	engine *campaign.Engine
}

func cmdCampaign(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: attest campaign SUBCOMMAND [flags]\n\nSubcommands:")
		for _, s := range campaignCommands {
			fmt.Fprintf(e.stderr, "  %-9s %-5s %s\n", s.name, s.args, s.summary)
		}
		if len(args) == 0 {
			return usagef("campaign needs a subcommand")
		}
		return flag.ErrHelp
	}
	for _, s := range campaignCommands {
		if s.name != args[0] {
			continue
		}
		fs, c := newFlags(e, "campaign "+s.name, s.args, true)
		cc := &campaignCmd{e: e, c: c}
		fs.StringVar(&cc.as, "as", "", "who acts: email or login of an Okta user")
		defer cc.close()
		if err := s.run(cc, fs, args[1:]); err != nil {
			return err
		}
		if notifies[s.name] && cc.core != nil {
			cc.warnUndelivered()
		}
		return nil
	}
	return usagef("unknown campaign subcommand %q", args[0])
}

// target parses the flags and the campaign ID argument, opens the store
// and, when needActor, requires --as.
func (cc *campaignCmd) target(fs *flag.FlagSet, args []string, needActor bool) (int64, campaign.Actor, error) {
	if err := parse(fs, args); err != nil {
		return 0, campaign.Actor{}, err
	}
	if fs.NArg() != 1 {
		return 0, campaign.Actor{}, usagef("expected one campaign ID")
	}
	id, err := campaignID(fs.Arg(0)) // a usage error before the store is looked for
	if err != nil {
		return 0, campaign.Actor{}, err
	}
	if err := cc.open(); err != nil || !needActor {
		return id, campaign.Actor{}, err
	}
	actor, err := cc.actor()
	return id, actor, err
}

// open loads the config and logger and builds the same engine and
// notifier chain as serve, over the store.
func (cc *campaignCmd) open() error {
	var err error
	if cc.cfg, cc.log, err = cc.e.setup(cc.c); err != nil {
		return err
	}
	if err = store.CheckExists(cc.cfg.Store.Target()); err != nil { // no campaign command creates the database
		return err
	}
	if cc.core, err = app.Open(cc.e.ctx, cc.cfg, cc.log, app.Options{}); err != nil {
		return err
	}
	cc.st, cc.engine = cc.core.Store, cc.core.Engine
	return nil
}

func (cc *campaignCmd) close() {
	if cc.core != nil {
		cc.core.Close()
	}
}

// warnUndelivered says plainly, on stderr, that notifications this command
// queued reach nobody until `attest serve` runs with Slack configured.
func (cc *campaignCmd) warnUndelivered() {
	if cc.core.Delivers() {
		fmt.Fprintln(cc.e.stderr, "Messages are queued in the outbox; `attest serve` delivers them to Slack.")
		return
	}
	fmt.Fprintln(cc.e.stderr, "Slack is not configured (SLACK_BOT_TOKEN, SLACK_APP_TOKEN): nothing will be delivered to people, and nothing is recorded as sent.")
}

// actor is the --as user; required for commands that act. The engine
// resolves the name (login or email) to the Okta user it is and refuses
// anyone not in the directory; the operating-system user and host ride
// along as evidence for the audit entry.
func (cc *campaignCmd) actor() (campaign.Actor, error) {
	if cc.as == "" {
		return campaign.Actor{}, usagef("--as EMAIL is required: who is acting")
	}
	return cliActor(cc.as), nil
}

// cliActor is a CLI actor named by login or email, with the
// operating-system user and host that ran the command.
func cliActor(name string) campaign.Actor {
	a := campaign.Actor{Email: name, Via: "cli", As: name}
	if u, err := user.Current(); err == nil {
		a.OSUser = u.Username
	}
	a.Host, _ = os.Hostname()
	return a
}

// parseArgs parses flags and wants exactly n positional arguments.
func (cc *campaignCmd) parseArgs(fs *flag.FlagSet, args []string, n int, what string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != n {
		return usagef("expected %s", what)
	}
	return cc.open()
}

// reorder moves positional arguments after the flags, so both
// `answer 3 --as x` and `answer --as x 3` work.
func reorder(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

func campaignID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%q is not a campaign id (a number, as `attest campaign list` shows)", s)
	}
	return id, nil
}

// friendly turns engine error kinds into one clear sentence: the kind
// ("not allowed", "refused", "not found") and the domain's own message, or
// the error's text without its package prefixes and the kind's sentinel
// repeated at the end ("not found: no campaign 9", never "not found:
// store: no campaign 9: not found"). errors.Is still sees the cause.
func friendly(err error) error {
	if err == nil {
		return nil
	}
	var prefix string
	var kind error
	switch {
	case errors.Is(err, campaign.ErrForbidden):
		prefix, kind = "not allowed", campaign.ErrForbidden
	case errors.Is(err, campaign.ErrConflict):
		prefix, kind = "refused", campaign.ErrConflict
	case errors.Is(err, campaign.ErrNotFound):
		prefix, kind = "not found", campaign.ErrNotFound
	default:
		return err
	}
	msg := campaign.ErrorMessage(err)
	if msg == "" {
		msg = strings.TrimSuffix(err.Error(), ": "+kind.Error())
		for _, p := range []string{"store: ", "campaign: ", "engine: "} {
			msg = strings.ReplaceAll(msg, p, "")
		}
	}
	return &cliError{msg: prefix + ": " + msg, err: err}
}

// cliError is an error shown as one sentence that still unwraps to its
// cause.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }
