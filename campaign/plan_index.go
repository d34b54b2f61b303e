package campaign

// planIndex is NewIndex(s) for BuildPlan, keeping of the snapshot only
// its users, groups and apps: the memberships, assignments and sign-ins
// the index was built from can be freed before the plan is built (at
// two million relations they are hundreds of MiB that the plan never
// reads again). Sign-ins are not indexed: the plan never reads them.
func planIndex(s *Snapshot) *Index {
	ix := NewIndex(&Snapshot{ID: s.ID, Users: s.Users, Groups: s.Groups, Apps: s.Apps, Memberships: s.Memberships,
		GroupAssignments: s.GroupAssignments, AppAssignments: s.AppAssignments})
	ix.Snap = &Snapshot{ID: s.ID, Users: s.Users, Groups: s.Groups, Apps: s.Apps}
	return ix
}
