package oktatest

import (
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// small is the shape most tests serve: big enough to page, quick to make.
func small(seed int64) Params {
	return Params{Seed: seed, Users: 450, Apps: 30, Groups: 60}
}

// raceBuild reports whether the test binary runs under the race detector,
// which slows generation about fivefold.
func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

func TestGenerateIsDeterministic(t *testing.T) {
	tests := []struct {
		name string
		a, b Params
		same bool
	}{
		{"same seed", small(1), small(1), true},
		{"different seed", small(1), small(2), false},
		{"same seed, manager attribute", Params{Seed: 3, Users: 300, Apps: 20, Groups: 40, ManagerAttr: "manager"},
			Params{Seed: 3, Users: 300, Apps: 20, Groups: 40, ManagerAttr: "manager"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := Generate(tc.a), Generate(tc.b)
			if got := reflect.DeepEqual(a, b); got != tc.same {
				t.Fatalf("DeepEqual = %v, want %v", got, tc.same)
			}
		})
	}
}

// The manager attribute changes the references only, not the rest.
func TestManagerAttrChangesOnlyReferences(t *testing.T) {
	p := small(5)
	a := Generate(p)
	p.ManagerAttr = "manager"
	b := Generate(p)
	for i := range a.Users {
		ua, ub := a.Users[i], b.Users[i]
		if ua.ManagerID != ub.ManagerID {
			t.Fatalf("user %d: manager %q vs %q", i, ua.ManagerID, ub.ManagerID)
		}
		ua.ManagerRef, ub.ManagerRef = "", ""
		if ua != ub {
			t.Fatalf("user %d differs beyond the reference:\n%+v\n%+v", i, ua, ub)
		}
	}
	for i := range a.GroupRules {
		ra, rb := a.GroupRules[i], b.GroupRules[i]
		ra.Expression = strings.Replace(ra.Expression, "managerId", "manager", 1)
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("rule %d: %+v vs %+v", i, ra, rb)
		}
	}
	b.ManagerAttr, b.Users, b.GroupRules = a.ManagerAttr, a.Users, a.GroupRules
	if !reflect.DeepEqual(a, b) {
		t.Fatal("groups, apps or events differ with the manager attribute")
	}
}

func TestMercariSized(t *testing.T) {
	budget := 2 * time.Second
	if raceBuild() {
		budget *= 6
	}
	start := time.Now()
	o := Generate(MercariSized(1))
	if took := time.Since(start); took > budget {
		t.Errorf("Generate took %v, want under %v", took, budget)
	}
	if len(o.Users) != 8000 || len(o.Apps) != 500 || len(o.Groups) != 1400 {
		t.Fatalf("users/apps/groups = %d/%d/%d", len(o.Users), len(o.Apps), len(o.Groups))
	}
	if r := o.Relations(); r < 180_000 || r > 220_000 {
		t.Errorf("Relations() = %d, want 180k-220k", r)
	}
	if n := len(o.Events); n < 50_000 || n > 150_000 {
		t.Errorf("events = %d, want 50k-150k", n)
	}
	checkOrg(t, o)
}

func TestGenerateSmallAndTinyOrgs(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"small", small(9)},
		{"manager attribute", Params{Seed: 2, Users: 600, Apps: 40, Groups: 80, ManagerAttr: "manager"}},
		{"tiny", Params{Seed: 1, Users: 5, Apps: 2, Groups: 3}},
		{"one user", Params{Seed: 1, Users: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Generate(tc.p)
			if len(o.Users) != max(tc.p.Users, 1) || len(o.Apps) != tc.p.Apps || len(o.Groups) != max(tc.p.Groups, 1) {
				t.Fatalf("users/apps/groups = %d/%d/%d", len(o.Users), len(o.Apps), len(o.Groups))
			}
			if !o.Now.Equal(DefaultNow) {
				t.Errorf("Now = %v, want the default", o.Now)
			}
			if tc.p.Users >= 400 {
				checkOrg(t, o)
			}
		})
	}
}

var idRE = regexp.MustCompile(`^[0-9a-zA-Z]{20}$`)

// checkOrg asserts the shape the generator promises for orgs of a few
// hundred users or more.
func checkOrg(t *testing.T, o *Org) {
	t.Helper()
	ids := map[string]bool{}
	fresh := func(kind, prefix, id string) {
		if !strings.HasPrefix(id, prefix) || !idRE.MatchString(id) || ids[id] {
			t.Errorf("%s id %q: want unique %s + 17 characters", kind, id, prefix)
		}
		ids[id] = true
	}
	byID := make(map[string]*User, len(o.Users))
	for i := range o.Users {
		byID[o.Users[i].ID] = &o.Users[i]
	}
	logins, statuses, depts := map[string]bool{}, map[string]int{}, map[string]bool{}
	depth, stale, noMgr, dangling := 0, 0, 0, 0
	refKinds := map[string]int{}
	for i := range o.Users {
		u := &o.Users[i]
		fresh("user", "00u", u.ID)
		if logins[u.Login] || !strings.Contains(u.Login, "@") {
			t.Errorf("login %q duplicate or not email-like", u.Login)
		}
		logins[u.Login] = true
		statuses[u.Status]++
		depts[u.Department] = true
		depth = max(depth, u.Level+1)
		if u.Status == StatusActive && !u.LastLogin.IsZero() && u.LastLogin.Before(o.Now.AddDate(0, 0, -90)) {
			stale++
		}
		switch m := byID[u.ManagerID]; {
		case i == 0:
			if u.ManagerRef != "" || u.ManagerID != "" {
				t.Errorf("the CEO has a manager: %q", u.ManagerRef)
			}
		case u.ManagerRef == "":
			noMgr++
		case m == nil:
			dangling++
		case u.ManagerRef == m.ID:
			refKinds["id"]++
		case u.ManagerRef == m.Login:
			refKinds["login"]++
		case u.ManagerRef == m.Email:
			refKinds["email"]++
		default:
			t.Errorf("user %s: reference %q is not manager %s's id, login or email", u.ID, u.ManagerRef, m.ID)
		}
	}
	for _, s := range []string{StatusActive, StatusSuspended, StatusDeprovisioned, StatusStaged,
		StatusProvisioned, StatusLockedOut, StatusPasswordExpired} {
		if statuses[s] == 0 {
			t.Errorf("no %s user", s)
		}
	}
	if statuses[StatusActive] < len(o.Users)*8/10 {
		t.Errorf("ACTIVE users = %d of %d, want most", statuses[StatusActive], len(o.Users))
	}
	if depth < 4 || depth > 6 || len(depts) < 11 || len(depts) > 21 {
		t.Errorf("tree depth %d, departments %d: want 4-6 levels, 10-20 departments (+Executive)", depth, len(depts)-1)
	}
	if stale == 0 || noMgr == 0 || dangling == 0 {
		t.Errorf("stale %d, without manager %d, dangling %d: want some of each", stale, noMgr, dangling)
	}
	if o.ManagerAttr == "manager" && (refKinds["id"] == 0 || refKinds["login"] == 0 || refKinds["email"] == 0) {
		t.Errorf("manager references %v: want a mix of id, login and email", refKinds)
	}
	if o.ManagerAttr == "managerId" && (refKinds["login"] > 0 || refKinds["email"] > 0) {
		t.Errorf("managerId references %v: want ids only", refKinds)
	}
	checkGroupsAndApps(t, o, byID, fresh)
	checkEvents(t, o)
}
