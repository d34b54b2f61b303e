package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/store"
)

// cmdStore holds the database commands: `attest store migrate`.
func cmdStore(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: attest store SUBCOMMAND [flags]\n\nSubcommands:")
		fmt.Fprintln(e.stderr, "  migrate  copy an installation into a new database (SQLite to PostgreSQL) and verify it")
		if len(args) == 0 {
			return usagef("store needs a subcommand")
		}
		return flag.ErrHelp
	}
	if args[0] == "migrate" {
		return storeMigrate(e, args[1:])
	}
	return usagef("unknown store subcommand %q", args[0])
}

// storeMigrate is `attest store migrate --from SRC --to DST`: every table
// copied in one transaction on DST, then the row counts compared and the
// audit chain verified on DST, under ATTEST_AUDIT_KEY when the chain is
// keyed, with the source's head as the expected head.
func storeMigrate(e *env, args []string) error {
	fset := flag.NewFlagSet("store migrate", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	from := fset.String("from", "", "the database to copy: sqlite:///data/attest.db, a path, or postgres://…")
	to := fset.String("to", "", "the new, empty database: postgres://user:password@host:5432/attest (or sqlite:///…)")
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: attest store migrate --from SRC --to DST\n\n"+
			"Stop every attest using SRC first. The audit key (ATTEST_AUDIT_KEY) verifies a keyed chain on DST.\n\nFlags:")
		fset.PrintDefaults()
	}
	if err := parse(fset, args); err != nil {
		return err
	}
	switch {
	case fset.NArg() > 0:
		return usagef("unexpected argument %q", fset.Arg(0))
	case *from == "" || *to == "":
		return usagef("give both --from and --to")
	case *from == *to:
		return usagef("--from and --to name the same database")
	}
	key := []byte(e.getenv(config.EnvAuditKey))
	src, err := store.OpenExisting(e.ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	before, err := src.VerifyAudit(e.ctx, store.VerifyOptions{Key: key, AllowEmpty: true})
	if err != nil {
		return err
	}
	if !before.OK() {
		if before.Keyed && len(key) == 0 {
			return fmt.Errorf("store migrate: the audit chain of %s is keyed: set %s to its key", store.Redact(*from), config.EnvAuditKey)
		}
		return fmt.Errorf("store migrate: the audit chain of %s does not verify before the copy (%s%s): nothing copied", store.Redact(*from), before.Problem, before.Reason)
	}
	dst, err := store.Open(e.ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	fmt.Fprintf(e.stderr, "copying %s (%s) into %s (%s)\n", src.Location(), src.Backend(), dst.Location(), dst.Backend())
	start := time.Now()
	var total int64
	rep, err := store.Copy(e.ctx, src, dst, func(tc store.TableCount) {
		total += tc.Rows
		el := time.Since(start).Seconds()
		fmt.Fprintf(e.stderr, "  %-22s %10d rows  (%d rows in %.1fs, %.0f rows/s)\n", tc.Table, tc.Rows, total, el, float64(total)/max(el, 0.001))
	})
	if err != nil {
		if errors.Is(err, store.ErrTargetNotEmpty) {
			return fmt.Errorf("%w; nothing was copied", err)
		}
		return err
	}
	after, err := dst.VerifyAudit(e.ctx, store.VerifyOptions{Key: key, AllowEmpty: true, ExpectHead: before.LastHash,
		ExpectCount: before.Total})
	if err != nil {
		return err
	}
	if !after.OK() || after.LastID != before.LastID || after.LastHash != before.LastHash {
		return fmt.Errorf("store migrate: the audit chain on %s does not verify after the copy: %s%s (source head %d %s, target head %d %s)",
			dst.Location(), after.Problem, after.Reason, before.LastID, before.LastHash, after.LastID, after.LastHash)
	}
	fmt.Fprintf(e.stdout, "copied %d rows in %d tables in %s; every table's count matches the source\n", total, len(rep.Tables),
		time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "audit chain verified on %s: %d entries, head %d %s, keyed %v\n", dst.Location(), after.Total, after.LastID,
		after.LastHash, after.Keyed)
	fmt.Fprintln(e.stdout, "next: set store.url (ATTEST_DATABASE_URL) to the new database and start attest")
	return nil
}
