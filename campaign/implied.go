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
// direct (USER) one, nor one of a user or app the snapshot does not hold
// (which building cases leaves out anyway).
func ImpliedByGroups(s *Snapshot) []bool {
	out := make([]bool, len(s.AppAssignments))
	ix := NewIndex(s) // the groups EachRelation follows, by the same rules
	for i := range s.AppAssignments {
		au := &s.AppAssignments[i]
		u, okU := ix.UserByID[au.UserID]
		a, okA := ix.AppByID[au.AppID]
		if au.Scope != ScopeUser && okU && okA {
			out[i] = sharesOne(ix.GroupsOfUser[u], ix.GroupsOfApp[a])
		}
	}
	return out
}

// sharesOne reports whether two sorted lists share an element.
func sharesOne(a, b []int32) bool {
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] == b[0]:
			return true
		case a[0] < b[0]:
			a = a[1:]
		default:
			b = b[1:]
		}
	}
	return false
}
