package campaign

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Flag is a risk flag on a case; flags combine as bits.
type Flag uint8

// The flags a case may carry.
const (
	FlagStaleLogin      Flag = 1 << iota // the user has not signed in to Okta for N days
	FlagUnusedApp                        // no sign-in to the app for N days
	FlagOrphaned                         // a suspended or deprovisioned user still holds the app
	FlagNoManager                        // nobody to confirm: goes to the IAM team
	FlagExcessiveGroups                  // the user is in more than N groups
	FlagTerminatedInHR                   // active in Okta, terminated in the HR CSV (okta.hr_csv)
	FlagNotInHR                          // active in Okta, absent from the HR CSV
)

var flagNames = []struct {
	f    Flag
	name string
}{
	{FlagStaleLogin, "stale_login"}, {FlagUnusedApp, "unused_app"}, {FlagOrphaned, "orphaned"},
	{FlagNoManager, "no_manager"}, {FlagExcessiveGroups, "excessive_groups"},
	{FlagTerminatedInHR, "terminated_in_hr"}, {FlagNotInHR, "not_in_hr"},
}

// FlagNames lists every flag's name in a stable order.
func FlagNames() []string {
	out := make([]string, len(flagNames))
	for i, f := range flagNames {
		out[i] = f.name
	}
	return out
}

// Names returns the names of the flags set, in a stable order.
func (f Flag) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Case is one certification case: one user holding one app, with the paths
// that grant it. Users, apps and groups are indexes into the Index.
type Case struct {
	User     int32
	App      int32
	Reviewer int32 // the user's manager; -1 when there is none
	Direct   bool
	Flags    Flag
	viaOff   int32
	viaLen   int32
}

// CaseSet is the cases a definition selects from one snapshot.
type CaseSet struct {
	Index *Index
	Def   *Definition
	Now   time.Time
	Cases []Case
	// GroupCases are group memberships reviewed as entitlements of their
	// own (definition entitlements.groups).
	GroupCases []GroupCase
	via        []int32 // the groups of every case, back to back
}

// GroupCase is one user's membership of one reviewed group.
type GroupCase struct {
	User, Group int32
	Flags       Flag
}

// Via returns the groups through which the case's user holds the app.
func (cs *CaseSet) Via(c *Case) []int32 { return cs.via[c.viaOff : c.viaOff+c.viaLen] }

// BuildCases turns a snapshot into certification cases as the definition
// scopes them, flagging each. It returns an error naming any user, manager
// or app the definition mentions that the snapshot does not hold.
func BuildCases(ix *Index, d *Definition, now time.Time) (*CaseSet, error) {
	users, err := scopeUsers(ix, d)
	if err != nil {
		return nil, err
	}
	apps, err := scopeApps(ix, d)
	if err != nil {
		return nil, err
	}
	s := ix.Snap
	staleBefore := now.AddDate(0, 0, -d.Flags.StaleLoginDays)
	unusedBefore := now.AddDate(0, 0, -d.Flags.UnusedAppDays).Unix()
	// Per-user flags do not depend on the app: compute them once.
	userFlags := make([]Flag, len(s.Users))
	reviewer := make([]int32, len(s.Users))
	for i := range s.Users {
		u := &s.Users[i]
		reviewer[i] = -1
		if m, ok := ix.UserByID[u.ManagerID]; ok && u.ManagerID != "" {
			reviewer[i] = m
		} else {
			userFlags[i] |= FlagNoManager
		}
		if u.Inactive() {
			userFlags[i] |= FlagOrphaned
		}
		if stale(u, staleBefore) {
			userFlags[i] |= FlagStaleLogin
		}
		if countGroups(ix, int32(i)) > d.Flags.ExcessiveGroups {
			userFlags[i] |= FlagExcessiveGroups
		}
		switch s.HRLeavers[u.ID] {
		case HRTerminated:
			userFlags[i] |= FlagTerminatedInHR
		case HRAbsent:
			userFlags[i] |= FlagNotInHR
		}
	}
	cs := &CaseSet{Index: ix, Def: d, Now: now}
	if len(d.Entitlements.Groups) > 0 {
		reviewed := make([]bool, len(s.Groups))
		for i := range s.Groups {
			reviewed[i] = s.Groups[i].Type != GroupBuiltIn && matchGroup(d.Entitlements.Groups, s.Groups[i].Name)
		}
		for u := range s.Users {
			if !users[u] {
				continue
			}
			for _, g := range ix.GroupsOfUser[u] {
				if reviewed[g] {
					cs.GroupCases = append(cs.GroupCases, GroupCase{User: int32(u), Group: g, Flags: userFlags[u]})
				}
			}
		}
	}
	if !d.Entitlements.ReviewsApps() {
		return cs, nil
	}
	ix.EachRelation(func(r *Relation) {
		if !users[r.User] || !apps[r.App] {
			return
		}
		c := Case{User: r.User, App: r.App, Reviewer: reviewer[r.User], Direct: r.Direct, Flags: userFlags[r.User],
			viaOff: int32(len(cs.via)), viaLen: int32(len(r.Via))}
		cs.via = append(cs.via, r.Via...)
		if t, ok := ix.usage[key(r.User, r.App)]; !ok || t < unusedBefore {
			c.Flags |= FlagUnusedApp
		}
		cs.Cases = append(cs.Cases, c)
	})
	return cs, nil
}

