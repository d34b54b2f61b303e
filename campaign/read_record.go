package campaign

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Object types of a directory read, as ReadRecord and FailedRead name them.
const (
	ReadUsers        = "users"
	ReadGroups       = "groups"
	ReadGroupRules   = "group_rules"
	ReadGroupMembers = "group_members"
	ReadApps         = "apps"
	ReadAppUsers     = "app_users"
	ReadAppGroups    = "app_groups"
	ReadSystemLog    = "system_log"
)

// ReadRecord is how completely a sync read the directory: the pages read
// per object type, every read that failed, the System Log window asked
// for, and the members read per group against Okta's own count. It is
// kept in the snapshot's counts (SyncCounts.Read), so no launch can use a
// snapshot whose read was not whole without saying so.
type ReadRecord struct {
	// Complete is true when every page of every list was read.
	Complete bool `json:"complete"`
	// Pages counts the pages read per object type (the Read* names).
	Pages map[string]int `json:"pages"`
	// Failed lists the reads that did not finish, empty when Complete.
	Failed []FailedRead `json:"failed"`
	// LogSince and LogUntil bound the System Log window this sync read;
	// both zero when it read none (the window was already read).
	LogSince time.Time `json:"system_log_since"`
	LogUntil time.Time `json:"system_log_until"`
	// GroupMemberCounts is Okta's own member count per group id
	// (_embedded.stats.usersCount of GET /api/v1/groups?expand=stats),
	// for the groups Okta reported one for. GroupAppCounts is Okta's count
	// of the apps each group is assigned to (_embedded.stats.appsCount).
	// Sync reconciles them (Reconcile); they are not kept with the
	// snapshot (a map per group), only the reconciliation is.
	GroupMemberCounts map[string]int `json:"-"`
	GroupAppCounts    map[string]int `json:"-"`
	// Reconciliation compares what was read with Okta's totals, per
	// object type; computed by Sync.
	Reconciliation []Reconciliation `json:"reconciliation"`
}

// FailedRead is one list read that did not finish.
type FailedRead struct {
	// Object is the object type read (ReadUsers, ReadGroupMembers, ...).
	Object string `json:"object"`
	// ID is the group or app whose list it was, empty for a top-level list.
	ID string `json:"id,omitempty"`
	// Page is the request path and query of the page that failed (its
	// after cursor included), without scheme and host.
	Page string `json:"page"`
	// Error is the failure as the reader saw it.
	Error string `json:"error"`
}

func (f FailedRead) String() string {
	what := strings.ReplaceAll(f.Object, "_", " ")
	if f.ID != "" {
		what += " of " + f.ID
	}
	return fmt.Sprintf("%s (page %s): %s", what, f.Page, f.Error)
}

// Reconciliation is one object type's count read against the total Okta
// reports for it.
type Reconciliation struct {
	Object string `json:"object"`
	// Reconciled is true when every total Okta gave matches what was read.
	Reconciled bool `json:"reconciled"`
	// Compared is how many objects (e.g. groups) had an Okta total.
	Compared int `json:"compared"`
	// Read and OktaTotal sum what was read and what Okta reported over
	// the compared objects.
	Read      int `json:"read"`
	OktaTotal int `json:"okta_total"`
	// Mismatches names each object whose count differs.
	Mismatches []CountMismatch `json:"mismatches"`
}

// CountMismatch is one object whose count read differs from Okta's.
type CountMismatch struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Read      int    `json:"read"`
	OktaTotal int    `json:"okta_total"`
}

// IncompleteReadError is a directory read that left pages unread. Nothing
// of such a read is saved; its message names every failed read and tells
// the user to sync again.
type IncompleteReadError struct {
	Failed []FailedRead
	// Err is the first failure as the reader returned it, when known.
	Err error
}

func (e *IncompleteReadError) Error() string {
	parts := make([]string, 0, len(e.Failed))
	for _, f := range e.Failed {
		parts = append(parts, f.String())
	}
	return fmt.Sprintf("the directory read is incomplete, so no snapshot was saved: %s; re-run `attest sync`", strings.Join(parts, "; "))
}

// Unwrap returns the first failure, so its kind (forbidden, not found)
// still shows; without one an incomplete read is a temporary failure: a
// new sync may read every page.
func (e *IncompleteReadError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return ErrTransient
}

// Launchable returns nil when a campaign may be launched on the snapshot:
// its sync read every page. A snapshot recorded with unread pages is
// refused with an *Error (EInvalid, a sentence safe to show) naming the reads that failed and
// telling the user to re-run `attest sync`. A snapshot saved before read
// completeness was recorded (Counts.Read nil) passes: the syncs that made
// those saved nothing on any failed read.
func (s SnapshotInfo) Launchable() error {
	r := s.Counts.Read
	if r == nil || r.Complete && len(r.Failed) == 0 {
		return nil
	}
	parts := make([]string, 0, len(r.Failed))
	for _, f := range r.Failed {
		parts = append(parts, f.String())
	}
	if len(parts) == 0 {
		parts = append(parts, "the sync did not record which read failed")
	}
	return Errorf(EInvalid, "snapshot %d cannot be used to launch a campaign: its sync left pages unread (%s); re-run `attest sync`",
		s.ID, strings.Join(parts, "; "))
}

// Reconcile compares, per group, the members read with Okta's own count
// (GroupMemberCounts) and the apps the group was read assigned to with
// Okta's (GroupAppCounts), and sets r.Reconciliation: one entry per object
// type Okta gave totals for. Okta gives no total for users, apps or app
// users; those types are not listed.
func (r *ReadRecord) Reconcile(s *Snapshot) {
	r.Reconciliation = []Reconciliation{}
	members := make(map[string]int, len(s.Groups))
	for _, m := range s.Memberships {
		members[m.GroupID]++
	}
	apps := make(map[string]int, len(s.Groups))
	for _, ga := range s.GroupAssignments {
		apps[ga.GroupID]++
	}
	for _, x := range []struct {
		object string
		okta   map[string]int
		read   map[string]int
	}{{ReadGroupMembers, r.GroupMemberCounts, members}, {ReadAppGroups, r.GroupAppCounts, apps}} {
		if len(x.okta) > 0 {
			r.Reconciliation = append(r.Reconciliation, reconcileGroups(s, x.object, x.okta, x.read))
		}
	}
}

// reconcileGroups compares a count read per group with Okta's.
func reconcileGroups(s *Snapshot, object string, okta, read map[string]int) Reconciliation {
	rec := Reconciliation{Object: object, Mismatches: []CountMismatch{}}
	for i := range s.Groups {
		g := &s.Groups[i]
		want, ok := okta[g.ID]
		if !ok {
			continue
		}
		rec.Compared++
		rec.Read += read[g.ID]
		rec.OktaTotal += want
		if read[g.ID] != want {
			rec.Mismatches = append(rec.Mismatches, CountMismatch{ID: g.ID, Name: g.Name, Read: read[g.ID], OktaTotal: want})
		}
	}
	sort.Slice(rec.Mismatches, func(i, j int) bool { return rec.Mismatches[i].ID < rec.Mismatches[j].ID })
	rec.Reconciled = len(rec.Mismatches) == 0
	return rec
}
