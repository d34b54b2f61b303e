package oktatest

import (
	"fmt"
	"slices"
	"strings"
)

// apps creates the app instances: the catalog first (its head being the
// company-wide apps), then variants of it with unique labels.
func (g *gen) apps() {
	o := g.org
	o.Apps = make([]App, g.p.Apps)
	labels := map[string]bool{}
	for i := range o.Apps {
		a := &o.Apps[i]
		c := catalog[i%len(catalog)]
		a.Label, a.Name, a.SignOnMode = c.label, c.name, c.mode
		if i >= len(catalog) {
			round := (i/len(catalog) - 1) % len(appVariants)
			a.Label = c.label + " " + appVariants[round]
		}
		base := a.Label
		for n := 2; labels[a.Label]; n++ {
			a.Label = fmt.Sprintf("%s %d", base, n)
		}
		labels[a.Label] = true
		a.ID = g.id("0oa")
		a.Status = StatusActive
		a.CompanyWide = i < g.p.CompanyWideApps
		if !a.CompanyWide && g.chance(0.06) {
			a.Status = "INACTIVE"
		}
		a.LinkName = a.Name + "_link"
		a.LinkPath = "/home/" + a.Name + "/" + a.ID + "/" + g.id("aln")
		a.Created = g.ago(30, 5*365)
		a.LastUpdated = g.between(a.Created, g.p.Now)
	}
}

// assign grants apps to groups and users. The mix is tuned so that an org
// of MercariSized shape has about 25 effective apps per user: company-wide
// apps through Everyone, a dozen department apps, team and access groups,
// and direct assignments, some of them to users who also get the app
// through a group, and some to suspended or deprovisioned users.
func (g *gen) assign() {
	o := g.org
	if len(o.Apps) == 0 {
		return
	}
	var pool []int // apps that are not company-wide
	for i := range o.Apps {
		if !o.Apps[i].CompanyWide {
			pool = append(pool, i)
		}
	}
	for i := range o.Groups {
		var apps []int
		switch o.Groups[i].Kind {
		case KindEveryone:
			for a := range o.Apps {
				if o.Apps[a].CompanyWide {
					apps = append(apps, a)
				}
			}
		case KindDepartment:
			apps = g.sample(pool, 12+g.rng.IntN(5))
		case KindTeam:
			if g.chance(0.7) {
				apps = g.sample(pool, 1+g.rng.IntN(3))
			}
		case KindAccess:
			if a := g.accessApp[i]; a >= 0 {
				apps = append(apps, a)
			}
			if g.chance(0.3) && len(pool) > 0 {
				apps = append(apps, pool[g.rng.IntN(len(pool))])
			}
		case KindDirectory:
			if g.chance(0.5) && len(pool) > 0 {
				apps = append(apps, pool[g.rng.IntN(len(pool))])
			}
		}
		for _, a := range apps {
			g.assignGroup(a, i)
		}
	}
	all := make([]int, len(o.Users))
	for i := range all {
		all[i] = i
	}
	direct := make([][]int, len(o.Apps))
	for _, a := range pool {
		n := g.logNormal(16, 1.1, 0, len(all)/4+1)
		home := g.byDept[g.rng.IntN(len(g.byDept))]
		fromHome := n * 6 / 10
		direct[a] = append(g.sample(home, fromHome), g.sample(all, n-min(fromHome, len(home)))...)
	}
	// Orphaned accounts: people who left or were suspended but still hold
	// direct assignments.
	for i := range o.Users {
		s := o.Users[i].Status
		if (s == StatusSuspended || s == StatusDeprovisioned) && len(pool) > 0 && g.chance(0.4) {
			for range 1 + g.rng.IntN(3) {
				a := pool[g.rng.IntN(len(pool))]
				direct[a] = append(direct[a], i)
			}
		}
	}
	for a, us := range direct {
		if len(us) > 0 {
			o.AppDirect[o.Apps[a].ID] = g.userIDs(us)
		}
	}
}

// assignGroup assigns group gi to app ai with the next priority, once.
func (g *gen) assignGroup(ai, gi int) {
	o := g.org
	id, gid := o.Apps[ai].ID, o.Groups[gi].ID
	if slices.ContainsFunc(o.AppGroups[id], func(ga GroupAssignment) bool { return ga.GroupID == gid }) {
		return
	}
	o.AppGroups[id] = append(o.AppGroups[id], GroupAssignment{
		GroupID:     gid,
		Priority:    len(o.AppGroups[id]),
		LastUpdated: g.between(maxTime(o.Apps[ai].Created, o.Groups[gi].Created), g.p.Now),
	})
}

// userIDs turns user indexes into sorted, distinct user ids.
func (g *gen) userIDs(idx []int) []string {
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, g.org.Users[i].ID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// slug turns a label into a lower-case, dash-separated name.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}
