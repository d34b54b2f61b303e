package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SyncCounts summarises one snapshot and the sync that made it.
type SyncCounts struct {
	UsersByStatus      map[string]int `json:"users_by_status"`
	Users              int            `json:"users"`
	Groups             int            `json:"groups"`
	GroupRules         int            `json:"group_rules"`
	Apps               int            `json:"apps"`
	InactiveApps       int            `json:"inactive_apps"`
	Memberships        int            `json:"memberships"`
	DirectAssignments  int            `json:"assignments_direct"`
	GroupAssignments   int            `json:"group_app_assignments"`
	ViaGroup           int            `json:"assignments_via_group"`
	Relations          int            `json:"effective_relations"`
	SignIns            int            `json:"app_sign_ins"`
	UnresolvedManagers int            `json:"unresolved_managers"`
	NoManager          int            `json:"users_without_manager"`
	HRUnmatched        int            `json:"hr_rows_unmatched"`
	APICalls           int64          `json:"api_calls"`
	RateLimited        int64          `json:"rate_limited"`
	Retries            int64          `json:"retries"`
	DurationSeconds    float64        `json:"duration_seconds"`
	// Read is how completely the sync read the directory (see
	// ReadRecord); nil for a snapshot saved before it was recorded.
	Read *ReadRecord `json:"read,omitempty"`
	// HR is the leaver cross-check against the HR CSV, nil without one.
	HR *HRCheck `json:"hr,omitempty"`
}

// CallCounter is implemented by directories that count their API calls.
type CallCounter interface {
	CallCounts() (calls, rateLimited, retries int64)
}

// SyncOptions tune Sync.
type SyncOptions struct {
	Now func() time.Time
	// LogWindow is how far back app sign-ins are read (default 90 days).
	LogWindow time.Duration
	// HR, when non-empty, overrides managers and departments.
	HR       []HRRecord
	Progress func(Progress)
}

// SyncResult is what Sync did.
type SyncResult struct {
	SnapshotID  int64      `json:"snapshot_id"`
	Counts      SyncCounts `json:"counts"`
	HRUnmatched []string   `json:"hr_unmatched,omitempty"`
}

// Sync reads the directory into a new snapshot and makes it the latest. The
// System Log is read incrementally: from the previous snapshot's cursor (or
// the start of the window) to now, merged with the sign-ins already known.
// On any error the previous snapshot stays the latest and nothing is saved:
// a read that left any page unread (an *IncompleteReadError, or a snapshot
// whose Read record is not complete) is never saved, so no campaign can be
// launched on it. Where Okta gives its own totals (members per group) the
// counts read are reconciled with them in Counts.Read.
func Sync(ctx context.Context, dir Directory, st SnapshotStore, o SyncOptions) (*SyncResult, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LogWindow <= 0 {
		o.LogWindow = 90 * 24 * time.Hour
	}
	start := o.Now().UTC()
	windowStart := start.Add(-o.LogWindow)
	since := windowStart
	var prevUsage []AppUsage
	prev, err := st.LatestSnapshot(ctx)
	switch {
	case err == nil:
		if prev.LogCursor.After(since) && !prev.LogCursor.After(start) {
			since = prev.LogCursor
			if prevUsage, err = st.LoadUsage(ctx, prev.ID); err != nil {
				return nil, fmt.Errorf("sync: load sign-ins of snapshot %d: %w", prev.ID, err)
			}
		}
	case errors.Is(err, ErrNotFound):
	default:
		return nil, fmt.Errorf("sync: find latest snapshot: %w", err)
	}
	snap, err := dir.ReadDirectory(ctx, ReadOptions{LogSince: since, LogUntil: start, Progress: o.Progress})
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	if r := snap.Read; r != nil && (!r.Complete || len(r.Failed) > 0) {
		failed := r.Failed
		if len(failed) == 0 {
			failed = []FailedRead{{Object: "directory", Page: "unknown", Error: "the reader reported an incomplete read without naming it"}}
		}
		return nil, fmt.Errorf("sync: %w", &IncompleteReadError{Failed: failed})
	}
	snap.LogCursor = start
	snap.Usage = mergeUsage(prevUsage, snap.Usage, windowStart)
	res := &SyncResult{HRUnmatched: ApplyHR(snap.Users, o.HR)}
	hr := CheckHR(snap.Users, o.HR, start)
	unresolved := ResolveManagers(snap.Users)
	MarkRuleGroups(snap)
	res.Counts = Count(snap)
	res.Counts.UnresolvedManagers = unresolved
	res.Counts.HRUnmatched = len(res.HRUnmatched)
	res.Counts.HR = hr
	if cc, ok := dir.(CallCounter); ok {
		res.Counts.APICalls, res.Counts.RateLimited, res.Counts.Retries = cc.CallCounts()
	}
	res.Counts.DurationSeconds = o.Now().Sub(start).Seconds()
	if r := snap.Read; r != nil {
		if since.Before(start) {
			r.LogSince, r.LogUntil = since, start
		}
		r.Reconcile(snap)
		res.Counts.Read = r
	}
	if res.SnapshotID, err = st.SaveSnapshot(ctx, snap, res.Counts); err != nil {
		return nil, fmt.Errorf("sync: save snapshot: %w", err)
	}
	return res, nil
}

