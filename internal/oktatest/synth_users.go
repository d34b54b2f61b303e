package oktatest

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// maxLevel is the deepest level of the manager tree (the CEO is level 0),
// so the tree has at most six levels.
const maxLevel = 5

// statusWeights is the mix of statuses for users other than the CEO and
// department heads, who are always ACTIVE.
var statusWeights = []struct {
	status string
	weight float64
}{
	{StatusActive, 0.89},
	{StatusDeprovisioned, 0.035},
	{StatusSuspended, 0.02},
	{StatusStaged, 0.015},
	{StatusProvisioned, 0.015},
	{StatusLockedOut, 0.01},
	{StatusPasswordExpired, 0.015},
}

// users creates the users, their departments and the manager tree.
func (g *gen) users() {
	n, nd := g.p.Users, g.p.Departments
	o := g.org
	o.Users = make([]User, n)
	g.deptOf = make([]int, n)
	g.byDept = make([][]int, nd)
	g.reports = make([][]int, n)
	weights := make([]float64, nd)
	for d := range weights {
		weights[d] = 1 / math.Pow(float64(d+1), 0.7)
	}
	sw := make([]float64, len(statusWeights))
	for i, s := range statusWeights {
		sw[i] = s.weight
	}
	logins := map[string]int{}
	for i := range o.Users {
		u := &o.Users[i]
		u.ID = g.id("00u")
		u.FirstName = firstNames[g.rng.IntN(len(firstNames))]
		u.LastName = lastNames[g.rng.IntN(len(lastNames))]
		base := strings.ToLower(u.FirstName + "." + u.LastName)
		logins[base]++
		if c := logins[base]; c > 1 {
			base = fmt.Sprintf("%s%d", base, c)
		}
		u.Login = base + "@example.com"
		u.Email = u.Login
		if g.chance(0.025) {
			u.Email = base + "@mail.example.net"
		}
		u.EmployeeNumber = fmt.Sprintf("%06d", 100001+i)
		switch {
		case i == 0:
			g.deptOf[i] = -1
			u.Department, u.Title = "Executive", "Chief Executive Officer"
		case i <= nd:
			g.deptOf[i] = i - 1 // the first user of each department heads it
		default:
			g.deptOf[i] = g.pickWeighted(weights)
		}
		if d := g.deptOf[i]; d >= 0 {
			u.Department = departments[d].name
			g.byDept[d] = append(g.byDept[d], i)
		}
		u.Status = StatusActive
		if i > nd {
			u.Status = statusWeights[g.pickWeighted(sw)].status
		}
		g.dates(u)
	}
	for d := range g.byDept {
		g.tree(d)
	}
	g.titles()
}

// tree links a department's users under its head and the head under the
// CEO. Managers take reports breadth-first with some randomness, so the
// tree is bushy and its depth stays within maxLevel.
func (g *gen) tree(d int) {
	members := g.byDept[d]
	if len(members) == 0 {
		return
	}
	users := g.org.Users
	head := members[0]
	users[head].Level = 1
	users[head].ManagerID = users[0].ID
	g.reports[0] = append(g.reports[0], head)
	capLeft := map[int]int{head: 4 + g.rng.IntN(9)}
	open := []int{head}     // managers with spare capacity, shallowest first
	managers := []int{head} // everyone who ever managed, for overflow
	for _, u := range members[1:] {
		var mgr int
		if len(open) > 0 {
			k := g.rng.IntN(min(len(open), 3))
			mgr = open[k]
			if capLeft[mgr]--; capLeft[mgr] == 0 {
				open = append(open[:k], open[k+1:]...)
			}
		} else {
			mgr = managers[g.rng.IntN(len(managers))]
		}
		users[u].Level = users[mgr].Level + 1
		users[u].ManagerID = users[mgr].ID
		g.reports[mgr] = append(g.reports[mgr], u)
		if users[u].Level < maxLevel && g.chance(0.5) {
			capLeft[u] = 4 + g.rng.IntN(9)
			open = append(open, u)
			managers = append(managers, u)
		}
	}
}

// titles names managers by level and everyone else by department.
func (g *gen) titles() {
	users := g.org.Users
	for i := 1; i < len(users); i++ {
		u := &users[i]
		dept := departments[g.deptOf[i]]
		switch {
		case u.Level == 1:
			u.Title = "VP of " + dept.name
		case len(g.reports[i]) > 0 && u.Level == 2:
			u.Title = "Director, " + dept.name
		case len(g.reports[i]) > 0:
			u.Title = dept.name + " Manager"
		default:
			u.Title = dept.titles[g.rng.IntN(len(dept.titles))]
		}
	}
}