// stale: no Okta sign-in since the cut-off; a user created after the
// cut-off who has not signed in yet is new, not stale.
func stale(u *User, before time.Time) bool {
	if u.LastLogin.IsZero() {
		return u.Created.IsZero() || u.Created.Before(before)
	}
	return u.LastLogin.Before(before)
}

// countGroups counts a user's groups, leaving out built-in ones (Everyone).
func countGroups(ix *Index, u int32) int {
	n := 0
	for _, g := range ix.GroupsOfUser[u] {
		if ix.Snap.Groups[g].Type != GroupBuiltIn {
			n++
		}
	}
	return n
}

var defaultStatuses = []string{StatusActive, StatusRecovery, StatusPasswordExpired, StatusLockedOut}

// scopeUsers marks the users in scope.
func scopeUsers(ix *Index, d *Definition) ([]bool, error) {
	s := ix.Snap
	statuses := d.Scope.Statuses
	if len(statuses) == 0 {
		statuses = defaultStatuses
		if !d.Scope.ExcludeOrphaned {
			statuses = append(statuses[:len(statuses):len(statuses)], StatusSuspended, StatusDeprovisioned)
		}
	}
	byKey := userKeys(s)
	selected := len(d.Scope.Departments) == 0 && len(d.Scope.Managers) == 0 && len(d.Scope.Users) == 0
	picked := make([]bool, len(s.Users))
	var errs []error
	depts := map[string]bool{}
	for _, dep := range d.Scope.Departments {
		depts[strings.ToLower(strings.TrimSpace(dep))] = true
	}
	for _, ref := range d.Scope.Users {
		i, ok := byKey[strings.ToLower(ref)]
		if !ok {
			errs = append(errs, fmt.Errorf("scope.users: %q matches no user in the snapshot", ref))
			continue
		}
		picked[i] = true
	}
	if len(d.Scope.Managers) > 0 {
		reports := make([][]int32, len(s.Users))
		for i := range s.Users {
			if m, ok := ix.UserByID[s.Users[i].ManagerID]; ok && s.Users[i].ManagerID != "" {
				reports[m] = append(reports[m], int32(i))
			}
		}
		for _, ref := range d.Scope.Managers {
			root, ok := byKey[strings.ToLower(ref)]
			if !ok {
				errs = append(errs, fmt.Errorf("scope.managers: %q matches no user in the snapshot", ref))
				continue
			}
			// Walk down; picked doubles as the visited set, so a cycle in
			// bad manager data ends.
			stack := []int32{root}
			for len(stack) > 0 {
				u := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if picked[u] && u != root {
					continue
				}
				picked[u] = true
				stack = append(stack, reports[u]...)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i := range s.Users {
		u := &s.Users[i]
		in := selected || picked[i] || depts[strings.ToLower(u.Department)]
		picked[i] = in && contains(statuses, u.Status)
	}
	return picked, nil
}

func userKeys(s *Snapshot) map[string]int32 {
	m := make(map[string]int32, 3*len(s.Users))
	for i := range s.Users {
		u := &s.Users[i]
		for _, k := range []string{u.ID, u.Login, u.Email} {
			if k != "" {
				m[strings.ToLower(k)] = int32(i)
			}
		}
	}
	return m
}

// scopeApps marks the apps in scope.
func scopeApps(ix *Index, d *Definition) ([]bool, error) {
	s := ix.Snap
	f := d.Scope.Apps
	byKey := make(map[string]int32, 2*len(s.Apps))
	for i := range s.Apps {
		byKey[strings.ToLower(s.Apps[i].ID)] = int32(i)
		byKey[strings.ToLower(s.Apps[i].Label)] = int32(i)
	}
	var errs []error
	mark := func(key string, list []string) []bool {
		out := make([]bool, len(s.Apps))
		for _, ref := range list {
			i, ok := byKey[strings.ToLower(strings.TrimSpace(ref))]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %q matches no app label or id in the snapshot", key, ref))
				continue
			}
			out[i] = true
		}
		return out
	}
	include := mark("scope.apps.include", f.Include)
	exclude := mark("scope.apps.exclude", f.Exclude)
	companyWide := mark("scope.apps.company_wide", f.CompanyWide)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, a := range CompanyWideApps(ix) {
		companyWide[a] = true
	}
	out := make([]bool, len(s.Apps))
	for i := range s.Apps {
		switch {
		case len(f.Include) > 0 && !include[i], exclude[i]:
		case companyWide[i] && !f.IncludeCompanyWide && !include[i]:
		case !s.Apps[i].Active() && !f.IncludeInactive:
		default:
			out[i] = true
		}
	}
	return out, nil
}

// CompanyWideApps returns the apps assigned to a built-in group (Everyone).
func CompanyWideApps(ix *Index) []int32 {
	var out []int32
	for a, groups := range ix.GroupsOfApp {
		for _, g := range groups {
			if ix.Snap.Groups[g].Type == GroupBuiltIn {
				out = append(out, int32(a))
				break
			}
		}
	}
	return out
}
