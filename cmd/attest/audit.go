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

// auditKeyEnv names the variable holding the key that signs and checks
// audit checkpoints. It is never printed or logged.
const auditKeyEnv = "ATTEST_AUDIT_KEY"

// defaultAuditRetention is how long prune keeps entries: three years.
const defaultAuditRetention = "1095d"

// auditCommands are the subcommands of `attest audit`.
var auditCommands = []struct {
	name, args, summary string
	run                 func(ac *auditCmd, fs *flag.FlagSet, args []string) error
}{
	{"verify", "", "check the audit log's hash chain and checkpoints; exit 1 if tampered", (*auditCmd).verify},
	{"export", "", "write a campaign's evidence (--campaign ID --format csv|json --out DIR)", (*auditCmd).export},
	{"prune", "", "remove old entries (--before DATE or --older-than, default " + defaultAuditRetention + ") behind a signed checkpoint", (*auditCmd).prune},
}

// auditCmd carries what every audit subcommand shares.
type auditCmd struct {
	e   *env
	c   *common
	log zerolog.Logger
	st  *store.Store
}

func cmdAudit(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: attest audit SUBCOMMAND [flags]\n\nSubcommands:")
		for _, s := range auditCommands {
			fmt.Fprintf(e.stderr, "  %-7s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(e.stderr, "\nCheckpoints are signed with the key in %s: prune needs it, and so does\nverify once the log has been pruned.\n", auditKeyEnv)
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

// open loads the config, the logger and the store.
func (ac *auditCmd) open() error {
	cfg, log, err := ac.e.setup(ac.c)
	if err != nil {
		return err
	}
	ac.log = log
	ac.st, err = store.Open(ac.e.ctx, cfg.Store.Path)
	return err
}

// key returns the audit key from the environment: nil when unset and not
// required, an error when required and unset or when too short to be a
// secret.
func (ac *auditCmd) key(required bool) ([]byte, error) {
	k := ac.e.getenv(auditKeyEnv)
	switch {
	case k == "" && required:
		return nil, fmt.Errorf("%s is not set: the checkpoint that replaces pruned entries is signed with it", auditKeyEnv)
	case k == "":
		return nil, nil
	case len(k) < 16:
		return nil, fmt.Errorf("%s is too short: use at least 16 random bytes, such as the output of `openssl rand -hex 32`", auditKeyEnv)
	}
	return []byte(k), nil
}

// auditVerifyJSON is `audit verify --json`'s output.
type auditVerifyJSON struct {
	OK            bool    `json:"ok"`
	Entries       int     `json:"entries"`
	Legacy        int     `json:"legacy"`
	Checkpoints   int     `json:"checkpoints"`
	FirstBad      int64   `json:"first_bad,omitempty"`
	BadCheckpoint int64   `json:"bad_checkpoint,omitempty"`
	Reason        string  `json:"reason,omitempty"`
	LastID        int64   `json:"last_id"`
	LastHash      string  `json:"last_hash"`
	Seconds       float64 `json:"seconds"`
}

func (ac *auditCmd) verify(fs *flag.FlagSet, args []string) error {
	if err := ac.parse(fs, args); err != nil {
		return err
	}
	key, err := ac.key(false)
	if err != nil {
		return err
	}
	if err := ac.open(); err != nil {
		return err
	}
	start := time.Now()
	var logged time.Time
	r, err := ac.st.VerifyAudit(ac.e.ctx, key, func(done int) {
		// Called every 100,000 entries: log the first and then every few seconds.
		if now := time.Now(); now.Sub(logged) >= 3*time.Second {
			logged = now
			ac.log.Info().Str("op", "audit").Int("done", done).Float64("per_second", perSecond(done, now.Sub(start))).
				Msg("audit verify in progress")
		}
	})
	if errors.Is(err, store.ErrNoAuditKey) {
		return fmt.Errorf("the audit log has been pruned: set %s to the key its checkpoints were signed with", auditKeyEnv)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	ac.log.Info().Str("op", "audit").Int("entries", r.Entries).Float64("per_second", perSecond(r.Entries, elapsed)).
		Bool("ok", r.OK()).Int64("first_bad", r.FirstBad).Msg("audit verify done")
	if ac.c.json {
		if err := writeJSON(ac.e.stdout, auditVerifyJSON{OK: r.OK(), Entries: r.Entries, Legacy: r.Legacy, Checkpoints: r.Checkpoints,
			FirstBad: r.FirstBad, BadCheckpoint: r.BadCheckpoint, Reason: r.Reason, LastID: r.LastID, LastHash: r.LastHash,
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
	w := ac.e.stdout
	fmt.Fprintf(w, "Audit log intact: %d entries verified in %.1fs.\n", r.Entries, elapsed.Seconds())
	if r.Legacy > 0 {
		fmt.Fprintf(w, "  %d of them were written before the chain existed and cannot be checked.\n", r.Legacy)
	}
	if r.Checkpoints > 0 {
		fmt.Fprintf(w, "  It starts from the newest of %d checkpoints, signed when older entries were pruned.\n", r.Checkpoints)
	}
	if r.LastID > 0 {
		fmt.Fprintf(w, "Head: entry %d, hash %s\n", r.LastID, r.LastHash)
		fmt.Fprintln(w, "  Record the head outside attest: removing the newest entries leaves a valid chain.")
	}
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
	key, err := ac.key(true)
	if err != nil {
		return err
	}
	if err := ac.open(); err != nil {
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