// mergeUsage keeps the latest sign-in per (user, app) across the old and
// new reads, dropping what fell out of the window.
func mergeUsage(old, fresh []AppUsage, windowStart time.Time) []AppUsage {
	type k struct{ u, a string }
	pos := make(map[k]int, len(old)+len(fresh))
	out := make([]AppUsage, 0, len(old)+len(fresh))
	for _, list := range [][]AppUsage{old, fresh} {
		for _, us := range list {
			if us.LastUsed.Before(windowStart) {
				continue
			}
			if i, ok := pos[k{us.UserID, us.AppID}]; ok {
				if us.LastUsed.After(out[i].LastUsed) {
					out[i].LastUsed = us.LastUsed
				}
				continue
			}
			pos[k{us.UserID, us.AppID}] = len(out)
			out = append(out, us)
		}
	}
	return out
}

// MarkRuleGroups records on each group the active rules that add members
// to it.
func MarkRuleGroups(s *Snapshot) {
	byID := make(map[string]*Group, len(s.Groups))
	for i := range s.Groups {
		s.Groups[i].RuleIDs = nil
		byID[s.Groups[i].ID] = &s.Groups[i]
	}
	for _, r := range s.Rules {
		if r.Status != StatusActive {
			continue
		}
		for _, gid := range r.GroupIDs {
			if g, ok := byID[gid]; ok {
				g.RuleIDs = append(g.RuleIDs, r.ID)
			}
		}
	}
}

// Count computes a snapshot's summary counts.
func Count(s *Snapshot) SyncCounts {
	c := SyncCounts{
		UsersByStatus:    map[string]int{},
		Users:            len(s.Users),
		Groups:           len(s.Groups),
		GroupRules:       len(s.Rules),
		Apps:             len(s.Apps),
		Memberships:      len(s.Memberships),
		GroupAssignments: len(s.GroupAssignments),
		SignIns:          len(s.Usage),
	}
	for i := range s.Users {
		c.UsersByStatus[s.Users[i].Status]++
		if s.Users[i].ManagerID == "" {
			c.NoManager++
		}
	}
	for i := range s.Apps {
		if !s.Apps[i].Active() {
			c.InactiveApps++
		}
	}
	for _, au := range s.AppAssignments {
		if au.Scope == ScopeUser {
			c.DirectAssignments++
		}
	}
	NewIndex(s).EachRelation(func(r *Relation) {
		c.Relations++
		if len(r.Via) > 0 {
			c.ViaGroup++
		}
	})
	return c
}
