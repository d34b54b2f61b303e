package campaign_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// genOrg is a random small org with a random review of it: every (user,
// app) relation and some (user, group) memberships are cases, each kept or
// revoked.
type genOrg struct {
	ix    *campaign.Index
	def   *campaign.Definition
	cases []campaign.CaseRecord
}

func generateOrg(seed uint64) genOrg {
	r := rand.New(rand.NewPCG(seed, seed*7919+1))
	s := &campaign.Snapshot{}
	nUsers, nGroups, nApps := 1+r.IntN(4), 1+r.IntN(6), 1+r.IntN(6)
	for i := 0; i < nUsers; i++ {
		s.Users = append(s.Users, campaign.User{ID: fmt.Sprintf("u%d", i), Login: fmt.Sprintf("u%d@x.test", i),
			Email: fmt.Sprintf("u%d@x.test", i), Status: "ACTIVE"})
	}
	for i := 0; i < nGroups; i++ {
		g := campaign.Group{ID: fmt.Sprintf("g%d", i), Name: fmt.Sprintf("Group %d", i), Type: campaign.GroupOkta}
		switch r.IntN(12) {
		case 0:
			g.Type = campaign.GroupBuiltIn
		case 1:
			g.Type = campaign.GroupApp
		case 2:
			g.RuleIDs = []string{"rule" + g.ID}
		}
		s.Groups = append(s.Groups, g)
	}
	for i := 0; i < nApps; i++ {
		s.Apps = append(s.Apps, campaign.App{ID: fmt.Sprintf("a%d", i), Label: fmt.Sprintf("App %d", i), Status: "ACTIVE"})
	}
	for _, u := range s.Users {
		for _, g := range s.Groups {
			if r.IntN(2) == 0 {
				s.Memberships = append(s.Memberships, campaign.Membership{UserID: u.ID, GroupID: g.ID})
			}
		}
	}
	for _, g := range s.Groups {
		for _, a := range s.Apps {
			if r.IntN(3) == 0 {
				s.GroupAssignments = append(s.GroupAssignments, campaign.GroupAssignment{GroupID: g.ID, AppID: a.ID})
			}
		}
	}
	ix0 := campaign.NewIndex(s)
	for ui, u := range s.Users {
		for ai, a := range s.Apps {
			viaGroup := false
			for _, g := range ix0.GroupsOfUser[ui] {
				viaGroup = viaGroup || slices.Contains(ix0.GroupsOfApp[ai], g)
			}
			switch {
			case r.IntN(4) == 0:
				s.AppAssignments = append(s.AppAssignments, campaign.AppAssignment{UserID: u.ID, AppID: a.ID, Scope: campaign.ScopeUser})
			case viaGroup:
				s.AppAssignments = append(s.AppAssignments, campaign.AppAssignment{UserID: u.ID, AppID: a.ID, Scope: campaign.ScopeGroup})
			}
		}
	}
	ix := campaign.NewIndex(s)
	def := &campaign.Definition{}
	if r.IntN(5) == 0 {
		def.Remediation.ProtectedGroups = []string{s.Groups[r.IntN(nGroups)].Name}
	}
	if r.IntN(8) == 0 {
		def.Remediation.ProtectedUsers = []string{s.Users[r.IntN(nUsers)].Email}
	}
	outcome := func() string {
		switch r.IntN(5) {
		case 0, 1:
			return campaign.OutcomeRevoked
		case 2:
			return campaign.OutcomeNoDecisionRevoked
		case 3:
			return campaign.OutcomeNoDecisionKept
		}
		return campaign.OutcomeKept
	}
	var cases []campaign.CaseRecord
	ix.EachRelation(func(rel *campaign.Relation) {
		c := campaign.CaseRecord{ID: int64(len(cases) + 1), UserID: s.Users[rel.User].ID, Kind: campaign.KindApp,
			EntitlementID: s.Apps[rel.App].ID, Direct: rel.Direct, Outcome: outcome()}
		for _, g := range rel.Via {
			c.ViaGroups = append(c.ViaGroups, s.Groups[g].ID)
		}
		cases = append(cases, c)
	})
	for _, m := range s.Memberships {
		if r.IntN(3) == 0 {
			cases = append(cases, campaign.CaseRecord{ID: int64(len(cases) + 1), UserID: m.UserID, Kind: campaign.KindGroup,
				EntitlementID: m.GroupID, Outcome: outcome()})
		}
	}
	return genOrg{ix: ix, def: def, cases: cases}
}

