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

// LeaverCheck is the leaver cross-check: every case of a user the
// snapshot shows as suspended or deprovisioned (or flagged orphaned), or
// whom the HR CSV shows terminated or does not list while Okta has them
// active (flags terminated_in_hr, not_in_hr), and whether the review
// removed the access.
type LeaverCheck struct {
	// HRChecked is true when the snapshot's sync cross-checked an HR CSV
	// (okta.hr_csv); without one only Okta's status is used.
	HRChecked bool `json:"hr_checked"`
	// ByReason counts the leavers' cases per reason (okta_suspended,
	// okta_deprovisioned, orphaned, terminated_in_hr, not_in_hr); a case
	// may have several reasons.
	ByReason map[string]int `json:"cases_by_reason"`
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
	CaseID     int64  `json:"case_id"`
	UserID     string `json:"user_id"`
	UserEmail  string `json:"user_email"`
	UserStatus string `json:"user_status"`
	// Reasons say why the user counts as a leaver (see ByReason).
	Reasons     []string `json:"reasons"`
	Entitlement string   `json:"entitlement"`
	Outcome     string   `json:"outcome"`
	Removal     string   `json:"removal"`
}

// leaverCheck cross-checks the leavers' cases against the outcomes and
// the operations' results.
func leaverCheck(cases []Case, ops []Operation, hrChecked bool) LeaverCheck {
	removed := map[int64]string{} // case -> result of its operation
	for _, op := range ops {
		for _, id := range op.CaseIDs {
			removed[id] = firstOf(op.Result, op.State)
		}
	}
	lc := LeaverCheck{HRChecked: hrChecked, ByReason: map[string]int{}, Items: []LeaverCase{}}
	for _, r := range leaverReasons {
		lc.ByReason[r] = 0
	}
	for i := range cases {
		cs := &cases[i]
		reasons := leaverReasonsOf(cs)
		if len(reasons) == 0 {
			continue
		}
		for _, r := range reasons {
			lc.ByReason[r]++
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
			Reasons: reasons, Entitlement: cs.Entitlement, Outcome: cs.Outcome, Removal: res})
	}
	return lc
}

// leaverReasons lists the reasons a case's user counts as a leaver.
var leaverReasons = []string{"okta_suspended", "okta_deprovisioned", "orphaned", "terminated_in_hr", "not_in_hr"}

// leaverReasonsOf returns why the case's user is a leaver, empty if not.
func leaverReasonsOf(cs *Case) []string {
	var out []string
	switch cs.UserStatus {
	case "SUSPENDED":
		out = append(out, "okta_suspended")
	case "DEPROVISIONED":
		out = append(out, "okta_deprovisioned")
	}
	for _, f := range []string{"orphaned", "terminated_in_hr", "not_in_hr"} {
		if slices.Contains(cs.Flags, f) {
			out = append(out, f)
		}
	}
	return out
}
