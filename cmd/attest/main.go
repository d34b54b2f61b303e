// Command attest runs access reviews over Okta with Slack as the interface.
// This file holds the flags and subcommands and wires the packages; the
// work is done in them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/attestbot/attest/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// env is what a command runs with: its output streams and environment.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the bot: scheduled directory syncs and the health endpoints", cmdServe},
		{"sync", "read the Okta directory into a new snapshot", cmdSync},
		{"plan", "show what a campaign definition would cover (FILE)", cmdPlan},
		{"campaign", "start, list, show, answer, delegate, close, approve, reject, cancel, report, next-due, tick", cmdCampaign},
		{"audit", "verify or prune the tamper-evident audit log", cmdAudit},
		{"evidence", "export a campaign's signed evidence bundle, or verify one offline", cmdEvidence},
		{"demo", "run a whole access review against built-in fakes: no credentials, no config", cmdDemo},
		{"okta", "Okta set-up: keygen makes an OAuth service app's key and prints its JWKS", cmdOkta},
		{"store", "database moves: migrate copies an installation (SQLite to PostgreSQL) and verifies it", cmdStore},
		{"preview", "print Block Kit Builder links with the exact JSON of each Slack surface", cmdPreview},
		{"check-config", "validate the configuration and print it without secrets", cmdCheckConfig},
		{"healthcheck", "exit 0 when serve's /healthz (or /readyz with --ready) answers 200", cmdHealthcheck},
		{"version", "print the version", cmdVersion},
	}
}

// usageError is bad usage: exit code 2 instead of 1.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// run executes one invocation and returns the process exit code: 0 on
// success, 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(e, args[1:])
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "attest %s: %s\nRun 'attest %s --help' for usage.\n", c.name, oneLine(err), c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "attest %s: %s\n", c.name, oneLine(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "attest: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}

// oneLine folds a (possibly joined) error onto one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "attest runs access reviews over Okta, with Slack as the interface.")
	fmt.Fprintln(w, "\nUsage: attest COMMAND [flags]\n\nCommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --config FILE (or ATTEST_CONFIG; default ./attest.yaml) and --log-level.")
	fmt.Fprintln(w, "Run 'attest COMMAND --help' for a command's flags.")
}

// common holds the flags every command takes.
type common struct {
	config   string
	logLevel string
	json     bool
}

// newFlags makes a command's flag set with the common flags; withJSON adds
// --json.
func newFlags(e *env, name, args string, withJSON bool) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &common{}
	fs.StringVar(&c.config, "config", "", "config file (default $ATTEST_CONFIG or ./attest.yaml)")
	fs.StringVar(&c.logLevel, "log-level", "", "trace, debug, info, warn or error (overrides log.level)")
	if withJSON {
		fs.BoolVar(&c.json, "json", false, "print machine-readable JSON")
	}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: attest %s [flags] %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs, c
}

// parse parses flags, turning flag errors into usage errors. Flags may
// come before or after the positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(reorder(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// loadConfig finds and loads the configuration: --config, else
// ATTEST_CONFIG, else ./attest.yaml when it exists, else defaults and the
// environment alone.
func (e *env) loadConfig(c *common) (*config.Config, error) {
	path := c.config
	if path == "" {
		path = e.getenv("ATTEST_CONFIG")
	}
	if path == "" {
		if _, err := os.Stat("attest.yaml"); err == nil {
			path = "attest.yaml"
		}
	}
	cfg, err := config.Load(path, e.getenv)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// setup loads the configuration and builds the logger it asks for.
func (e *env) setup(c *common) (*config.Config, zerolog.Logger, error) {
	cfg, err := e.loadConfig(c)
	if err != nil {
		return nil, zerolog.Nop(), err
	}
	log, err := e.logger(cfg, c)
	return cfg, log, err
}

// logger builds the zerolog logger: console format on a terminal, JSON
// otherwise, unless the config says which.
func (e *env) logger(cfg *config.Config, c *common) (zerolog.Logger, error) {
	level := cfg.Log.Level
	if c.logLevel != "" {
		level = c.logLevel
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Nop(), usagef("--log-level %q: use trace, debug, info, warn or error", level)
	}
	format := cfg.Log.Format
	if format == "" || format == "auto" {
		format = "json"
		if f, ok := e.stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "console"
		}
	}
	// Several goroutines log at once (sync workers, ticks): serialise writes.
	w := zerolog.SyncWriter(e.stderr)
	if format == "console" {
		w = zerolog.SyncWriter(zerolog.ConsoleWriter{Out: e.stderr, TimeFormat: "15:04:05"})
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

func cmdVersion(e *env, args []string) error {
	fs, c := newFlags(e, "version", "", true)
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, map[string]string{"version": version})
	}
	_, err := fmt.Fprintf(e.stdout, "attest %s\n", version)
	return err
}
