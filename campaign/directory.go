// Package campaign holds attest's domain: the directory snapshot a review
// works on, campaign definitions, certification cases and their flags. It
// imports no Slack, Okta, SQL or HTTP package; the other packages adapt those
// to the small interfaces declared here.
package campaign

import (
	"time"
)

// User statuses as Okta reports them.
const (
	StatusActive          = "ACTIVE"
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusRecovery        = "RECOVERY"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
)

// Group types as Okta reports them.
const (
	GroupOkta    = "OKTA_GROUP"
	GroupApp     = "APP_GROUP" // mastered elsewhere (AD, LDAP): change it at the source
	GroupBuiltIn = "BUILT_IN"  // Everyone: never modified
)

// Assignment scopes of an Okta app user.
const (
	ScopeUser  = "USER"  // assigned directly
	ScopeGroup = "GROUP" // assigned through one or more groups
)

// User is one Okta user as the snapshot saw it.
type User struct {
	ID         string
	Login      string
	Email      string
	FirstName  string
	LastName   string
	Status     string
	Created    time.Time
	LastLogin  time.Time // zero when the user never signed in
	Department string
	Title      string
	// ManagerRef is the raw manager attribute (an Okta id, login, email or
	// name); ManagerID is what it resolved to, empty when it did not.
	ManagerRef string
	ManagerID  string
}

// DisplayName is "First Last", or the login when both are empty.
func (u *User) DisplayName() string {
	switch {
	case u.FirstName == "" && u.LastName == "":
		return u.Login
	case u.LastName == "":
		return u.FirstName
	case u.FirstName == "":
		return u.LastName
	}
	return u.FirstName + " " + u.LastName
}

// Inactive reports whether the account can no longer sign in, so access it
// still holds is orphaned.
func (u *User) Inactive() bool {
	return u.Status == StatusSuspended || u.Status == StatusDeprovisioned
}

// Group is one Okta group.
type Group struct {
	ID          string
	Name        string
	Description string
	Type        string
	// RuleIDs lists the active group rules that add members to this group;
	// removing such a member silently excludes the user from the rule.
	RuleIDs []string
}

// App is one Okta app instance.
type App struct {
	ID         string
	Name       string // Okta's machine name, e.g. "salesforce"
	Label      string // what people see, e.g. "Salesforce"
	Status     string // ACTIVE or INACTIVE
	SignOnMode string
	LinkURL    string // the sign-on link from the app's _links.appLinks
	// Owners is the value of the app profile attribute named by
	// okta.app_owner_attribute (emails or logins, comma or space
	// separated, or a JSON list); "" when none is read.
	Owners string
}

// Active reports whether the app is ACTIVE in Okta.
func (a *App) Active() bool { return a.Status == StatusActive }

// Membership is one user in one group.
type Membership struct {
	GroupID string
	UserID  string
}

// AppAssignment is one app user: a user holding an app, directly (scope
// USER) or only through groups (scope GROUP).
type AppAssignment struct {
	AppID   string
	UserID  string
	Scope   string
	Created time.Time // when the assignment was made, zero if unknown
}

// GroupAssignment is a group assigned to an app: its members hold the app.
type GroupAssignment struct {
	AppID    string
	GroupID  string
	Priority int
}

// AppUsage is the last time a user signed in to an app, from the System Log.
type AppUsage struct {
	UserID   string
	AppID    string
	LastUsed time.Time
}

// GroupRule is an Okta group rule that adds users to groups.
type GroupRule struct {
	ID       string
	Name     string
	Status   string
	GroupIDs []string
}

// Snapshot is the whole directory at one moment: what a campaign reviews.
type Snapshot struct {
	ID          int64
	OrgURL      string
	StartedAt   time.Time
	CompletedAt time.Time
	// LogCursor is the end of the System Log window read so far; the next
	// sync reads events from here on.
	LogCursor time.Time
	// Digest is the SHA-256 of the content (see Digest), set when saved.
	Digest string

	Users            []User
	Groups           []Group
	Apps             []App
	Memberships      []Membership
	AppAssignments   []AppAssignment
	GroupAssignments []GroupAssignment
	Usage            []AppUsage
	Rules            []GroupRule

	// Read is how completely the directory was read, set by a Directory
	// that records it (nil otherwise); it is kept in the snapshot's
	// counts, not in its content or Digest.
	Read *ReadRecord
	// HRLeavers maps the id of each user active in Okta but terminated in
	// (HRTerminated) or absent from (HRAbsent) the HR CSV, from the sync's
	// HR cross-check (SyncCounts.HR); nil when no HR CSV was checked.
	HRLeavers map[string]string
}
