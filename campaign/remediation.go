package campaign

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Plan item kinds. Only the first three are Okta operations; the others are
// listed for people to handle.
const (
	OpRemoveMembership = "remove_membership"
	OpUnassignApp      = "unassign_app"
	// OpAddMembership only serves quarantine proposals: adding a user
	// to the configured high-risk group, after approval like any write.
	OpAddMembership = "add_membership"
	ItemConflict    = "conflict"
	ItemManual      = "manual"
)

// PlanItem is one numbered line of a remediation plan.
type PlanItem struct {
	Seq     int
	Kind    string
	UserID  string
	GroupID string
	AppID   string
	CaseIDs []int64
	Reason  string
}

// IsOperation reports whether the item is an Okta write.
func (p *PlanItem) IsOperation() bool {
	return p.Kind == OpRemoveMembership || p.Kind == OpUnassignApp || p.Kind == OpAddMembership
}

// Revoked reports whether an outcome removes access.
func Revoked(outcome string) bool {
	return outcome == OutcomeRevoked || outcome == OutcomeRevokedByMember || outcome == OutcomeNoDecisionRevoked
}

// BuildPlan turns the revoked cases into Okta operations on the snapshot
// the campaign reviewed. The plan is a function of its inputs: the same
// snapshot and cases, in any order, give the same items in the same order.
//
// A direct app assignment becomes an unassignment; an app granted by a
// group becomes a removal from that group (Okta refuses to unassign a group
// grant). Removals Okta or policy make unsafe are listed for manual work
// instead: built-in and protected groups, APP_GROUP memberships (mastered
// in AD or another source), and memberships a group rule manages (removing
// them silently adds a rule exclusion). Protected users are never planned.
//
// A membership removal is a conflict, listed with what would be lost and
// never planned, only when it takes away something the user keeps (an app
// not revoked, or the group itself when the campaign kept it) and holds no
// other way once the plan's other removals are done. Removals are decided
// one user at a time, trying the user's groups in a fixed order: the group
// whose removal serves the most revoked cases first, then ascending group
// id. A group is removed when, given the removals already decided, removing
// it takes nothing kept away. So when two groups are the only holders of a
// kept app, the one tried later stays: the one serving fewer revoked cases,
// or on a tie the higher group id. Every removal is judged against the
// final plan: a group kept as a conflict would lose something even now, and
// no removal takes away anything kept.
//
// Okta also refuses to unassign a direct assignment while a group
// membership grants the same app (E0000046). An unassignment is planned
// only when every group granting the app to the user is removed by the
// plan, and it is numbered after that user's removals; otherwise it is
// listed, as a conflict or manual item naming the group that still grants
// the app. Items are numbered from 1: per user, removals, unassignments,
// conflicts, manual items.
func BuildPlan(ix *Index, def *Definition, cases []CaseRecord) []PlanItem {
	pcs := make([]PlanCase, 0, len(cases))
	for i := range cases {
		if pc, ok := PlanCaseOf(&cases[i]); ok {
			pcs = append(pcs, pc)
		}
	}
	return BuildPlanFrom(ix, def, pcs)
}

// PlanCase is what BuildPlan reads of a case: a close that streams its
// cases keeps only these, and only of the cases PlanCaseOf keeps.
type PlanCase struct {
	ID            int64
	UserID        string
	Kind          string
	EntitlementID string
	ViaGroups     []string
	Outcome       string
	Direct        bool
}

// PlanCaseOf returns what the plan needs of a case, and false when the
// plan does not depend on the case at all (neither revoked nor a kept
// group).
func PlanCaseOf(c *CaseRecord) (PlanCase, bool) {
	if !Revoked(c.Outcome) && (c.Kind != KindGroup || c.Outcome == "") {
		return PlanCase{}, false
	}
	return PlanCase{ID: c.ID, UserID: c.UserID, Kind: c.Kind, EntitlementID: c.EntitlementID, ViaGroups: c.ViaGroups,
		Outcome: c.Outcome, Direct: c.Direct}, true
}

