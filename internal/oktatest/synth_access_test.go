package oktatest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// checkGroupsAndApps asserts the shape of groups, rules, apps and
// assignments.
func checkGroupsAndApps(t *testing.T, o *Org, users map[string]*User, fresh func(kind, prefix, id string)) {
	t.Helper()
	groups := make(map[string]*Group, len(o.Groups))
	for i := range o.Groups {
		groups[o.Groups[i].ID] = &o.Groups[i]
	}
	kinds, names := map[GroupKind]int{}, map[string]bool{}
	perUser := map[string]int{}
	for _, g := range o.Groups {
		fresh("group", "00g", g.ID)
		kinds[g.Kind]++
		if names[g.Name] {
			t.Errorf("duplicate group name %q", g.Name)
		}
		names[g.Name] = true
		ms := o.Members[g.ID]
		if !slices.IsSorted(ms) || len(slices.Compact(slices.Clone(ms))) != len(ms) {
			t.Errorf("group %s: members not sorted and distinct", g.Name)
		}
		for _, id := range ms {
			perUser[id]++
		}
		if g.Type == GroupApp && !strings.HasPrefix(g.Name, "AD: ") {
			t.Errorf("APP_GROUP %q not named AD: ...", g.Name)
		}
	}
	if kinds[KindEveryone] != 1 || len(o.Members[o.Everyone()]) != len(o.Users) {
		t.Errorf("want one Everyone group with all %d users", len(o.Users))
	}
	for _, k := range []GroupKind{KindDepartment, KindTeam, KindAdmin, KindDirectory, KindAccess} {
		if kinds[k] == 0 {
			t.Errorf("no %s group", k)
		}
	}
	excessive := 0
	for _, n := range perUser {
		if n > 30 {
			excessive++
		}
	}
	if excessive == 0 {
		t.Error("no user is in more than 30 groups")
	}
	ruleStatus := map[string]int{}
	for _, r := range o.GroupRules {
		fresh("rule", "0pr", r.ID)
		ruleStatus[r.Status]++
		for _, gid := range r.GroupIDs {
			if g := groups[gid]; g == nil || g.Type != GroupOkta {
				t.Errorf("rule %s targets %s, want an OKTA_GROUP", r.Name, gid)
			}
		}
	}
	if ruleStatus["ACTIVE"] == 0 || ruleStatus["INACTIVE"] == 0 {
		t.Errorf("rule statuses %v: want ACTIVE and INACTIVE", ruleStatus)
	}

	labels, modes := map[string]bool{}, map[string]bool{}
	orphans, overlap := 0, 0
	for _, a := range o.Apps {
		fresh("app", "0oa", a.ID)
		if labels[a.Label] {
			t.Errorf("duplicate app label %q", a.Label)
		}
		labels[a.Label], modes[a.SignOnMode] = true, true
		if a.CompanyWide && !slices.ContainsFunc(o.AppGroups[a.ID], func(ga GroupAssignment) bool { return ga.GroupID == o.Everyone() }) {
			t.Errorf("company-wide app %s not assigned to Everyone", a.Label)
		}
		for _, ga := range o.AppGroups[a.ID] {
			if groups[ga.GroupID].Kind == KindAdmin {
				t.Errorf("admin group %s grants app %s", ga.GroupID, a.Label)
			}
		}
		for _, au := range o.AppUsers(a.ID) {
			if s := users[au.UserID].Status; s == StatusSuspended || s == StatusDeprovisioned {
				orphans++
			}
			if au.Scope == ScopeUser && au.GroupID != "" {
				overlap++
			}
		}
	}
	for _, m := range []string{"SAML_2_0", "OPENID_CONNECT", "AUTO_LOGIN", "BOOKMARK"} {
		if !modes[m] {
			t.Errorf("no %s app", m)
		}
	}
	if orphans == 0 || overlap == 0 {
		t.Errorf("orphaned accounts %d, direct users also granted by a group %d: want some", orphans, overlap)
	}
}

