package campaign

import (
	"fmt"
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
	p := newPlanner(ix, def, cases)
	for i := range cases {
		p.consider(&cases[i])
	}
	p.resolve()
	p.planUnassigns()
	return numberPlan(p.items)
}

// planner holds BuildPlan's working state.
type planner struct {
	ix             *Index
	protectedGroup map[string]bool
	protectedUser  map[string]bool
	revokedApps    map[pair]bool // user, app id
	keptGroups     map[pair]bool // user, group id
	items          []PlanItem
	// candidates are the membership removals revoked cases ask for, with
	// the cases each serves; removed is what resolve decided.
	candidates map[pair][]int64
	removed    map[pair]bool
	// unassigns are the direct assignments revoked cases ask to remove.
	unassigns map[pair][]int64
	direct    map[uint64]bool // user<<32|app: a direct assignment in the snapshot
}

func newPlanner(ix *Index, def *Definition, cases []CaseRecord) *planner {
	p := &planner{ix: ix,
		protectedGroup: keySet(def.Remediation.ProtectedGroups),
		protectedUser:  keySet(def.Remediation.ProtectedUsers),
		revokedApps:    map[pair]bool{}, keptGroups: map[pair]bool{},
		candidates: map[pair][]int64{}, removed: map[pair]bool{}, unassigns: map[pair][]int64{}, direct: map[uint64]bool{},
	}
	for i := range cases {
		c := &cases[i]
		switch {
		case c.Kind == KindApp && Revoked(c.Outcome):
			p.revokedApps[pair{c.UserID, c.EntitlementID}] = true
		case c.Kind == KindGroup && c.Outcome != "" && !Revoked(c.Outcome):
			p.keptGroups[pair{c.UserID, c.EntitlementID}] = true
		}
	}
	return p
}

func (p *planner) add(kind, user, group, app, reason string, caseIDs ...int64) {
	p.items = append(p.items, PlanItem{Kind: kind, UserID: user, GroupID: group, AppID: app,
		CaseIDs: append([]int64(nil), caseIDs...), Reason: reason})
}

// consider records what one revoked case asks for.
func (p *planner) consider(c *CaseRecord) {
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
func (p *planner) considerGroup(c *CaseRecord, gid string) {
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

func (c *CaseRecord) appID() string {
	if c.Kind == KindApp {
		return c.EntitlementID
	}
	return ""
}

// numberPlan merges duplicate items (one removal serving several cases)
// and numbers them in a total order: user, kind (removals, unassignments,
// conflicts, manual), group, app, reason, first case.
func numberPlan(items []PlanItem) []PlanItem {
	type k struct{ kind, user, group, app, reason string }
	at := map[k]int{}
	var final []PlanItem
	for _, it := range items {
		key := k{it.Kind, it.UserID, it.GroupID, it.AppID, it.Reason}
		if i, ok := at[key]; ok {
			final[i].CaseIDs = append(final[i].CaseIDs, it.CaseIDs...)
			continue
		}
		at[key] = len(final)
		it.CaseIDs = append([]int64(nil), it.CaseIDs...)
		final = append(final, it)
	}
	for i := range final {
		ids := final[i].CaseIDs
		sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
		final[i].CaseIDs = compactIDs(ids)
	}
	rank := map[string]int{OpRemoveMembership: 0, OpUnassignApp: 1, ItemConflict: 2, ItemManual: 3}
	sort.Slice(final, func(i, j int) bool {
		a, b := final[i], final[j]
		switch {
		case a.UserID != b.UserID:
			return a.UserID < b.UserID
		case rank[a.Kind] != rank[b.Kind]:
			return rank[a.Kind] < rank[b.Kind]
		case a.Kind != b.Kind:
			return a.Kind < b.Kind
		case a.GroupID != b.GroupID:
			return a.GroupID < b.GroupID
		case a.AppID != b.AppID:
			return a.AppID < b.AppID
		case a.Reason != b.Reason:
			return a.Reason < b.Reason
		}
		return firstID(a.CaseIDs) < firstID(b.CaseIDs)
	})
	for i := range final {
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

func firstID(ids []int64) int64 {
	if len(ids) == 0 {
		return 0
	}
	return ids[0]
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