// grantGraph is the access a plan's operations act on.
type grantGraph struct {
	ix      *campaign.Index
	members map[[2]string]bool // user, group
	direct  map[[2]string]bool // user, app
}

func newGrantGraph(ix *campaign.Index) *grantGraph {
	gg := &grantGraph{ix: ix, members: map[[2]string]bool{}, direct: map[[2]string]bool{}}
	for _, m := range ix.Snap.Memberships {
		gg.members[[2]string{m.UserID, m.GroupID}] = true
	}
	for _, a := range ix.Snap.AppAssignments {
		if a.Scope == campaign.ScopeUser {
			gg.direct[[2]string{a.UserID, a.AppID}] = true
		}
	}
	return gg
}

// viaGroups lists the groups granting app to user now.
func (gg *grantGraph) viaGroups(user, app string) []string {
	var out []string
	for _, ga := range gg.ix.Snap.GroupAssignments {
		if ga.AppID == app && gg.members[[2]string{user, ga.GroupID}] {
			out = append(out, ga.GroupID)
		}
	}
	return out
}

func (gg *grantGraph) holds(user, app string) bool {
	return gg.direct[[2]string{user, app}] || len(gg.viaGroups(user, app)) > 0
}

// apply performs one operation as Okta would, or says why Okta refuses it.
func (gg *grantGraph) apply(p campaign.PlanItem) error {
	switch p.Kind {
	case campaign.OpRemoveMembership:
		if !gg.members[[2]string{p.UserID, p.GroupID}] {
			return fmt.Errorf("#%d removes a membership that is not there", p.Seq)
		}
		delete(gg.members, [2]string{p.UserID, p.GroupID})
	case campaign.OpUnassignApp:
		if !gg.direct[[2]string{p.UserID, p.AppID}] {
			return fmt.Errorf("#%d unassigns an assignment that is not direct", p.Seq)
		}
		if via := gg.viaGroups(p.UserID, p.AppID); len(via) > 0 {
			return fmt.Errorf("#%d: E0000046, groups %v still grant the app", p.Seq, via)
		}
		delete(gg.direct, [2]string{p.UserID, p.AppID})
	default:
		return fmt.Errorf("#%d: unexpected operation %s", p.Seq, p.Kind)
	}
	return nil
}

