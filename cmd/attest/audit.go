package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/store"
)

// auditKeyEnv names the variable holding the audit key (store.audit_key),
// which keys the chain and signs checkpoints. It is never printed or logged.
const auditKeyEnv = config.EnvAuditKey

// defaultAuditRetention is how long prune keeps entries: three years.
const defaultAuditRetention = "1095d"

// auditCommands are the subcommands of `attest audit`.
var auditCommands = []struct {
	name, args, summary string
	run                 func(ac *auditCmd, fs *flag.FlagSet, args []string) error
}{
	{"verify", "", "check the audit log's chain, read-only; exit 1 if tampered, empty or short of --expect-head/--expect-count", (*auditCmd).verify},
	{"export", "", "write a campaign's evidence (--campaign ID --format csv|json --out DIR)", (*auditCmd).export},
	{"prune", "", "remove old entries (--before DATE or --older-than, default " + defaultAuditRetention + ") behind a signed checkpoint", (*auditCmd).prune},
}

// auditCmd carries what every audit subcommand shares.
type auditCmd struct {
	e   *env
	c   *common
	cfg *config.Config
	log zerolog.Logger
	st  *store.Store
}

func cmdAudit(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: attest audit SUBCOMMAND [flags]\n\nSubcommands:")
		for _, s := range auditCommands {
			fmt.Fprintf(e.stderr, "  %-7s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(e.stderr, "\nThe audit key (%s or store.audit_key) keys the chain and signs prune\ncheckpoints: prune needs it, and so does verify of a keyed or pruned log.\n", auditKeyEnv)
		if len(args) == 0 {
			return usagef("audit needs a subcommand")
		}
		return flag.ErrHelp
	}
	for _, s := range auditCommands {
		if s.name != args[0] {
			continue
		}
		fs, c := newFlags(e, "audit "+s.name, s.args, true)
		ac := &auditCmd{e: e, c: c}
		defer func() {
			if ac.st != nil {
				ac.st.Close()
			}
		}()
		return s.run(ac, fs, args[1:])
	}
	return usagef("unknown audit subcommand %q", args[0])
}

// parse parses the flags, wanting no arguments.
func (ac *auditCmd) parse(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// open loads the config and the logger, and opens the store: read-only
// (never created, migrated or written) when readOnly, otherwise an
// existing database. It never passes the audit key to the store: keying
// the chain is for the processes that append to it (app.Open).
func (ac *auditCmd) open(readOnly bool) error {
	cfg, log, err := ac.e.setup(ac.c)
	if err != nil {
		return err
	}
	ac.cfg, ac.log = cfg, log
	if readOnly {
		ac.st, err = store.OpenReadOnly(ac.e.ctx, cfg.Store.Target())
	} else {
		ac.st, err = store.OpenExisting(ac.e.ctx, cfg.Store.Target())
	}
	return err
}

// key returns the configured audit key (store.audit_key or
// ATTEST_AUDIT_KEY; config validation refuses one too short): nil when
// unset and not required, an error when required and unset. Call it after
// open.
func (ac *auditCmd) key(required bool) ([]byte, error) {
	k := ac.cfg.Store.AuditKey
	if !k.IsSet() {
		if required {
			return nil, fmt.Errorf("%s is not set: the checkpoint that replaces pruned entries is signed with it", auditKeyEnv)
		}
		return nil, nil
	}
	return []byte(k.Reveal()), nil
}

// auditVerifyJSON is `audit verify --json`'s output. Head and Count are
// what to record outside attest and pass back as --expect-head and
// --expect-count.
type auditVerifyJSON struct {
	OK            bool    `json:"ok"`
	Head          string  `json:"head"`
	Count         int64   `json:"count"`
	Entries       int     `json:"entries"`
	Legacy        int     `json:"legacy"`
	Checkpoints   int     `json:"checkpoints"`
	Keyed         bool    `json:"keyed"`
	KeyedFrom     int64   `json:"keyed_from,omitempty"`
	FirstBad      int64   `json:"first_bad,omitempty"`
	BadCheckpoint int64   `json:"bad_checkpoint,omitempty"`
	Reason        string  `json:"reason,omitempty"`
	LastID        int64   `json:"last_id"`
	LastHash      string  `json:"last_hash"`
	ExpectedAt    int64   `json:"expected_head_at,omitempty"`
	Seconds       float64 `json:"seconds"`
}

func (ac *auditCmd) verify(fs *flag.FlagSet, args []string) error {
	var o store.VerifyOptions
	fs.StringVar(&o.ExpectHead, "expect-head", "", "a head hash recorded earlier: it must be in the chain, else exit 1 (the newest entries were removed)")
	fs.Int64Var(&o.ExpectCount, "expect-count", 0, "an entry count recorded earlier: the chain must stand for at least as many")
	fs.BoolVar(&o.AllowEmpty, "allow-empty", false, "let an empty log pass: a new install's (without it, an empty log fails, since deleting every entry leaves one)")
	if err := ac.parse(fs, args); err != nil {
		return err
	}
	if o.ExpectCount < 0 {
		return usagef("--expect-count %d: use a count of entries, 0 or more", o.ExpectCount)
	}
	o.ExpectHead = strings.ToLower(strings.TrimSpace(o.ExpectHead))
	if err := ac.open(true); err != nil {
		return err
	}
	key, err := ac.key(false)
	if err != nil {
		return err
	}
	o.Key, o.RequireKeyed = key, key != nil
	start := time.Now()
	var logged time.Time
	o.Progress = func(done int) {
		// Called every 100,000 entries: log the first and then every few seconds.
		if now := time.Now(); now.Sub(logged) >= 3*time.Second {
			logged = now
			ac.log.Info().Str("op", "audit").Int("done", done).Float64("per_second", perSecond(done, now.Sub(start))).
				Msg("audit verify in progress")
		}
	}
	r, err := ac.st.VerifyAudit(ac.e.ctx, o)
	if errors.Is(err, store.ErrNoAuditKey) {
		return fmt.Errorf("the audit log is keyed or has been pruned: set %s to its key (%w)", auditKeyEnv, err)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	ac.log.Info().Str("op", "audit").Int("entries", r.Entries).Float64("per_second", perSecond(r.Entries, elapsed)).
		Bool("ok", r.OK()).Int64("first_bad", r.FirstBad).Msg("audit verify done")
	if ac.c.json {
		if err := writeJSON(ac.e.stdout, auditVerifyJSON{OK: r.OK(), Head: r.LastHash, Count: r.Total, Entries: r.Entries,
			Legacy: r.Legacy, Checkpoints: r.Checkpoints, Keyed: r.Keyed, KeyedFrom: r.KeyedFrom, FirstBad: r.FirstBad,
			BadCheckpoint: r.BadCheckpoint, Reason: r.Reason, LastID: r.LastID, LastHash: r.LastHash, ExpectedAt: r.HeadAt,
			Seconds: elapsed.Seconds()}); err != nil {
			return err
		}
	}
	if !r.OK() {
		if r.BadCheckpoint != 0 && r.FirstBad != 0 {
			return fmt.Errorf("audit log tampered: %s (entries from %d on cannot be trusted)", r.Reason, r.FirstBad)
		}
		return fmt.Errorf("audit log tampered: %s", r.Reason)
	}
	if ac.c.json {
		return nil
	}
	printVerified(ac.e.stdout, r, o, elapsed)
	return nil
}

// auditPruneJSON is `audit prune --json`'s output.
type auditPruneJSON struct {
	Before     time.Time       `json:"before"`
	Removed    int64           `json:"removed"`
	Checkpoint *checkpointJSON `json:"checkpoint,omitempty"`
}

// checkpointJSON is a store.Checkpoint in auditPruneJSON.
type checkpointJSON struct {
	ID             int64     `json:"id"`
	At             time.Time `json:"at"`
	LastID         int64     `json:"last_id"`
	LastHash       string    `json:"last_hash"`
	EntriesRemoved int64     `json:"entries_removed"`
	Signature      string    `json:"signature"`
}

func (ac *auditCmd) prune(fs *flag.FlagSet, args []string) error {
	before := fs.String("before", "", "remove entries from before this date (YYYY-MM-DD in UTC, or RFC 3339)")
	olderThan := fs.String("older-than", "", "remove entries older than this, in days like 1095d or a Go duration (default "+defaultAuditRetention+")")
	if err := ac.parse(fs, args); err != nil {
		return err
	}
	cutoff, err := pruneCutoff(*before, *olderThan, time.Now())
	if err != nil {
		return err
	}
	if err := ac.open(false); err != nil {
		return err
	}
	key, err := ac.key(true)
	if err != nil {
		return err
	}
	removed, cp, err := ac.st.PruneAudit(ac.e.ctx, cutoff, key)
	if err != nil {
		return err
	}
	ac.log.Info().Str("op", "audit").Time("before", cutoff).Int64("removed", removed).Int64("checkpoint", cp.ID).
		Int64("last_id", cp.LastID).Msg("audit prune done")
	if ac.c.json {
		out := auditPruneJSON{Before: cutoff, Removed: removed}
		if removed > 0 {
			out.Checkpoint = &checkpointJSON{ID: cp.ID, At: cp.At, LastID: cp.LastID, LastHash: cp.LastHash,
				EntriesRemoved: cp.EntriesRemoved, Signature: cp.Signature}
		}
		return writeJSON(ac.e.stdout, out)
	}
	if removed == 0 {
		_, err = fmt.Fprintf(ac.e.stdout, "Nothing to prune: the audit log starts with an entry from %s or later.\n", cutoff.Format(time.DateOnly))
		return err
	}
	_, err = fmt.Fprintf(ac.e.stdout, "Pruned %d audit entries from before %s (up to entry %d).\nCheckpoint %d stands for them: hash %s, signed.\n",
		removed, cutoff.Format(time.DateOnly), cp.LastID, cp.ID, cp.LastHash)
	return err
}

// pruneCutoff turns --before or --older-than (one at most; neither means
// the default retention) into the time before which entries go.
func pruneCutoff(before, olderThan string, now time.Time) (time.Time, error) {
	if before != "" && olderThan != "" {
		return time.Time{}, usagef("use --before or --older-than, not both")
	}
	if before != "" {
		if t, err := time.Parse(time.DateOnly, before); err == nil {
			return t, nil
		}
		t, err := time.Parse(time.RFC3339, before)
		if err != nil {
			return time.Time{}, usagef("--before %q: use a date like 2023-01-31 or an RFC 3339 time", before)
		}
		return t, nil
	}
	if olderThan == "" {
		olderThan = defaultAuditRetention
	}
	d, err := config.ParseDuration(olderThan)
	if err != nil || d.Duration() <= 0 {
		return time.Time{}, usagef("--older-than %q: use a positive number of days like %s", strings.TrimSpace(olderThan), defaultAuditRetention)
	}
	return now.Add(-d.Duration()), nil
}

// perSecond is n per second of elapsed, rounded, 0 when no time passed.
func perSecond(n int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(int64(float64(n)/elapsed.Seconds()*10)) / 10
}
