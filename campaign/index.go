package campaign

import (
	"slices"
	"time"
)

// Index is a snapshot interned into dense integer ids, with the lookups
// case generation needs. It is built once per snapshot in O(relations) and
// shares the snapshot's slices; callers must not change the snapshot after.
type Index struct {
	Snap *Snapshot

	UserByID  map[string]int32
	GroupByID map[string]int32
	AppByID   map[string]int32

	// GroupsOfUser lists each user's groups, ascending.
	GroupsOfUser [][]int32
	// GroupsOfApp lists the groups assigned to each app, ascending.
	GroupsOfApp [][]int32
	// AppsOfGroup lists the apps each group is assigned to, ascending.
	AppsOfGroup [][]int32
	// AppUsers lists, per app, its app users with their scope.
	AppUsers [][]AppUserRef

	usage map[uint64]int64 // user<<32|app -> unix seconds of last sign-in
}

// AppUserRef is one app user in an Index.
type AppUserRef struct {
	User   int32
	Direct bool // scope USER
}

// NewIndex interns a snapshot. Rows that name unknown users, groups or apps
// (the directory changed while it was read) are skipped.
func NewIndex(s *Snapshot) *Index {
	ix := &Index{
		Snap:         s,
		UserByID:     make(map[string]int32, len(s.Users)),
		GroupByID:    make(map[string]int32, len(s.Groups)),
		AppByID:      make(map[string]int32, len(s.Apps)),
		GroupsOfUser: make([][]int32, len(s.Users)),
		GroupsOfApp:  make([][]int32, len(s.Apps)),
		AppsOfGroup:  make([][]int32, len(s.Groups)),
		AppUsers:     make([][]AppUserRef, len(s.Apps)),
		usage:        make(map[uint64]int64, len(s.Usage)),
	}
	for i := range s.Users {
		ix.UserByID[s.Users[i].ID] = int32(i)
	}
	for i := range s.Groups {
		ix.GroupByID[s.Groups[i].ID] = int32(i)
	}
	for i := range s.Apps {
		ix.AppByID[s.Apps[i].ID] = int32(i)
	}
	for _, m := range s.Memberships {
		u, okU := ix.UserByID[m.UserID]
		g, okG := ix.GroupByID[m.GroupID]
		if okU && okG {
			ix.GroupsOfUser[u] = append(ix.GroupsOfUser[u], g)
		}
	}
	for _, ga := range s.GroupAssignments {
		a, okA := ix.AppByID[ga.AppID]
		g, okG := ix.GroupByID[ga.GroupID]
		if okA && okG {
			ix.GroupsOfApp[a] = append(ix.GroupsOfApp[a], g)
			ix.AppsOfGroup[g] = append(ix.AppsOfGroup[g], a)
		}
	}
	for _, au := range s.AppAssignments {
		a, okA := ix.AppByID[au.AppID]
		u, okU := ix.UserByID[au.UserID]
		if okA && okU {
			ix.AppUsers[a] = append(ix.AppUsers[a], AppUserRef{User: u, Direct: au.Scope == ScopeUser})
		}
	}
	for _, lists := range [][][]int32{ix.GroupsOfUser, ix.GroupsOfApp, ix.AppsOfGroup} {
		for i := range lists {
			slices.Sort(lists[i])
			lists[i] = slices.Compact(lists[i])
		}
	}
	for _, us := range s.Usage {
		u, okU := ix.UserByID[us.UserID]
		a, okA := ix.AppByID[us.AppID]
		if okU && okA {
			ix.usage[key(u, a)] = us.LastUsed.Unix()
		}
	}
	return ix
}

// manager returns the index of u's manager, or -1.
func (ix *Index) manager(u int32) int32 {
	if u < 0 {
		return -1
	}
	id := ix.Snap.Users[u].ManagerID
	if id == "" {
		return -1
	}
	m, ok := ix.UserByID[id]
	if !ok {
		return -1
	}
	return m
}

func key(u, a int32) uint64 { return uint64(uint32(u))<<32 | uint64(uint32(a)) }

// LastUsed returns the user's last sign-in to the app, and false if the
// System Log window holds none.
func (ix *Index) LastUsed(u, a int32) (time.Time, bool) {
	t, ok := ix.usage[key(u, a)]
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(t, 0).UTC(), true
}

// Relation is one user holding one app, with every path that grants it.
type Relation struct {
	User   int32
	App    int32
	Direct bool    // a USER-scoped assignment
	Via    []int32 // groups of the user assigned to the app, ascending
}

// EachRelation calls fn for every effective (user, app) pair, users in
// snapshot order and each user's apps ascending. A pair Okta reports as
// GROUP-scoped with no group path found has neither Direct nor Via. The
// Relation and its Via slice are reused between calls: copy to keep.
func (ix *Index) EachRelation(fn func(*Relation)) {
	nApps := len(ix.Snap.Apps)
	// Per-user scratch, indexed by app and reset through the touched list,
	// so each user costs O(their relations), not O(apps).
	mark := make([]uint8, nApps) // bit 1: held, 2: direct
	via := make([][]int32, nApps)
	var touched []int32
	direct := make([][]int32, len(ix.Snap.Users)) // user -> directly or scope-held apps
	scopeOnly := make([][]int32, len(ix.Snap.Users))
	for a, users := range ix.AppUsers {
		for _, au := range users {
			if au.Direct {
				direct[au.User] = append(direct[au.User], int32(a))
			} else {
				scopeOnly[au.User] = append(scopeOnly[au.User], int32(a))
			}
		}
	}
	rel := &Relation{}
	for u := range ix.Snap.Users {
		touched = touched[:0]
		touch := func(a int32, bit uint8) {
			if mark[a] == 0 {
				touched = append(touched, a)
			}
			mark[a] |= bit
		}
		for _, a := range direct[u] {
			touch(a, 3)
		}
		for _, a := range scopeOnly[u] {
			touch(a, 1)
		}
		for _, g := range ix.GroupsOfUser[u] {
			for _, a := range ix.AppsOfGroup[g] {
				touch(a, 1)
				via[a] = append(via[a], g)
			}
		}
		slices.Sort(touched)
		for _, a := range touched {
			rel.User, rel.App, rel.Direct, rel.Via = int32(u), a, mark[a]&2 != 0, via[a]
			fn(rel)
			mark[a], via[a] = 0, via[a][:0]
		}
	}
}
