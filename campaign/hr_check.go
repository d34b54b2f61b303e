package campaign

import (
	"sort"
	"strings"
	"time"
)

// Reasons of the HR leaver cross-check.
const (
	HRTerminated = "terminated" // the HR CSV marks the person terminated
	HRAbsent     = "absent"     // the HR CSV has no row for the person
)

// hrTerminatedStatuses are the values of the HR CSV's status column that
// mean the person has left (compared case-insensitively).
var hrTerminatedStatuses = []string{"terminated", "inactive", "leaver", "left", "separated", "withdrawn", "former"}

// Terminated reports whether the HR row says the person has left by now:
// a status of terminated (or inactive, leaver, left, separated, withdrawn,
// former), or a termination date on or before now.
func (r *HRRecord) Terminated(now time.Time) bool {
	st := strings.ToLower(strings.TrimSpace(r.Status))
	for _, t := range hrTerminatedStatuses {
		if st == t {
			return true
		}
	}
	return !r.TerminationDate.IsZero() && !r.TerminationDate.After(now)
}

// HRLeaver is one user active in Okta whom the HR CSV shows as gone.
type HRLeaver struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	// Reason is HRTerminated or HRAbsent.
	Reason string `json:"reason"`
	// Status and TerminationDate are the HR row's, when terminated.
	Status          string     `json:"hr_status,omitempty"`
	TerminationDate *time.Time `json:"termination_date,omitempty"`
}

// HRCheck is the leaver cross-check of one sync: the users active in Okta
// (not suspended or deprovisioned) who are terminated in, or absent from,
// the HR CSV.
type HRCheck struct {
	CheckedAt time.Time `json:"checked_at"`
	// Rows is the number of HR rows read.
	Rows int `json:"rows"`
	// ActiveUsers is the number of Okta users checked.
	ActiveUsers int        `json:"active_users"`
	Terminated  int        `json:"terminated"`
	Absent      int        `json:"absent"`
	Leavers     []HRLeaver `json:"leavers"`
}

// ByUser maps each leaver's id to the reason; nil for a nil check.
func (h *HRCheck) ByUser() map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h.Leavers))
	for _, l := range h.Leavers {
		out[l.UserID] = l.Reason
	}
	return out
}

// CheckHR cross-checks the users active in Okta against the HR rows,
// matched by email or login ignoring case (as ApplyHR matches): those whose
// row says they have left (HRRecord.Terminated at now), and those with no
// row at all. It returns nil when there are no HR rows (no HR CSV, or an
// empty one: an empty export would make everyone a leaver).
func CheckHR(users []User, records []HRRecord, now time.Time) *HRCheck {
	if len(records) == 0 {
		return nil
	}
	rows := make(map[string]*HRRecord, len(records))
	for i := range records {
		rows[strings.ToLower(strings.TrimSpace(records[i].Email))] = &records[i]
	}
	h := &HRCheck{CheckedAt: now.UTC(), Rows: len(records), Leavers: []HRLeaver{}}
	for i := range users {
		u := &users[i]
		if u.Inactive() {
			continue
		}
		h.ActiveUsers++
		r := rows[strings.ToLower(u.Email)]
		if r == nil {
			r = rows[strings.ToLower(u.Login)]
		}
		switch {
		case r == nil:
			h.Absent++
			h.Leavers = append(h.Leavers, HRLeaver{UserID: u.ID, Email: firstNonEmpty(u.Email, u.Login), Reason: HRAbsent})
		case r.Terminated(now):
			h.Terminated++
			l := HRLeaver{UserID: u.ID, Email: firstNonEmpty(u.Email, u.Login), Reason: HRTerminated, Status: r.Status}
			if !r.TerminationDate.IsZero() {
				d := r.TerminationDate.UTC()
				l.TerminationDate = &d
			}
			h.Leavers = append(h.Leavers, l)
		}
	}
	sort.Slice(h.Leavers, func(i, j int) bool { return h.Leavers[i].UserID < h.Leavers[j].UserID })
	return h
}
