// Package oktatest is a fake Okta management API for tests and benchmarks:
// a deterministic synthetic org (Generate) served by an httptest server
// (NewServer) that speaks Okta's wire format, including its paging by Link
// headers, its rate-limit buckets and headers, its error bodies and the
// System Log's polling semantics.
//
// The data is plain exported structs so that tests can compute what a
// correct client must read back:
//
//	org := oktatest.Generate(oktatest.MercariSized(1))
//	srv := oktatest.NewServer(org, oktatest.WithWindow(time.Second))
//	defer srv.Close()
//	// point the client at srv.URL with "SSWS "+srv.Token, then compare
//	// what it read with org.Users, org.AppUsers(appID), org.Relations(),
//	// and what it cost with srv.Stats() and srv.Requests().
package oktatest

import (
	"slices"
	"strings"
	"time"
)

// Okta user statuses the generator produces.
const (
	StatusActive          = "ACTIVE"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
)

// Okta group types.
const (
	GroupBuiltIn = "BUILT_IN"
	GroupOkta    = "OKTA_GROUP"
	GroupApp     = "APP_GROUP"
)

// App user scopes: USER for a direct assignment, GROUP for access that
// comes only through a group.
const (
	ScopeUser  = "USER"
	ScopeGroup = "GROUP"
)

// Event types the generator writes into the System Log.
const (
	EventSSO          = "user.authentication.sso"
	EventSessionStart = "user.session.start"
	EventAppMemberAdd = "application.user_membership.add"
)

// Org is a synthetic Okta org. All slices are in generation order (the CEO
// is Users[0]); the server sorts what it serves by id, as Okta does.
type Org struct {
	// Now is the reference time the data was generated around.
	Now time.Time
	// ManagerAttr is the profile attribute that holds manager references.
	ManagerAttr string
	// UserTypeID is the id of the default user type every user has.
	UserTypeID string

	Users      []User
	Groups     []Group
	GroupRules []GroupRule
	Apps       []App
	// Members maps a group id to its members' user ids, sorted.
	Members map[string][]string
	// AppGroups maps an app id to the groups assigned to it.
	AppGroups map[string][]GroupAssignment
	// AppDirect maps an app id to the users assigned to it directly
	// (scope USER), sorted.
	AppDirect map[string][]string
	// Events is the System Log, sorted by Published then UUID.
	Events []Event
}

// User is an Okta user with the profile attributes the project reads.
type User struct {
	ID     string
	Status string
	// Created, Activated, StatusChanged, LastLogin, LastUpdated and
	// PasswordChanged are Okta's timestamps; a zero time is served as null.
	Created, Activated, StatusChanged, LastLogin, LastUpdated, PasswordChanged time.Time

	Login, Email, FirstName, LastName, Department, Title, EmployeeNumber string
	// ManagerRef is the value served in the Org's ManagerAttr profile
	// attribute: an id, login or email, "" for none, or a dangling value.
	ManagerRef string
	// ManagerID is the true manager's id that ManagerRef should resolve to;
	// "" for the CEO, users without a manager and dangling references.
	ManagerID string
	// Level is the depth in the manager tree: 0 for the CEO.
	Level int
}

// DisplayName is "First Last".
func (u *User) DisplayName() string { return u.FirstName + " " + u.LastName }

// GroupKind says what role a generated group plays, so tests can pick
// groups by purpose; it is not served.
type GroupKind string

// Group kinds.
const (
	KindEveryone   GroupKind = "everyone"
	KindDepartment GroupKind = "department"
	KindTeam       GroupKind = "team"
	KindAdmin      GroupKind = "admin" // privileged groups that grant no app
	KindDirectory  GroupKind = "directory"
	KindAccess     GroupKind = "access"
)

// Group is an Okta group.
type Group struct {
	ID, Name, Description, Type string
	Kind                        GroupKind
	Created, LastUpdated        time.Time
	LastMembershipUpdated       time.Time
	// StatsUsersCount, when set, is the usersCount that a list with
	// expand=stats reports instead of the members served: Okta computes
	// group stats asynchronously, so they can lag behind the member list.
	StatsUsersCount *int
}

// GroupRule is an Okta group rule assigning users to groups.
type GroupRule struct {
	ID, Name, Status, Expression string
	GroupIDs                     []string
	Created, LastUpdated         time.Time
}

