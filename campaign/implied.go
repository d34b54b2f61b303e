package campaign

// ImpliedByGroups reports, for each of the snapshot's app assignments (in
// the order of s.AppAssignments), whether it is a GROUP-scope assignment
// that the snapshot's own memberships and group-to-app assignments
// explain: its user is a member of a group assigned to its app. Such an
// assignment adds nothing to the relations cases are built from
// (Index.EachRelation finds the app through the group, with the group as
// the path), so a launch need not read it (store.LoadCaseSnapshot). A
// GROUP-scope assignment with no such group (a group the sync did not
// read, a membership Okta has not applied yet) is not implied, nor is a
// direct (USER) one.
func ImpliedByGroups(s *Snapshot) []bool {
	out := make([]bool, len(s.AppAssignments))
	groupNo := make(map[string]int32, len(s.Groups))
	for i := range s.Groups {
		groupNo[s.Groups[i].ID] = int32(i)
	}
	// The groups assigned to each app, and each user's groups, by number.
	appGroups := map[string][]int32{}
	for _, ga := range s.GroupAssignments {
		if g, ok := groupNo[ga.GroupID]; ok {
			appGroups[ga.AppID] = append(appGroups[ga.AppID], g)
		}
	}
	userGroups := make(map[string][]int32, len(s.Users))
	for _, m := range s.Memberships {
		if g, ok := groupNo[m.GroupID]; ok {
			userGroups[m.UserID] = append(userGroups[m.UserID], g)
		}
	}
	lastApp, granting := "", []int32(nil)
	for i := range s.AppAssignments {
		au := &s.AppAssignments[i]
		if au.Scope == ScopeUser {
			continue
		}
		if i == 0 || au.AppID != lastApp { // assignments come app by app
			lastApp, granting = au.AppID, appGroups[au.AppID]
		}
		if len(granting) == 0 {
			continue
		}
	member:
		for _, g := range userGroups[au.UserID] {
			for _, h := range granting {
				if g == h {
					out[i] = true
					break member
				}
			}
		}
	}
	return out
}