// BuildPlanFrom is BuildPlan on the cases PlanCaseOf keeps: the same
// cases give the same plan.
func BuildPlanFrom(ix *Index, def *Definition, cases []PlanCase) []PlanItem {
	p := newPlanner(ix, def)
	for i := range cases {
		p.take(&cases[i])
	}
	return p.finish()
}

// take adds a case to the plan being built: what it revokes or keeps,
// and what it asks for. Cases may come in any order, one at a time; none
// is kept.
func (p *planner) take(c *PlanCase) {
	switch {
	case c.Kind == KindApp && Revoked(c.Outcome):
		// Keyed by index: a million revoked apps take a quarter of the
		// memory string pairs would. An app or user not in the snapshot
		// is never asked about (wouldLose walks the snapshot's apps).
		u, okU := p.ix.UserByID[c.UserID]
		a, okA := p.ix.AppByID[c.EntitlementID]
		if okU && okA {
			p.revokedApps[key(u, a)] = true
		}
	case c.Kind == KindGroup && c.Outcome != "" && !Revoked(c.Outcome):
		p.keptGroups[pair{c.UserID, c.EntitlementID}] = true
	}
	p.consider(c)
}

// finish decides the plan once every case is taken (consider reads
// nothing take records; resolve reads all of it).
func (p *planner) finish() []PlanItem {
	p.resolve()
	p.planUnassigns()
	return numberPlan(p.items)
}

// planner holds BuildPlan's working state.
type planner struct {
	ix             *Index
	protectedGroup map[string]bool
	protectedUser  map[string]bool
	revokedApps    map[uint64]bool // key(user, app): an app revoked for the user
	keptGroups     map[pair]bool   // user, group id
	items          []PlanItem
	// candidates are the membership removals revoked cases ask for, with
	// the cases each serves; removed is what resolve decided.
	candidates map[pair][]int64
	removed    map[pair]bool
	// unassigns are the direct assignments revoked cases ask to remove.
	unassigns map[pair][]int64
	direct    map[uint64]bool // user<<32|app: a direct assignment in the snapshot
	// reasons are manualReason's answers, one string per group: the
	// million items of a large plan share a few thousand reasons.
	reasons map[*Group]string
}

func newPlanner(ix *Index, def *Definition) *planner {
	return &planner{ix: ix,
		protectedGroup: keySet(def.Remediation.ProtectedGroups),
		protectedUser:  keySet(def.Remediation.ProtectedUsers),
		revokedApps:    map[uint64]bool{}, keptGroups: map[pair]bool{},
		candidates: map[pair][]int64{}, removed: map[pair]bool{}, unassigns: map[pair][]int64{}, direct: map[uint64]bool{},
		reasons: map[*Group]string{},
	}
}

func (p *planner) add(kind, user, group, app, reason string, caseIDs ...int64) {
	p.items = append(p.items, PlanItem{Kind: kind, UserID: user, GroupID: group, AppID: app,
		CaseIDs: append([]int64(nil), caseIDs...), Reason: reason})
}

// consider records what one revoked case asks for.
func (p *planner) consider(c *PlanCase) {
	if !Revoked(c.Outcome) {
		return
	}
	if p.isProtectedUser(c.UserID) {
		p.add(ItemManual, c.UserID, "", c.appID(), "protected user: attest never removes their access", c.ID)
		return
	}
	if c.Kind == KindGroup {
		p.considerGroup(c, c.EntitlementID)
		return
	}
	if !c.Direct && len(c.ViaGroups) == 0 {
		p.add(ItemManual, c.UserID, "", c.EntitlementID, "Okta reports the app as granted through groups, but the snapshot "+
			"holds no group granting it: remove it in Okta by hand", c.ID)
		return
	}
	if c.Direct {
		k := pair{c.UserID, c.EntitlementID}
		p.unassigns[k] = append(p.unassigns[k], c.ID)
	}
	for _, g := range c.ViaGroups {
		p.considerGroup(c, g)
	}
}

func (p *planner) isProtectedUser(id string) bool {
	if p.protectedUser[strings.ToLower(id)] {
		return true
	}
	u, ok := p.ix.UserByID[id]
	if !ok {
		return false
	}
	usr := &p.ix.Snap.Users[u]
	return p.protectedUser[strings.ToLower(usr.Email)] || p.protectedUser[strings.ToLower(usr.Login)]
}