// App is an Okta app instance.
type App struct {
	ID, Name, Label, Status, SignOnMode string
	// LinkName and LinkPath make the app's sign-on link: the server serves
	// its own URL followed by LinkPath.
	LinkName, LinkPath   string
	Created, LastUpdated time.Time
	// CompanyWide marks apps assigned to the Everyone group.
	CompanyWide bool
	// Profile holds the app's custom profile attributes (Okta's app
	// "profile" object), e.g. {"owner_email": "a@x.com"}; omitted when
	// empty.
	Profile map[string]any
}

// GroupAssignment is a group assigned to an app.
type GroupAssignment struct {
	GroupID     string
	Priority    int
	LastUpdated time.Time
}

// AppUser is one entry of an app's effective users, as
// /api/v1/apps/{id}/users returns them.
type AppUser struct {
	UserID string
	// Scope is USER for a direct assignment (even when a group also grants
	// the app) and GROUP when only groups do.
	Scope string
	// GroupID is the highest-priority group granting the app, "" when none.
	GroupID string
}

// Event is one System Log event.
type Event struct {
	UUID      string
	Published time.Time
	EventType string
	Outcome   string
	// Actor is always a User.
	ActorID, ActorLogin, ActorName string
	Targets                        []Target
	// AppID is the id of the AppInstance target, "" when there is none.
	AppID string
	// IP is the client address.
	IP string
}

// Target is one typed target of an event.
type Target struct {
	ID, Type, AlternateID, DisplayName string
}

// AppUsers returns an app's effective users sorted by user id: the union
// of its direct users (scope USER) and the members of its groups (scope
// GROUP unless also direct). It returns nil for an unknown app.
func (o *Org) AppUsers(appID string) []AppUser {
	groups := slices.Clone(o.AppGroups[appID])
	slices.SortStableFunc(groups, func(a, b GroupAssignment) int { return a.Priority - b.Priority })
	seen := map[string]int{}
	var out []AppUser
	for _, id := range o.AppDirect[appID] {
		if _, dup := seen[id]; !dup {
			seen[id] = len(out)
			out = append(out, AppUser{UserID: id, Scope: ScopeUser})
		}
	}
	for _, ga := range groups {
		for _, id := range o.Members[ga.GroupID] {
			if i, ok := seen[id]; ok {
				if out[i].GroupID == "" {
					out[i].GroupID = ga.GroupID
				}
				continue
			}
			seen[id] = len(out)
			out = append(out, AppUser{UserID: id, Scope: ScopeGroup, GroupID: ga.GroupID})
		}
	}
	slices.SortFunc(out, func(a, b AppUser) int { return strings.Compare(a.UserID, b.UserID) })
	return out
}

// Relations returns the number of distinct effective (user, app) pairs
// over every app, ACTIVE or not.
func (o *Org) Relations() int {
	n := 0
	for i := range o.Apps {
		n += len(o.AppUsers(o.Apps[i].ID))
	}
	return n
}

// User returns the user with the id, or nil.
func (o *Org) User(id string) *User {
	for i := range o.Users {
		if o.Users[i].ID == id {
			return &o.Users[i]
		}
	}
	return nil
}

// Group returns the group with the id, or nil.
func (o *Org) Group(id string) *Group {
	for i := range o.Groups {
		if o.Groups[i].ID == id {
			return &o.Groups[i]
		}
	}
	return nil
}

// App returns the app with the id, or nil.
func (o *Org) App(id string) *App {
	for i := range o.Apps {
		if o.Apps[i].ID == id {
			return &o.Apps[i]
		}
	}
	return nil
}

// GroupsOf returns the ids of the groups a user belongs to, in Groups
// order.
func (o *Org) GroupsOf(userID string) []string {
	var out []string
	for i := range o.Groups {
		if _, ok := slices.BinarySearch(o.Members[o.Groups[i].ID], userID); ok {
			out = append(out, o.Groups[i].ID)
		}
	}
	return out
}

// Everyone returns the BUILT_IN Everyone group's id.
func (o *Org) Everyone() string {
	for i := range o.Groups {
		if o.Groups[i].Type == GroupBuiltIn {
			return o.Groups[i].ID
		}
	}
	return ""
}
