package oktatest

import (
	"errors"
	"fmt"
	"strings"
)

// ErrExists is wrapped by the create helpers' errors when the id (or a
// user's login) is taken, as Okta refuses a duplicate.
var ErrExists = errors.New("already exists")

// Objects created after an org was generated: an account, app or group
// that appears between two directory syncs, which an event hook event
// names before any snapshot holds it. Like the mutations, call them on a
// served org through the Server helpers.

// CreateUser adds a user. A zero Status is ACTIVE, zero Created and
// LastUpdated are the Org's Now, and an empty ManagerRef is filled from
// ManagerID in the Org's manager attribute style (the id). It fails with
// ErrExists for a taken id or login and ErrNotFound for a ManagerID that
// names nobody.
func (o *Org) CreateUser(u User) error {
	if u.ID == "" || u.Login == "" {
		return fmt.Errorf("oktatest: a user needs an id and a login")
	}
	for i := range o.Users {
		if o.Users[i].ID == u.ID || strings.EqualFold(o.Users[i].Login, u.Login) {
			return fmt.Errorf("oktatest: user %s (%s): %w", u.ID, u.Login, ErrExists)
		}
	}
	if u.ManagerID != "" {
		m := o.User(u.ManagerID)
		if m == nil {
			return fmt.Errorf("oktatest: manager %s: %w", u.ManagerID, ErrNotFound)
		}
		if u.ManagerRef == "" {
			u.ManagerRef = m.ID
		}
		u.Level = m.Level + 1
	}
	if u.Status == "" {
		u.Status = "ACTIVE"
	}
	if u.Created.IsZero() {
		u.Created = o.Now
	}
	if u.LastUpdated.IsZero() {
		u.LastUpdated = o.Now
	}
	o.Users = append(o.Users, u)
	return nil
}

// CreateApp adds an app instance. A zero Status is ACTIVE, zero Created
// and LastUpdated are the Org's Now. It fails with ErrExists for a taken
// id.
func (o *Org) CreateApp(a App) error {
	if a.ID == "" || a.Label == "" {
		return fmt.Errorf("oktatest: an app needs an id and a label")
	}
	if o.App(a.ID) != nil {
		return fmt.Errorf("oktatest: app %s: %w", a.ID, ErrExists)
	}
	if a.Status == "" {
		a.Status = "ACTIVE"
	}
	if a.Created.IsZero() {
		a.Created = o.Now
	}
	if a.LastUpdated.IsZero() {
		a.LastUpdated = o.Now
	}
	o.Apps = append(o.Apps, a)
	return nil
}

// CreateGroup adds a group with no members. A zero Type is OKTA_GROUP,
// zero Created and LastUpdated are the Org's Now. It fails with
// ErrExists for a taken id.
func (o *Org) CreateGroup(g Group) error {
	if g.ID == "" || g.Name == "" {
		return fmt.Errorf("oktatest: a group needs an id and a name")
	}
	if o.Group(g.ID) != nil {
		return fmt.Errorf("oktatest: group %s: %w", g.ID, ErrExists)
	}
	if g.Type == "" {
		g.Type = "OKTA_GROUP"
	}
	if g.Created.IsZero() {
		g.Created = o.Now
	}
	if g.LastUpdated.IsZero() {
		g.LastUpdated = o.Now
	}
	o.Groups = append(o.Groups, g)
	return nil
}

// CreateUser adds a user to the served org; see Org.CreateUser.
func (s *Server) CreateUser(u User) error {
	return s.Update(func(o *Org) error { return o.CreateUser(u) })
}

// CreateApp adds an app to the served org; see Org.CreateApp.
func (s *Server) CreateApp(a App) error {
	return s.Update(func(o *Org) error { return o.CreateApp(a) })
}

// CreateGroup adds a group to the served org; see Org.CreateGroup.
func (s *Server) CreateGroup(g Group) error {
	return s.Update(func(o *Org) error { return o.CreateGroup(g) })
}
