package main

import (
	"fmt"
	"io"
	"time"

	"github.com/attestbot/attest/store"
)

// printVerified prints a verified log's report: the count and the head to
// record outside attest, and what was checked against them.
func printVerified(w io.Writer, r store.AuditReport, o store.VerifyOptions, elapsed time.Duration) {
	fmt.Fprintf(w, "Audit log intact: %d entries verified in %.1fs.\n", r.Entries, elapsed.Seconds())
	switch {
	case r.Keyed:
		fmt.Fprintf(w, "  Keyed with the audit key from entry %d on.\n", r.KeyedFrom)
	case r.Entries > 0:
		fmt.Fprintf(w, "  Not keyed: anyone who can write the database can recompute it. Set %s.\n", auditKeyEnv)
	}
	if r.Legacy > 0 {
		fmt.Fprintf(w, "  %d of them were written before the chain existed and cannot be checked.\n", r.Legacy)
	}
	if r.Checkpoints > 0 {
		fmt.Fprintf(w, "  It starts from the newest of %d checkpoints, signed when older entries were pruned.\n", r.Checkpoints)
	}
	fmt.Fprintf(w, "Count: %d\nHead:  %s (entry %d)\n", r.Total, orNone(r.LastHash), r.LastID)
	if o.ExpectHead != "" {
		fmt.Fprintf(w, "  The recorded head is entry %d.\n", r.HeadAt)
	}
	if o.ExpectCount > 0 {
		fmt.Fprintf(w, "  At least the %d entries recorded are there.\n", o.ExpectCount)
	}
	fmt.Fprintln(w, "  Record the head and count outside attest and check them with --expect-head and --expect-count:")
	fmt.Fprintln(w, "  only they catch an older copy of the database put back.")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
