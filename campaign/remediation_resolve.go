package campaign

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// resolve decides which candidate membership removals the plan makes and
// lists the others as conflicts, as BuildPlan's doc comment states: per
// user, candidates are tried most revoked cases served first, then by
// ascending group id, and one is removed when nothing kept is lost given
// the removals decided before it. One pass is a fixpoint: a later removal
// only takes paths away, so a candidate kept because removing it lost
// something still loses it at the end, and each removal was checked against
// every removal decided before it and each later one against it.
func (p *planner) resolve() {
	byUser := map[string][]string{}
	for k := range p.candidates {
		byUser[k.a] = append(byUser[k.a], k.b)
	}
	p.indexDirect(byUser)
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		groups := byUser[u]
		sort.Slice(groups, func(i, j int) bool {
			ni, nj := len(p.candidates[pair{u, groups[i]}]), len(p.candidates[pair{u, groups[j]}])
			if ni != nj {
				return ni > nj
			}
			return groups[i] < groups[j]
		})
		for _, g := range groups {
			if !p.keptGroups[pair{u, g}] && len(p.wouldLose(u, g)) == 0 {
				p.removed[pair{u, g}] = true
			}
		}
		for _, g := range groups {
			k := pair{u, g}
			if p.removed[k] {
				p.add(OpRemoveMembership, u, g, "", "", p.candidates[k]...)
				continue
			}
			lost := p.wouldLose(u, g)
			if p.keptGroups[k] {
				lost = append(lost, "the group itself, kept in this campaign")
			}
			name := p.ix.Snap.Groups[p.ix.GroupByID[g]].Name
			p.add(ItemConflict, u, g, "", fmt.Sprintf("removing %q would also remove %s", name, strings.Join(lost, ", ")),
				p.candidates[k]...)
		}
	}
}

// indexDirect records the direct assignments of the users with candidates.
func (p *planner) indexDirect(byUser map[string][]string) {
	want := map[int32]bool{}
	for u := range byUser {
		if ui, ok := p.ix.UserByID[u]; ok {
			want[ui] = true
		}
	}
	for a, users := range p.ix.AppUsers {
		for _, au := range users {
			if au.Direct && want[au.User] {
				p.direct[key(au.User, int32(a))] = true
			}
		}
	}
}

// wouldLose lists the labels of the apps the user keeps that removing them
// from group takes away, given the removals decided so far: apps of the
// group not revoked for the user, held neither directly nor through another
// group that stays.
func (p *planner) wouldLose(userID, groupID string) []string {
	ix := p.ix
	u, okU := ix.UserByID[userID]
	g, okG := ix.GroupByID[groupID]
	if !okU || !okG {
		return nil
	}
	var lost []string
	for _, a := range ix.AppsOfGroup[g] {
		app := &ix.Snap.Apps[a]
		if p.revokedApps[key(u, a)] || p.direct[key(u, a)] {
			continue
		}
		if len(p.grantingGroups(u, a, g)) == 0 {
			lost = append(lost, fmt.Sprintf("%q", app.Label))
		}
	}
	sort.Strings(lost)
	return lost
}

// grantingGroups returns the ids of user u's groups, other than except,
// that grant app a and that the plan does not remove, ascending.
func (p *planner) grantingGroups(u, a, except int32) []string {
	ix := p.ix
	userID := ix.Snap.Users[u].ID
	var out []string
	for _, g := range ix.GroupsOfUser[u] {
		if g == except {
			continue
		}
		gid := ix.Snap.Groups[g].ID
		if p.removed[pair{userID, gid}] {
			continue
		}
		if _, ok := slices.BinarySearch(ix.GroupsOfApp[a], g); ok {
			out = append(out, gid)
		}
	}
	sort.Strings(out)
	return out
}

// planUnassigns plans each asked-for unassignment Okta will accept: no
// group that stays grants the app to the user. The others are listed with
// the group that blocks them: a conflict when that group is a conflict of
// this plan, manual work otherwise.
func (p *planner) planUnassigns() {
	for k, caseIDs := range p.unassigns {
		blocking := p.blockingGroups(k.a, k.b)
		if len(blocking) == 0 {
			p.add(OpUnassignApp, k.a, "", k.b, "", caseIDs...)
			continue
		}
		kind := ItemManual
		names := make([]string, len(blocking))
		for i, g := range blocking {
			if _, ok := p.candidates[pair{k.a, g}]; ok {
				kind = ItemConflict
			}
			names[i] = fmt.Sprintf("%q", g)
			if gi, ok := p.ix.GroupByID[g]; ok {
				names[i] = fmt.Sprintf("%q", p.ix.Snap.Groups[gi].Name)
			}
		}
		p.add(kind, k.a, blocking[0], k.b, fmt.Sprintf("the direct assignment stays: Okta refuses to unassign it (E0000046) "+
			"while group %s grants the app; unassign it once the membership is gone", strings.Join(names, ", ")), caseIDs...)
	}
}

// blockingGroups returns the groups that still grant app to user once the
// plan's removals are done, by the snapshot.
func (p *planner) blockingGroups(userID, appID string) []string {
	u, okU := p.ix.UserByID[userID]
	a, okA := p.ix.AppByID[appID]
	if !okU || !okA {
		return nil
	}
	return p.grantingGroups(u, a, -1)
}
