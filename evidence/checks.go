package evidence

import (
	"slices"
	"time"
)

// DefaultRemovalDeadline is how long after approval a removal may take
// before it counts as late, when Options.RemovalDeadline is zero.
const DefaultRemovalDeadline = 7 * 24 * time.Hour

// applyDeadline marks each operation's deadline (approval plus d) and
// whether it was late: finished after it, or unfinished when the bundle
// was written after it. It returns how many were late.
func applyDeadline(f *OperationsFile, d time.Duration, now time.Time) int {
	if d <= 0 {
		d = DefaultRemovalDeadline
	}
	f.DeadlineHours = d.Hours()
	if f.ApprovedAt == nil {
		return 0
	}
	due := f.ApprovedAt.Add(d)
	late := 0
	for i := range f.Operations {
		op := &f.Operations[i]
		op.Deadline = &due
		op.Late = op.FinishedAt != nil && op.FinishedAt.After(due) || op.FinishedAt == nil && now.After(due)
		if op.Late {
			late++
		}
	}
	f.Late = late
	return late
}

// leaverStatuses are the Okta statuses of people who have left or are
// locked out for good: their access should not survive a review.
var leaverStatuses = []string{"SUSPENDED", "DEPROVISIONED"}

// LeaverCheck is the leaver cross-check: every case of a user the
// snapshot shows as suspended or deprovisioned (or flagged orphaned), and
// whether the review removed the access.
type LeaverCheck struct {
	// Cases counts the leavers' cases; Removed those whose removal an
	// operation made or found done; Kept those the review kept; Pending
	// the rest (revoked but not removed yet, or open).
	Cases   int          `json:"cases"`
	Removed int          `json:"removed"`
	Kept    int          `json:"kept"`
	Pending int          `json:"pending"`
	Items   []LeaverCase `json:"items"`
}

// LeaverCase is one case of a leaver that still needs attention: kept,
// or not removed yet.
type LeaverCase struct {
	CaseID      int64  `json:"case_id"`
	UserID      string `json:"user_id"`
	UserEmail   string `json:"user_email"`
	UserStatus  string `json:"user_status"`
	Entitlement string `json:"entitlement"`
	Outcome     string `json:"outcome"`
	Removal     string `json:"removal"`
}

// leaverCheck cross-checks the leavers' cases against the outcomes and
// the operations' results.
func leaverCheck(cases []Case, ops []Operation) LeaverCheck {
	removed := map[int64]string{} // case -> result of its operation
	for _, op := range ops {
		for _, id := range op.CaseIDs {
			removed[id] = firstOf(op.Result, op.State)
		}
	}
	lc := LeaverCheck{Items: []LeaverCase{}}
	for i := range cases {
		cs := &cases[i]
		if !slices.Contains(leaverStatuses, cs.UserStatus) && !slices.Contains(cs.Flags, "orphaned") {
			continue
		}
		lc.Cases++
		res := removed[cs.ID]
		switch {
		case res == "removed" || res == "already_gone":
			lc.Removed++
			continue
		case cs.Outcome == "kept" || cs.Outcome == "no_decision_kept":
			lc.Kept++
		default:
			lc.Pending++
		}
		lc.Items = append(lc.Items, LeaverCase{CaseID: cs.ID, UserID: cs.UserID, UserEmail: cs.UserEmail, UserStatus: cs.UserStatus,
			Entitlement: cs.Entitlement, Outcome: cs.Outcome, Removal: res})
	}
	return lc
}
