package campaign

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// AppOwners maps an app's Okta id to its owners' Okta user ids, sorted.
type AppOwners map[string][]string

// ownerDirectory is what the owner stage needs of a reviewed snapshot:
// each app's owners, and each user's team and name for grouping forms.
type ownerDirectory struct {
	owners AppOwners
	// unresolved lists owner names that matched no active user and apps
	// named under owners that are not in the snapshot, for the audit log.
	unresolved []string
	teams      map[string]Team
}

// Team is who a member works with, as the reviewed snapshot says: the
// department and the manager. Owner forms group members by it.
type Team struct {
	Department string
	ManagerID  string
}

// Key orders teams: department first, then manager.
func (t Team) Key() string { return strings.ToLower(t.Department) + "\x00" + t.ManagerID }

// ResolveOwners finds each app's owners in a snapshot from the owner
// stage's sources: the owners list (apps by label or id, people by email
// or login, case-insensitive), the members of the group owners_group
// names for the app, and with owners_attribute the people the app's
// profile attribute names (App.Owners, as the sync kept it). Suspended or deprovisioned accounts own nothing: they
// could never decide. It also returns the names it could not resolve.
func ResolveOwners(s *Snapshot, st OwnerStage) (AppOwners, []string) {
	d := resolveOwners(s, st)
	return d.owners, d.unresolved
}

func resolveOwners(s *Snapshot, st OwnerStage) *ownerDirectory {
	d := &ownerDirectory{owners: AppOwners{}, teams: make(map[string]Team, len(s.Users))}
	users := make(map[string]*User, 2*len(s.Users))
	for i := range s.Users {
		u := &s.Users[i]
		d.teams[u.ID] = Team{Department: u.Department, ManagerID: u.ManagerID}
		for _, k := range []string{u.Email, u.Login} {
			if k != "" {
				users[strings.ToLower(k)] = u
			}
		}
	}
	apps := make(map[string][]*App, 2*len(s.Apps))
	for i := range s.Apps {
		a := &s.Apps[i]
		apps[strings.ToLower(a.Label)] = append(apps[strings.ToLower(a.Label)], a)
		apps[strings.ToLower(a.ID)] = append(apps[strings.ToLower(a.ID)], a)
	}
	sets := map[string]map[string]bool{}
	add := func(app string, u *User) {
		if u.Inactive() {
			return
		}
		if sets[app] == nil {
			sets[app] = map[string]bool{}
		}
		sets[app][u.ID] = true
	}
	names := make([]string, 0, len(st.Owners))
	for name := range st.Owners {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		matched := apps[strings.ToLower(strings.TrimSpace(name))]
		if len(matched) == 0 {
			d.unresolved = append(d.unresolved, fmt.Sprintf("app %q is not in the snapshot", name))
			continue
		}
		for _, who := range st.Owners[name] {
			u, ok := users[strings.ToLower(strings.TrimSpace(who))]
			if !ok {
				d.unresolved = append(d.unresolved, fmt.Sprintf("owner %q of %s is not an Okta user", who, name))
				continue
			}
			for _, a := range matched {
				add(a.ID, u)
			}
		}
	}
	if st.OwnersAttribute != "" {
		for i := range s.Apps {
			a := &s.Apps[i]
			for _, who := range ownerNames(a.Owners) {
				u, ok := users[strings.ToLower(who)]
				if !ok {
					d.unresolved = append(d.unresolved, fmt.Sprintf("owner %q of %s (app profile %s) is not an Okta user", who, a.Label, st.OwnersAttribute))
					continue
				}
				add(a.ID, u)
			}
		}
	}
	if st.OwnersGroup != "" {
		groups := make(map[string]string, len(s.Groups))
		for _, g := range s.Groups {
			groups[strings.ToLower(g.Name)] = g.ID
		}
		byID := make(map[string]*User, len(s.Users))
		for i := range s.Users {
			byID[s.Users[i].ID] = &s.Users[i]
		}
		wanted := map[string][]string{} // group id -> app ids
		for _, a := range s.Apps {
			name := strings.NewReplacer("{label}", a.Label, "{name}", a.Name, "{id}", a.ID).Replace(st.OwnersGroup)
			if gid, ok := groups[strings.ToLower(name)]; ok {
				wanted[gid] = append(wanted[gid], a.ID)
			}
		}
		for _, m := range s.Memberships {
			for _, app := range wanted[m.GroupID] {
				if u, ok := byID[m.UserID]; ok {
					add(app, u)
				}
			}
		}
	}
	for app, set := range sets {
		ids := make([]string, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		d.owners[app] = ids
	}
	return d
}

// ownerNames splits an app profile attribute's value into owner names:
// a JSON list of strings, or names separated by commas, semicolons or
// spaces.
func ownerNames(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if strings.HasPrefix(v, "[") {
		var list []string
		if err := json.Unmarshal([]byte(v), &list); err == nil {
			out := list[:0]
			for _, s := range list {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// ownerCache keeps the owner directory of recently reviewed snapshots. A
// snapshot is frozen and a definition is fixed at launch, so the result
// for a (snapshot digest, owner stage) pair never changes; clicks then do
// not reload a whole snapshot.
var ownerCache = struct {
	sync.Mutex
	m map[string]*ownerDirectory
}{m: map[string]*ownerDirectory{}}

const ownerCacheSize = 16

// ownerKey names a cache entry; "" (no digest) is not cached.
func ownerKey(c *Campaign, st OwnerStage) string {
	if c.SnapshotDigest == "" {
		return ""
	}
	apps := make([]string, 0, len(st.Owners))
	for a, who := range st.Owners {
		apps = append(apps, a+"="+strings.Join(who, ","))
	}
	sort.Strings(apps)
	return c.SnapshotDigest + "|" + st.OwnersGroup + "|" + st.OwnersAttribute + "|" + strings.Join(apps, ";")
}
