package evidence

import (
	"fmt"
	"time"

	"github.com/attestbot/attest/campaign"
)

// ReadInfo is population.json's "read": whether the sync that made the
// snapshot read every page of every list, and how the counts read
// reconcile with the totals Okta gives for them.
type ReadInfo struct {
	// Recorded is false for a snapshot saved before read completeness was
	// recorded: such syncs saved nothing on any failed read, but the
	// bundle cannot show it.
	Recorded bool `json:"recorded"`
	// Complete is true when every page of every list was read; a campaign
	// cannot be launched on a snapshot whose read was not.
	Complete    bool                  `json:"complete"`
	Pages       map[string]int        `json:"pages"`
	FailedReads []campaign.FailedRead `json:"failed_reads"`
	// SystemLogSince and SystemLogUntil bound the System Log window this
	// sync read (sign-ins before it come from earlier syncs).
	SystemLogSince *time.Time `json:"system_log_since,omitempty"`
	SystemLogUntil *time.Time `json:"system_log_until,omitempty"`
	// Reconciliation compares, per object type Okta gives totals for, the
	// count read with Okta's own.
	Reconciliation []campaign.Reconciliation `json:"reconciliation"`
	// NotReconcilable lists the object types Okta reports no total for.
	NotReconcilable []string `json:"not_reconcilable"`
	// Flags are the findings a reader must look at: unread pages, counts
	// that differ from Okta's, nothing recorded.
	Flags []string `json:"flags"`
}

// notReconcilable are the lists Okta's API gives no total for: its lists
// are paged by cursor without a count. Group members and group app
// assignments are reconciled per group with _embedded.stats.
var notReconcilable = []string{campaign.ReadUsers, campaign.ReadGroups, campaign.ReadGroupRules, campaign.ReadApps,
	campaign.ReadAppUsers, campaign.ReadSystemLog}

// readInfoOf turns a snapshot's read record into population evidence.
func readInfoOf(r *campaign.ReadRecord) ReadInfo {
	out := ReadInfo{Pages: map[string]int{}, FailedReads: []campaign.FailedRead{}, Reconciliation: []campaign.Reconciliation{},
		NotReconcilable: append([]string(nil), notReconcilable...), Flags: []string{}}
	if r == nil {
		out.Flags = append(out.Flags, "the sync did not record whether every page was read (a snapshot saved before this was recorded)")
		return out
	}
	out.Recorded, out.Complete = true, r.Complete && len(r.Failed) == 0
	for k, v := range r.Pages {
		out.Pages[k] = v
	}
	out.FailedReads = append(out.FailedReads, r.Failed...)
	out.SystemLogSince, out.SystemLogUntil = at(r.LogSince), at(r.LogUntil)
	for _, f := range r.Failed {
		out.Flags = append(out.Flags, "unread: "+f.String())
	}
	if !out.Complete && len(r.Failed) == 0 {
		out.Flags = append(out.Flags, "the sync recorded an incomplete read without naming the read that failed")
	}
	for _, rec := range r.Reconciliation {
		if rec.Mismatches == nil {
			rec.Mismatches = []campaign.CountMismatch{}
		}
		out.Reconciliation = append(out.Reconciliation, rec)
		if !rec.Reconciled && len(rec.Mismatches) > 0 {
			first := rec.Mismatches[0]
			out.Flags = append(out.Flags, fmt.Sprintf("%s: %d of %d compared differ from Okta's total (e.g. %s %s: read %d, Okta %d)",
				rec.Object, len(rec.Mismatches), rec.Compared, first.ID, first.Name, first.Read, first.OktaTotal))
		}
	}
	if len(r.Reconciliation) == 0 {
		out.Flags = append(out.Flags, "no count could be reconciled with an Okta total (Okta reported none)")
	}
	return out
}

// HRInfo is population.json's "hr_cross_check": the users active in Okta
// whom the HR CSV (okta.hr_csv) shows terminated or does not list, as the
// sync found them. Their cases carry the flags terminated_in_hr and
// not_in_hr; analytics.json's leavers follows what became of them.
type HRInfo struct {
	// Checked is false when the sync had no HR CSV: leavers are then
	// found by Okta status alone.
	Checked     bool                `json:"checked"`
	CheckedAt   *time.Time          `json:"checked_at,omitempty"`
	Rows        int                 `json:"hr_rows"`
	ActiveUsers int                 `json:"active_okta_users"`
	Terminated  int                 `json:"terminated_in_hr"`
	Absent      int                 `json:"not_in_hr"`
	Leavers     []campaign.HRLeaver `json:"leavers"`
}

func hrInfoOf(h *campaign.HRCheck) HRInfo {
	if h == nil {
		return HRInfo{Leavers: []campaign.HRLeaver{}}
	}
	return HRInfo{Checked: true, CheckedAt: at(h.CheckedAt), Rows: h.Rows, ActiveUsers: h.ActiveUsers, Terminated: h.Terminated,
		Absent: h.Absent, Leavers: append([]campaign.HRLeaver{}, h.Leavers...)}
}