// dates sets a user's timestamps consistently with their status.
func (g *gen) dates(u *User) {
	now := g.p.Now
	fresh := u.Status == StatusStaged || u.Status == StatusProvisioned
	if fresh {
		u.Created = g.ago(1, 30)
	} else {
		u.Created = g.ago(10, 6*365)
	}
	if u.Status != StatusStaged {
		u.Activated = g.between(u.Created, minTime(u.Created.Add(48*time.Hour), now))
	}
	switch u.Status {
	case StatusActive, StatusLockedOut, StatusPasswordExpired:
		r := g.rng.Float64()
		switch {
		case r < g.p.StaleShare/2:
			u.LastLogin = g.ago(61, 90)
		case r < g.p.StaleShare:
			u.LastLogin = g.ago(91, 400)
		case r < g.p.StaleShare+0.03:
			// never signed in
		default:
			u.LastLogin = g.ago(0, 30*g.rng.Float64()+0.5)
		}
	case StatusSuspended:
		u.LastLogin = g.ago(30, 200)
	case StatusDeprovisioned:
		u.LastLogin = g.ago(40, 500)
	}
	if !u.LastLogin.IsZero() && u.LastLogin.Before(u.Activated) {
		u.LastLogin = g.between(u.Activated, now)
	}
	if !u.LastLogin.IsZero() && !u.LastLogin.Before(now) {
		u.LastLogin = now.Add(-time.Minute) // events of the last login stay before Now
	}
	u.StatusChanged = u.Activated
	switch u.Status {
	case StatusSuspended, StatusDeprovisioned:
		from := maxTime(u.LastLogin, u.Activated)
		u.StatusChanged = g.between(from, minTime(from.Add(20*24*time.Hour), now))
	case StatusLockedOut:
		u.StatusChanged = g.between(maxTime(u.Activated, now.Add(-5*24*time.Hour)), now)
	case StatusPasswordExpired:
		u.StatusChanged = g.between(maxTime(u.Activated, now.Add(-60*24*time.Hour)), now)
	}
	if !fresh {
		u.PasswordChanged = g.between(u.Activated, maxTime(u.LastLogin, u.Activated))
	}
	u.LastUpdated = maxTime(u.Created, u.Activated, u.StatusChanged, u.PasswordChanged, u.LastLogin)
}

// managerRefs writes each user's manager reference into ManagerRef, in the
// shape ManagerAttr calls for, and breaks a few on purpose: no reference,
// or one that names nobody. Every user takes the same draws whatever the
// attribute, so the attribute changes the references and nothing else.
func (g *gen) managerRefs() {
	users := g.org.Users
	byID := make(map[string]int, len(users))
	for i := range users {
		byID[users[i].ID] = i
	}
	broken := map[int]string{} // user index -> "none" or "dangling"
	if n := len(users) - 1; n >= 20 {
		rest := make([]int, n)
		for i := range rest {
			rest[i] = i + 1
		}
		count := func(share float64) int {
			if share < 0 {
				return 0
			}
			return max(1, int(share*float64(n)+0.5))
		}
		nNone, nDangling := count(g.p.NoManagerShare), count(g.p.DanglingShare)
		for k, i := range g.sample(rest, nNone+nDangling) {
			broken[i] = "none"
			if k >= nNone {
				broken[i] = "dangling"
			}
		}
	}
	free := g.p.ManagerAttr != "managerId"
	for i := 1; i < len(users); i++ {
		u := &users[i]
		kind, formerStaff, unknownID := g.rng.Float64(), g.chance(0.5), g.id("00u")
		switch broken[i] {
		case "none":
			u.ManagerRef, u.ManagerID = "", ""
			continue
		case "dangling":
			u.ManagerRef, u.ManagerID = unknownID, ""
			if free && formerStaff {
				u.ManagerRef = fmt.Sprintf("former.employee%d@example.com", i)
			}
			continue
		}
		m := &users[byID[u.ManagerID]]
		u.ManagerRef = m.ID
		if !free {
			continue
		}
		// A free-form attribute: whatever HR tooling wrote there.
		switch {
		case kind < 0.45:
			u.ManagerRef = m.Login
		case kind < 0.75 || m.Email != m.Login && kind < 0.9:
			u.ManagerRef = m.Email
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