// considerGroup lists a membership removal as manual work or as a
// candidate for resolve.
func (p *planner) considerGroup(c *PlanCase, gid string) {
	gi, ok := p.ix.GroupByID[gid]
	if !ok {
		p.add(ItemManual, c.UserID, gid, c.appID(), "group is no longer in the snapshot", c.ID)
		return
	}
	if why := p.manualReason(&p.ix.Snap.Groups[gi]); why != "" {
		p.add(ItemManual, c.UserID, gid, c.appID(), why, c.ID)
		return
	}
	k := pair{c.UserID, gid}
	p.candidates[k] = append(p.candidates[k], c.ID)
}

// manualReason says why attest never removes a membership of g itself, or
// "" when it may.
func (p *planner) manualReason(g *Group) string {
	r, ok := p.reasons[g]
	if !ok {
		r = p.groupReason(g)
		p.reasons[g] = r
	}
	return r
}

// groupReason is manualReason made afresh.
func (p *planner) groupReason(g *Group) string {
	switch {
	case g.Type == GroupBuiltIn:
		return fmt.Sprintf("granted by built-in group %q, which attest never changes", g.Name)
	case p.protectedGroup[strings.ToLower(g.ID)] || p.protectedGroup[strings.ToLower(g.Name)]:
		return fmt.Sprintf("granted by protected group %q", g.Name)
	case g.Type == GroupApp:
		return fmt.Sprintf("group %q is mastered outside Okta (APP_GROUP): remove the membership at its source", g.Name)
	case len(g.RuleIDs) > 0:
		return fmt.Sprintf("membership of %q is managed by group rule %s: removing it would add the user to the rule's exclusions",
			g.Name, strings.Join(g.RuleIDs, ", "))
	}
	return ""
}

func (c *PlanCase) appID() string {
	if c.Kind == KindApp {
		return c.EntitlementID
	}
	return ""
}

// numberPlan merges duplicate items (one removal serving several cases)
// and numbers them in a total order: user, kind (removals, unassignments,
// conflicts, manual), group, app, reason, first case. It sorts items in
// place and merges neighbours, rather than copying them through a map: a
// plan can hold millions of items. Once merged no two items share the
// first five keys, so the first case never decides the order.
func numberPlan(items []PlanItem) []PlanItem {
	rank := func(kind string) int {
		switch kind {
		case OpRemoveMembership:
			return 0
		case OpUnassignApp:
			return 1
		case ItemConflict:
			return 2
		case ItemManual:
			return 3
		}
		return 4
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := &items[i], &items[j]
		switch {
		case a.UserID != b.UserID:
			return a.UserID < b.UserID
		case a.Kind != b.Kind:
			if ra, rb := rank(a.Kind), rank(b.Kind); ra != rb {
				return ra < rb
			}
			return a.Kind < b.Kind
		case a.GroupID != b.GroupID:
			return a.GroupID < b.GroupID
		case a.AppID != b.AppID:
			return a.AppID < b.AppID
		}
		return a.Reason < b.Reason
	})
	final := items[:0]
	for i := range items {
		it := items[i]
		if n := len(final); n > 0 {
			last := &final[n-1]
			if last.Kind == it.Kind && last.UserID == it.UserID && last.GroupID == it.GroupID && last.AppID == it.AppID &&
				last.Reason == it.Reason {
				last.CaseIDs = append(last.CaseIDs, it.CaseIDs...)
				continue
			}
		}
		final = append(final, it)
	}
	clear(items[len(final):])
	for i := range final {
		ids := final[i].CaseIDs
		slices.Sort(ids)
		final[i].CaseIDs = compactIDs(ids)
		final[i].Seq = i + 1
	}
	return final
}

// compactIDs drops repeats from a sorted list.
func compactIDs(ids []int64) []int64 {
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

func keySet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, x := range list {
		m[strings.ToLower(strings.TrimSpace(x))] = true
	}
	return m
}

// pair is a (user, group) or (user, app) key.
type pair struct{ a, b string }