// TestBuildPlanProperties checks BuildPlan over hundreds of generated orgs:
// the plan is the same whatever the order of the cases, Okta accepts every
// operation in plan order, no kept access is lost, every revocation is
// either carried out or listed with a reason, and no conflict is spurious.
func TestBuildPlanProperties(t *testing.T) {
	seen := map[string]int{}
	for seed := uint64(1); seed <= 600; seed++ {
		g := generateOrg(seed)
		plan := campaign.BuildPlan(g.ix, g.def, g.cases)
		js := planJSON(t, plan)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: %s\nplan:\n%s", seed, fmt.Sprintf(format, args...), js)
		}

		// Same input, same bytes; shuffled input, same bytes.
		if again := planJSON(t, campaign.BuildPlan(g.ix, g.def, g.cases)); again != js {
			fail("a second run differs:\n%s", again)
		}
		shuffled := slices.Clone(g.cases)
		rand.New(rand.NewPCG(seed, 99)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if other := planJSON(t, campaign.BuildPlan(g.ix, g.def, shuffled)); other != js {
			fail("shuffled cases give another plan:\n%s", other)
		}

		// Okta accepts each operation in order.
		before := newGrantGraph(g.ix)
		after := newGrantGraph(g.ix)
		listed := map[int64]bool{}
		for i, p := range plan {
			if p.Seq != i+1 {
				fail("item %d has seq %d", i, p.Seq)
			}
			seen[p.Kind]++
			if strings.Contains(p.Reason, "E0000046") {
				seen["blocked unassign"]++
			}
			if p.IsOperation() && !mayChange(g, p) {
				fail("#%d touches a protected user or a group attest never changes", p.Seq)
			}
			if !p.IsOperation() {
				if p.Reason == "" {
					fail("#%d %s has no reason", p.Seq, p.Kind)
				}
				for _, id := range p.CaseIDs {
					listed[id] = true
				}
				continue
			}
			if err := after.apply(p); err != nil {
				fail("%v", err)
			}
		}

		// No kept access is lost; every revocation is done or listed.
		revoked := map[[2]string]bool{}
		for _, c := range g.cases {
			if campaign.Revoked(c.Outcome) {
				revoked[[2]string{c.UserID, c.EntitlementID}] = true
			}
		}
		for _, u := range g.ix.Snap.Users {
			for _, a := range g.ix.Snap.Apps {
				if before.holds(u.ID, a.ID) && !revoked[[2]string{u.ID, a.ID}] && !after.holds(u.ID, a.ID) {
					fail("kept app %s of %s is lost", a.ID, u.ID)
				}
			}
		}
		for _, c := range g.cases {
			k := [2]string{c.UserID, c.EntitlementID}
			switch {
			case c.Kind == campaign.KindGroup && !campaign.Revoked(c.Outcome) && before.members[k] && !after.members[k]:
				fail("kept group %s of %s is lost", c.EntitlementID, c.UserID)
			case !campaign.Revoked(c.Outcome) || listed[c.ID]:
			case c.Kind == campaign.KindGroup && after.members[k]:
				fail("revoked group case %d (%v) neither done nor listed", c.ID, k)
			case c.Kind == campaign.KindApp && after.holds(c.UserID, c.EntitlementID):
				fail("revoked app case %d (%v) neither done nor listed", c.ID, k)
			}
		}

		// A conflict is real: removing the group too, after the plan, would
		// take something kept away.
		for _, p := range plan {
			if p.Kind != campaign.ItemConflict || p.AppID != "" {
				continue
			}
			more := newGrantGraph(g.ix)
			more.members, more.direct = cloneSet(after.members), cloneSet(after.direct)
			delete(more.members, [2]string{p.UserID, p.GroupID})
			lost := false
			for _, c := range g.cases {
				if c.UserID != p.UserID || campaign.Revoked(c.Outcome) {
					continue
				}
				if c.Kind == campaign.KindApp && !more.holds(c.UserID, c.EntitlementID) ||
					c.Kind == campaign.KindGroup && c.EntitlementID == p.GroupID {
					lost = true
				}
			}
			if !lost {
				fail("conflict #%d on %s is spurious: removing it after the plan loses nothing kept", p.Seq, p.GroupID)
			}
		}
	}
	// The generator must reach every kind of item, or the checks prove little.
	for _, k := range []string{campaign.OpRemoveMembership, campaign.OpUnassignApp, campaign.ItemConflict, campaign.ItemManual, "blocked unassign"} {
		if seen[k] < 20 {
			t.Errorf("only %d %s items over all seeds", seen[k], k)
		}
	}
	t.Logf("items over all seeds: %v", seen)
}

// mayChange reports whether an operation stays clear of protected users and
// of groups attest never changes.
func mayChange(g genOrg, p campaign.PlanItem) bool {
	for _, u := range g.ix.Snap.Users {
		if u.ID == p.UserID && slices.Contains(g.def.Remediation.ProtectedUsers, u.Email) {
			return false
		}
	}
	if p.GroupID == "" {
		return true
	}
	grp := g.ix.Snap.Groups[g.ix.GroupByID[p.GroupID]]
	return grp.Type == campaign.GroupOkta && len(grp.RuleIDs) == 0 && !slices.Contains(g.def.Remediation.ProtectedGroups, grp.Name)
}

func cloneSet(m map[[2]string]bool) map[[2]string]bool {
	out := make(map[[2]string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
