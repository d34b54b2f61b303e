package oktatest

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNotFound is wrapped by the mutation helpers' errors when an id names
// nothing.
var ErrNotFound = errors.New("not found")

// Mutations of an Org. They keep its invariants (sorted member and direct
// lists, sorted events) and stamp changes with the Org's Now. On a served
// org, call them through Server.Update or the Server helpers, which hold
// the server's lock and publish the change to the next request.

// SetUserStatus changes a user's status. It fails with ErrNotFound for an
// unknown user.
func (o *Org) SetUserStatus(userID, status string) error {
	u := o.User(userID)
	if u == nil {
		return fmt.Errorf("oktatest: user %s: %w", userID, ErrNotFound)
	}
	u.Status, u.StatusChanged, u.LastUpdated = status, o.Now, o.Now
	return nil
}

// AddGroupMember puts a user into a group; a member already there stays.
// It fails with ErrNotFound for an unknown group or user.
func (o *Org) AddGroupMember(groupID, userID string) error {
	if err := o.check(groupID, "", userID); err != nil {
		return err
	}
	o.Members[groupID] = insertSorted(o.Members[groupID], userID)
	o.Group(groupID).LastMembershipUpdated = o.Now
	return nil
}

// RemoveGroupMember takes a user out of a group. It fails with
// ErrNotFound for an unknown group or a user who is not a member.
func (o *Org) RemoveGroupMember(groupID, userID string) error {
	if err := o.check(groupID, "", ""); err != nil {
		return err
	}
	ms, ok := removeSorted(o.Members[groupID], userID)
	if !ok {
		return fmt.Errorf("oktatest: user %s in group %s: %w", userID, groupID, ErrNotFound)
	}
	o.Members[groupID] = ms
	o.Group(groupID).LastMembershipUpdated = o.Now
	return nil
}

// AddAssignment assigns an app to a user directly (scope USER). It fails
// with ErrNotFound for an unknown app or user.
func (o *Org) AddAssignment(appID, userID string) error {
	if err := o.check("", appID, userID); err != nil {
		return err
	}
	o.AppDirect[appID] = insertSorted(o.AppDirect[appID], userID)
	return nil
}

// RemoveAssignment removes a user's direct assignment to an app; access
// through groups stays. It fails with ErrNotFound when there is no such
// direct assignment.
func (o *Org) RemoveAssignment(appID, userID string) error {
	us, ok := removeSorted(o.AppDirect[appID], userID)
	if !ok {
		return fmt.Errorf("oktatest: direct assignment of app %s to user %s: %w", appID, userID, ErrNotFound)
	}
	o.AppDirect[appID] = us
	return nil
}

// AssignGroup assigns an app to a group at the given priority, or changes
// the priority of an existing assignment. It fails with ErrNotFound for an
// unknown app or group.
func (o *Org) AssignGroup(appID, groupID string, priority int) error {
	if err := o.check(groupID, appID, ""); err != nil {
		return err
	}
	gas := o.AppGroups[appID]
	if i := slices.IndexFunc(gas, func(ga GroupAssignment) bool { return ga.GroupID == groupID }); i >= 0 {
		gas[i].Priority, gas[i].LastUpdated = priority, o.Now
		return nil
	}
	o.AppGroups[appID] = append(gas, GroupAssignment{GroupID: groupID, Priority: priority, LastUpdated: o.Now})
	return nil
}

// UnassignGroup removes a group's assignment to an app. It fails with
// ErrNotFound when there is none.
func (o *Org) UnassignGroup(appID, groupID string) error {
	gas := o.AppGroups[appID]
	i := slices.IndexFunc(gas, func(ga GroupAssignment) bool { return ga.GroupID == groupID })
	if i < 0 {
		return fmt.Errorf("oktatest: group %s assigned to app %s: %w", groupID, appID, ErrNotFound)
	}
	o.AppGroups[appID] = slices.Delete(gas, i, i+1)
	return nil
}

// AddEvents inserts events into the System Log, keeping it sorted.
func (o *Org) AddEvents(events ...Event) {
	o.Events = append(o.Events, events...)
	slices.SortStableFunc(o.Events, compareEvents)
}

// check fails with ErrNotFound for a non-empty id that names nothing.
func (o *Org) check(groupID, appID, userID string) error {
	switch {
	case groupID != "" && o.Group(groupID) == nil:
		return fmt.Errorf("oktatest: group %s: %w", groupID, ErrNotFound)
	case appID != "" && o.App(appID) == nil:
		return fmt.Errorf("oktatest: app %s: %w", appID, ErrNotFound)
	case userID != "" && o.User(userID) == nil:
		return fmt.Errorf("oktatest: user %s: %w", userID, ErrNotFound)
	}
	return nil
}

func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

func removeSorted(s []string, v string) ([]string, bool) {
	i, found := slices.BinarySearch(s, v)
	if !found {
		return s, false
	}
	return slices.Delete(s, i, i+1), true
}

// Org returns the served org. Read it between requests freely; change it
// only through Update or the helpers below, so that requests in flight
// never see a half-made change.
func (s *Server) Org() *Org {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	return s.org
}

// Update runs fn on the served org under the server's lock; requests
// that start after it returns see the change. It returns fn's error.
func (s *Server) Update(fn func(o *Org) error) error {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	s.idx = nil // even on error: fn may have changed something
	return fn(s.org)
}

// SetUserStatus changes a user's status on the served org; see
// Org.SetUserStatus.
func (s *Server) SetUserStatus(userID, status string) error {
	return s.Update(func(o *Org) error { return o.SetUserStatus(userID, status) })
}

// AddAssignment assigns an app to a user directly on the served org; see
// Org.AddAssignment.
func (s *Server) AddAssignment(appID, userID string) error {
	return s.Update(func(o *Org) error { return o.AddAssignment(appID, userID) })
}

// RemoveAssignment removes a direct assignment on the served org; see
// Org.RemoveAssignment.
func (s *Server) RemoveAssignment(appID, userID string) error {
	return s.Update(func(o *Org) error { return o.RemoveAssignment(appID, userID) })
}

// AddGroupMember adds a member on the served org; see Org.AddGroupMember.
func (s *Server) AddGroupMember(groupID, userID string) error {
	return s.Update(func(o *Org) error { return o.AddGroupMember(groupID, userID) })
}

// RemoveGroupMember removes a member on the served org; see
// Org.RemoveGroupMember.
func (s *Server) RemoveGroupMember(groupID, userID string) error {
	return s.Update(func(o *Org) error { return o.RemoveGroupMember(groupID, userID) })
}