// checkEvents asserts the System Log's shape.
func checkEvents(t *testing.T, o *Org) {
	t.Helper()
	if !slices.IsSortedFunc(o.Events, compareEvents) {
		t.Error("events are not sorted by published, uuid")
	}
	start, old := o.Now.AddDate(0, 0, -120), o.Now.AddDate(0, 0, -90)
	types := map[string]int{}
	appFirst, appSecond, older := 0, 0, 0
	for _, e := range o.Events {
		types[e.EventType]++
		if e.Published.Before(start) || !e.Published.Before(o.Now) {
			t.Fatalf("event %s at %v: outside the last 120 days", e.UUID, e.Published)
		}
		if e.EventType != EventSSO {
			continue
		}
		if e.Published.Before(old) {
			older++
		}
		switch {
		case len(e.Targets) != 2:
			t.Fatalf("sso event with %d targets", len(e.Targets))
		case e.Targets[0].Type == "AppInstance" && e.Targets[0].ID == e.AppID:
			appFirst++
		case e.Targets[1].Type == "AppInstance" && e.Targets[1].ID == e.AppID:
			appSecond++
		default:
			t.Fatalf("sso event without its AppInstance target: %+v", e.Targets)
		}
	}
	if types[EventSSO] == 0 || types[EventSessionStart] == 0 || types[EventAppMemberAdd] == 0 {
		t.Errorf("event types %v: want sso, session and admin events", types)
	}
	if appFirst == 0 || appSecond == 0 || older == 0 {
		t.Errorf("AppInstance first %d, second %d; sso older than 90 days %d: want some of each", appFirst, appSecond, older)
	}
}

func TestAppUsers(t *testing.T) {
	o := &Org{
		Members: map[string][]string{"g1": {"u1", "u2"}, "g2": {"u2", "u3"}},
		AppGroups: map[string][]GroupAssignment{
			"a1": {{GroupID: "g2", Priority: 1}, {GroupID: "g1", Priority: 0}},
			"a2": {{GroupID: "g2", Priority: 0}},
		},
		AppDirect: map[string][]string{"a1": {"u3", "u4"}, "a3": {"u1"}},
		Apps:      []App{{ID: "a1"}, {ID: "a2"}, {ID: "a3"}},
	}
	tests := []struct {
		name, app string
		want      []AppUser
	}{
		{"direct wins over groups, group by priority", "a1", []AppUser{
			{"u1", ScopeGroup, "g1"}, {"u2", ScopeGroup, "g1"}, {"u3", ScopeUser, "g2"}, {"u4", ScopeUser, ""},
		}},
		{"groups only", "a2", []AppUser{{"u2", ScopeGroup, "g2"}, {"u3", ScopeGroup, "g2"}}},
		{"direct only", "a3", []AppUser{{"u1", ScopeUser, ""}}},
		{"unknown app", "nope", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := o.AppUsers(tc.app); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("AppUsers(%s) = %v, want %v", tc.app, got, tc.want)
			}
		})
	}
	if got := o.Relations(); got != 7 {
		t.Errorf("Relations() = %d, want 7", got)
	}
}

// direct reports whether user u holds app a directly.
func direct(o *Org, a, u string) bool {
	return slices.ContainsFunc(o.AppUsers(a), func(au AppUser) bool { return au.UserID == u && au.Scope == ScopeUser })
}

func TestOrgMutations(t *testing.T) {
	o := Generate(small(4))
	u, g, a := o.Users[5].ID, o.Groups[len(o.Groups)-1].ID, o.Apps[len(o.Apps)-1].ID
	tests := []struct {
		name     string
		do       func() error
		check    func() bool
		notFound bool
	}{
		{"status", func() error { return o.SetUserStatus(u, StatusSuspended) },
			func() bool { return o.User(u).Status == StatusSuspended }, false},
		{"add member", func() error { return o.AddGroupMember(g, u) },
			func() bool { return slices.Contains(o.GroupsOf(u), g) }, false},
		{"remove member", func() error { return o.RemoveGroupMember(g, u) },
			func() bool { return !slices.Contains(o.GroupsOf(u), g) }, false},
		{"remove member again", func() error { return o.RemoveGroupMember(g, u) }, nil, true},
		{"assign", func() error { return o.AddAssignment(a, u) }, func() bool { return direct(o, a, u) }, false},
		{"unassign", func() error { return o.RemoveAssignment(a, u) }, func() bool { return !direct(o, a, u) }, false},
		{"unknown user", func() error { return o.AddAssignment(a, "00unobody") }, nil, true},
		{"unknown group", func() error { return o.AssignGroup(a, "00gnothing", 0) }, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if tc.notFound {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v, want not found", err)
				}
				return
			}
			if err != nil || !tc.check() {
				t.Fatalf("err = %v, or the change is not visible", err)
			}
		})
	}
}
