package oktatest

import (
	"slices"
	"strings"
	"sync/atomic"
)

// index is an immutable, sorted copy of the org that handlers serve from.
// The server builds one when the org first is served and again after each
// mutation, so handlers never read the Org while a test changes it.
// Everything is ordered by id, which is also the order of Okta's lists and
// of the paging cursors.
type index struct {
	base string // the server's URL, for _links
	attr string // the manager attribute
	typ  string // the user type id

	users  []User // sorted by id
	userAt map[string]int
	login  map[string]int // lower-cased login to position

	groups  []Group
	groupAt map[string]int
	members [][]int // per group: user positions, ascending (so sorted by id)

	rules []GroupRule

	apps      []App
	appAt     map[string]int
	appGroups [][]GroupAssignment // per app: sorted by group id
	direct    [][]int             // per app: direct user positions, ascending

	events []Event // sorted by published, then uuid

	// Lazily filled caches; racing fills compute the same value.
	userCache []atomic.Pointer[[]byte]
	appUsers  []atomic.Pointer[[]indexAppUser]
}

// indexAppUser is an effective app user by position.
type indexAppUser struct {
	user  int
	scope string
	group int // granting group position, -1 for none
}

func byID[T any](id func(*T) string) func(a, b T) int {
	return func(a, b T) int { return strings.Compare(id(&a), id(&b)) }
}

// newIndex copies and sorts o. The caller holds the data lock.
func newIndex(o *Org, base string) *index {
	x := &index{base: base, attr: o.ManagerAttr, typ: o.UserTypeID}
	x.users = slices.Clone(o.Users)
	slices.SortFunc(x.users, byID(func(u *User) string { return u.ID }))
	x.userAt = make(map[string]int, len(x.users))
	x.login = make(map[string]int, len(x.users))
	for i := range x.users {
		x.userAt[x.users[i].ID] = i
		x.login[strings.ToLower(x.users[i].Login)] = i
	}
	positions := func(ids []string) []int {
		out := make([]int, 0, len(ids))
		for _, id := range ids {
			if p, ok := x.userAt[id]; ok {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}

	x.groups = slices.Clone(o.Groups)
	slices.SortFunc(x.groups, byID(func(g *Group) string { return g.ID }))
	x.groupAt = make(map[string]int, len(x.groups))
	x.members = make([][]int, len(x.groups))
	for i := range x.groups {
		x.groupAt[x.groups[i].ID] = i
		x.members[i] = positions(o.Members[x.groups[i].ID])
	}

	x.rules = slices.Clone(o.GroupRules)
	for i := range x.rules {
		x.rules[i].GroupIDs = slices.Clone(x.rules[i].GroupIDs)
	}
	slices.SortFunc(x.rules, byID(func(r *GroupRule) string { return r.ID }))

	x.apps = slices.Clone(o.Apps)
	slices.SortFunc(x.apps, byID(func(a *App) string { return a.ID }))
	x.appAt = make(map[string]int, len(x.apps))
	x.appGroups = make([][]GroupAssignment, len(x.apps))
	x.direct = make([][]int, len(x.apps))
	for i := range x.apps {
		id := x.apps[i].ID
		x.appAt[id] = i
		var gas []GroupAssignment
		for _, ga := range o.AppGroups[id] {
			if _, ok := x.groupAt[ga.GroupID]; ok {
				gas = append(gas, ga)
			}
		}
		slices.SortFunc(gas, byID(func(ga *GroupAssignment) string { return ga.GroupID }))
		x.appGroups[i] = gas
		x.direct[i] = positions(o.AppDirect[id])
	}

	x.events = slices.Clone(o.Events)
	for i := range x.events {
		x.events[i].Targets = slices.Clone(x.events[i].Targets)
	}
	slices.SortFunc(x.events, compareEvents)

	x.userCache = make([]atomic.Pointer[[]byte], len(x.users))
	x.appUsers = make([]atomic.Pointer[[]indexAppUser], len(x.apps))
	return x
}

// compareEvents orders events by published time, then uuid.
func compareEvents(a, b Event) int {
	if c := a.Published.Compare(b.Published); c != 0 {
		return c
	}
	return strings.Compare(a.UUID, b.UUID)
}

// effective returns app a's effective users sorted by id, computed once:
// direct users get USER, users only in assigned groups GROUP with the
// highest-priority group, as Org.AppUsers does.
func (x *index) effective(a int) []indexAppUser {
	if p := x.appUsers[a].Load(); p != nil {
		return *p
	}
	const (
		none = iota
		viaGroup
		direct
	)
	state := make([]uint8, len(x.users))
	via := make([]int32, len(x.users))
	for _, u := range x.direct[a] {
		state[u] = direct
		via[u] = -1
	}
	gas := slices.Clone(x.appGroups[a])
	slices.SortStableFunc(gas, func(p, q GroupAssignment) int { return p.Priority - q.Priority })
	n := len(x.direct[a])
	for _, ga := range gas {
		gi := x.groupAt[ga.GroupID]
		for _, u := range x.members[gi] {
			switch {
			case state[u] == none:
				state[u], via[u] = viaGroup, int32(gi)
				n++
			case state[u] == direct && via[u] < 0:
				via[u] = int32(gi)
			}
		}
	}
	out := make([]indexAppUser, 0, n)
	for u, s := range state {
		switch s {
		case direct:
			out = append(out, indexAppUser{user: u, scope: ScopeUser, group: int(via[u])})
		case viaGroup:
			out = append(out, indexAppUser{user: u, scope: ScopeGroup, group: int(via[u])})
		}
	}
	x.appUsers[a].Store(&out)
	return out
}

// findUser resolves an id or a login, as Okta's /users/{id} does.
func (x *index) findUser(idOrLogin string) (int, bool) {
	if p, ok := x.userAt[idOrLogin]; ok {
		return p, true
	}
	p, ok := x.login[strings.ToLower(idOrLogin)]
	return p, ok
}
