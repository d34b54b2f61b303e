package oktatest

import (
	"fmt"
	"slices"
	"strings"
)

// groups creates Everyone, one group per department, team groups for the
// larger teams, privileged admin groups, groups mastered in Active
// Directory (APP_GROUP) and access or project groups, then puts a few users
// into more than 30 groups.
func (g *gen) groups() {
	o := g.org
	budget := g.p.Groups
	names := map[string]bool{}
	add := func(name, desc, typ string, kind GroupKind, members []int, app int) {
		base := name
		for n := 2; names[name]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		names[name] = true
		created := g.ago(30, 6*365)
		o.Groups = append(o.Groups, Group{
			ID: g.id("00g"), Name: name, Description: desc, Type: typ, Kind: kind,
			Created: created, LastUpdated: g.between(created, g.p.Now),
			LastMembershipUpdated: g.between(created, g.p.Now),
		})
		g.members = append(g.members, members)
		g.accessApp = append(g.accessApp, app)
	}
	users := o.Users
	all := make([]int, len(users))
	for i := range all {
		all[i] = i
	}
	add("Everyone", "All users in your organization", GroupBuiltIn, KindEveryone, all, -1)
	for d, us := range g.byDept {
		if len(o.Groups) < budget {
			name := departments[d].name
			add("dept-"+slug(name), "Everyone in "+name, GroupOkta, KindDepartment, us, -1)
		}
	}
	rest := budget - len(o.Groups)
	var mgrs []int
	for i := 1; i < len(users); i++ {
		if len(g.reports[i]) >= 2 {
			mgrs = append(mgrs, i)
		}
	}
	slices.SortStableFunc(mgrs, func(a, b int) int { return len(g.reports[b]) - len(g.reports[a]) })
	nDir := rest * 8 / 100
	nAdmin := rest * 4 / 100
	if rest >= 10 {
		nAdmin = max(nAdmin, 1)
	}
	nTeam := min(rest*30/100, len(mgrs))
	nAccess := max(rest-nDir-nAdmin-nTeam, 0)

	for _, m := range mgrs[:nTeam] {
		u := &users[m]
		add("team-"+slug(u.Department)+"-"+slug(u.FirstName+" "+u.LastName), "Direct reports of "+u.DisplayName(),
			GroupOkta, KindTeam, append([]int{m}, g.reports[m]...), -1)
	}
	privileged := g.deptUsers("IT", "Security", "Engineering")
	for k := range nAdmin {
		name := adminGroupNames[k%len(adminGroupNames)]
		add(name, "Privileged access; grants no app", GroupOkta, KindAdmin, g.sample(privileged, 3+g.rng.IntN(18)), -1)
	}
	for k := range nDir {
		name := "AD: " + directoryGroupStems[k%len(directoryGroupStems)]
		if k >= len(directoryGroupStems) {
			name += fmt.Sprintf(" %02d", k/len(directoryGroupStems))
		}
		add(name, "Mastered in Active Directory (corp.example.com)", GroupApp, KindDirectory,
			g.someUsers(all, g.logNormal(40, 1.0, 3, 800)), -1)
	}
	var pool []int
	for i := range o.Apps {
		if !o.Apps[i].CompanyWide {
			pool = append(pool, i)
		}
	}
	for k := range nAccess {
		ms := g.someUsers(all, g.logNormal(16, 1.0, 2, 1500))
		if len(pool) > 0 && g.chance(0.75) {
			a := pool[k%len(pool)]
			add(slug(o.Apps[a].Label)+"-users", "Grants "+o.Apps[a].Label, GroupOkta, KindAccess, ms, a)
			continue
		}
		word := projectWords[k%len(projectWords)]
		add("proj-"+word, "Project "+strings.ToUpper(word[:1])+word[1:], GroupOkta, KindAccess, ms, -1)
	}
	g.excessive(all)
	for i := range o.Groups {
		o.Members[o.Groups[i].ID] = g.userIDs(g.members[i])
	}
}

// someUsers picks n users, mostly from one department, as real groups are.
func (g *gen) someUsers(all []int, n int) []int {
	if len(g.byDept) > 0 && g.chance(0.7) {
		home := g.byDept[g.rng.IntN(len(g.byDept))]
		if len(home) >= n {
			return g.sample(home, n)
		}
	}
	return g.sample(all, n)
}

// deptUsers returns the users of the named departments, or everyone when
// the org has none of them.
func (g *gen) deptUsers(names ...string) []int {
	var out []int
	for d, us := range g.byDept {
		if slices.Contains(names, departments[d].name) {
			out = append(out, us...)
		}
	}
	if len(out) == 0 {
		for i := range g.org.Users {
			out = append(out, i)
		}
	}
	return out
}

// excessive puts ExcessiveGroupUsers users into 31 to 45 access or
// directory groups each (fewer when the org has fewer such groups).
func (g *gen) excessive(all []int) {
	var pool []int
	for i := range g.org.Groups {
		if k := g.org.Groups[i].Kind; k == KindAccess || k == KindDirectory {
			pool = append(pool, i)
		}
	}
	if len(pool) == 0 || len(all) < 2 {
		return
	}
	for _, u := range g.sample(all[1:], g.p.ExcessiveGroupUsers) {
		for _, gi := range g.sample(pool, 31+g.rng.IntN(15)) {
			g.members[gi] = append(g.members[gi], u)
		}
	}
}

// rules creates group rules: one per department group (department
// attribute), some for team groups (manager attribute) and a few for access
// groups, a share of them INACTIVE. APP_GROUPs and Everyone are never
// targets, as in Okta.
func (g *gen) rules() {
	o := g.org
	users := o.Users
	titleWords := []string{"Engineer", "Manager", "Analyst", "Designer", "Director"}
	for i := range o.Groups {
		grp := &o.Groups[i]
		var name, expr string
		status := "ACTIVE"
		switch grp.Kind {
		case KindDepartment:
			dept := strings.TrimPrefix(grp.Description, "Everyone in ")
			name, expr = "Department: "+dept, fmt.Sprintf("user.department==%q", dept)
		case KindTeam:
			if !g.chance(0.15) {
				continue
			}
			lead := g.members[i][0]
			name = "Team: " + grp.Name
			expr = fmt.Sprintf("user.%s==%q", g.p.ManagerAttr, users[lead].ID)
			if g.chance(0.2) {
				status = "INACTIVE"
			}
		case KindAccess:
			if !g.chance(0.06) {
				continue
			}
			name = "Auto: " + grp.Name
			if g.chance(0.5) {
				expr = fmt.Sprintf("String.stringContains(user.title, %q)", titleWords[g.rng.IntN(len(titleWords))])
			} else {
				expr = fmt.Sprintf("isMemberOfAnyGroup(%q)", o.Groups[g.rng.IntN(len(o.Groups))].ID)
			}
			if g.chance(0.3) {
				status = "INACTIVE"
			}
		default:
			continue
		}
		created := maxTime(grp.Created, g.ago(10, 3*365))
		o.GroupRules = append(o.GroupRules, GroupRule{
			ID: g.id("0pr"), Name: name, Status: status, Expression: expr,
			GroupIDs: []string{grp.ID}, Created: created, LastUpdated: g.between(created, g.p.Now),
		})
	}
}
