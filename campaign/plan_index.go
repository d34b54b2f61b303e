package campaign

import "slices"

// planIndex is the part of NewIndex(s) that BuildPlan reads, for a plan
// over cases: every user, group and app by id, the groups of apps and
// the apps of groups, and only for the users the cases name their groups
// and their direct app assignments. It keeps the snapshot's users, groups
// and apps but not its memberships, assignments or usage, so those can
// be freed before the plan is built: at two million relations they are
// hundreds of MiB that the plan never reads again. With cases nil it
// indexes every user's groups and direct assignments (a few bytes per
// membership), for a plan whose cases are not known yet.
func planIndex(s *Snapshot, cases []PlanCase) *Index {
	ix := &Index{
		Snap:         &Snapshot{ID: s.ID, Users: s.Users, Groups: s.Groups, Apps: s.Apps},
		UserByID:     make(map[string]int32, len(s.Users)),
		GroupByID:    make(map[string]int32, len(s.Groups)),
		AppByID:      make(map[string]int32, len(s.Apps)),
		GroupsOfUser: make([][]int32, len(s.Users)),
		GroupsOfApp:  make([][]int32, len(s.Apps)),
		AppsOfGroup:  make([][]int32, len(s.Groups)),
		AppUsers:     make([][]AppUserRef, len(s.Apps)),
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
	want := make([]bool, len(s.Users))
	for i := range cases {
		if u, ok := ix.UserByID[cases[i].UserID]; ok {
			want[u] = true
		}
	}
	if cases == nil {
		for i := range want {
			want[i] = true
		}
	}
	for _, m := range s.Memberships {
		u, okU := ix.UserByID[m.UserID]
		g, okG := ix.GroupByID[m.GroupID]
		if okU && okG && want[u] {
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
		if okA && okU && want[u] && au.Scope == ScopeUser {
			ix.AppUsers[a] = append(ix.AppUsers[a], AppUserRef{User: u, Direct: true})
		}
	}
	for _, lists := range [][][]int32{ix.GroupsOfUser, ix.GroupsOfApp, ix.AppsOfGroup} {
		for i := range lists {
			slices.Sort(lists[i])
			lists[i] = slices.Compact(lists[i])
		}
	}
	return ix
}
