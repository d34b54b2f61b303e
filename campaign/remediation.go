package campaign

import (
	"fmt"
	"sort"
	"strings"
)

// Plan item kinds. Only the first two are Okta operations; the others are
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
// the campaign reviewed. A direct app assignment becomes an unassignment;
// an app granted by a group becomes a removal from that group (Okta refuses
// to unassign a group grant). Removals Okta or policy make unsafe are
// listed for manual work instead: built-in and protected groups, APP_GROUP
// memberships (mastered in AD or another source), and memberships a group
// rule manages (removing them silently adds a rule exclusion). A removal
// that would also take away an app or group the user keeps is a conflict,
// listed with what would be lost, never planned. Protected users are never
// planned. Items are numbered from 1 in a stable order.
func BuildPlan(ix *Index, def *Definition, cases []CaseRecord) []PlanItem {
	s := ix.Snap
	protectedGroup := keySet(def.Remediation.ProtectedGroups)
	protectedUser := keySet(def.Remediation.ProtectedUsers)
	revokedApps := map[pair]bool{} // user, app id
	keptGroups := map[pair]bool{}
	for i := range cases {
		c := &cases[i]
		switch {
		case c.Kind == KindApp && Revoked(c.Outcome):
			revokedApps[pair{c.UserID, c.EntitlementID}] = true
		case c.Kind == KindGroup && c.Outcome != "" && !Revoked(c.Outcome):
			keptGroups[pair{c.UserID, c.EntitlementID}] = true
		}
	}
	var items []PlanItem
	candidates := map[pair][]int64{} // user, group -> cases served
	add := func(kind, user, group, app, reason string, caseID int64) {
		items = append(items, PlanItem{Kind: kind, UserID: user, GroupID: group, AppID: app, CaseIDs: []int64{caseID}, Reason: reason})
	}
	considerGroup := func(c *CaseRecord, gid string) {
		gi, ok := ix.GroupByID[gid]
		if !ok {
			add(ItemManual, c.UserID, gid, c.appID(), "group is no longer in the snapshot", c.ID)
			return
		}
		g := &s.Groups[gi]
		switch {
		case g.Type == GroupBuiltIn:
			add(ItemManual, c.UserID, gid, c.appID(), fmt.Sprintf("granted by built-in group %q, which attest never changes", g.Name), c.ID)
		case protectedGroup[strings.ToLower(g.ID)] || protectedGroup[strings.ToLower(g.Name)]:
			add(ItemManual, c.UserID, gid, c.appID(), fmt.Sprintf("granted by protected group %q", g.Name), c.ID)
		case g.Type == GroupApp:
			add(ItemManual, c.UserID, gid, c.appID(), fmt.Sprintf("group %q is mastered outside Okta (APP_GROUP): remove the membership at its source", g.Name), c.ID)
		case len(g.RuleIDs) > 0:
			add(ItemManual, c.UserID, gid, c.appID(), fmt.Sprintf("membership of %q is managed by group rule %s: removing it would add the user to the rule's exclusions", g.Name, strings.Join(g.RuleIDs, ", ")), c.ID)
		default:
			k := pair{c.UserID, gid}
			candidates[k] = append(candidates[k], c.ID)
		}
	}
	for i := range cases {
		c := &cases[i]
		if !Revoked(c.Outcome) {
			continue
		}
		if u, ok := ix.UserByID[c.UserID]; protectedUser[strings.ToLower(c.UserID)] ||
			ok && (protectedUser[strings.ToLower(s.Users[u].Email)] || protectedUser[strings.ToLower(s.Users[u].Login)]) {
			add(ItemManual, c.UserID, "", c.appID(), "protected user: attest never removes their access", c.ID)
			continue
		}
		if c.Kind == KindGroup {
			considerGroup(c, c.EntitlementID)
			continue
		}
		if c.Direct {
			add(OpUnassignApp, c.UserID, "", c.EntitlementID, "", c.ID)
		}
		for _, g := range c.ViaGroups {
			considerGroup(c, g)
		}
	}
	// Drop conflicting removals until none is left: removing fewer groups
	// only ever loses less, so this ends.
	removed := map[pair]bool{}
	for k := range candidates {
		removed[k] = true
	}
	for changed := true; changed; {
		changed = false
		for k := range removed {
			if lost := wouldLose(ix, k.a, k.b, removed, revokedApps); len(lost) > 0 || keptGroups[k] {
				if keptGroups[k] {
					lost = append(lost, "the group itself, kept in this campaign")
				}
				g := s.Groups[ix.GroupByID[k.b]].Name
				items = append(items, PlanItem{Kind: ItemConflict, UserID: k.a, GroupID: k.b, CaseIDs: candidates[k],
					Reason: fmt.Sprintf("removing %q would also remove %s", g, strings.Join(lost, ", "))})
				delete(removed, k)
				changed = true
			}
		}
	}
	for k := range removed {
		items = append(items, PlanItem{Kind: OpRemoveMembership, UserID: k.a, GroupID: k.b, CaseIDs: candidates[k]})
	}
	return numberPlan(items)
}

func (c *CaseRecord) appID() string {
	if c.Kind == KindApp {
		return c.EntitlementID
	}
	return ""
}

// wouldLose lists the labels of apps the user keeps that removing them from
// group would take away: apps of the group not revoked for the user and
// held by no other path that survives the planned removals.
func wouldLose(ix *Index, userID, groupID string, removed map[pair]bool, revoked map[pair]bool) []string {
	s := ix.Snap
	u, okU := ix.UserByID[userID]
	g, okG := ix.GroupByID[groupID]
	if !okU || !okG {
		return nil
	}
	var lost []string
	for _, a := range ix.AppsOfGroup[g] {
		appID := s.Apps[a].ID
		if revoked[pair{userID, appID}] {
			continue
		}
		if !heldOtherwise(ix, u, a, g, func(other int32) bool {
			return removed[pair{userID, s.Groups[other].ID}]
		}) {
			lost = append(lost, fmt.Sprintf("%q", s.Apps[a].Label))
		}
	}
	sort.Strings(lost)
	return lost
}

// heldOtherwise reports whether user u holds app a directly or through a
// group other than except that is not being removed.
func heldOtherwise(ix *Index, u, a, except int32, removing func(int32) bool) bool {
	for _, au := range ix.AppUsers[a] {
		if au.User == u && au.Direct {
			return true
		}
	}
	for _, g := range ix.GroupsOfUser[u] {
		if g == except || removing(g) {
			continue
		}
		for _, ga := range ix.GroupsOfApp[a] {
			if ga == g {
				return true
			}
		}
	}
	return false
}

// numberPlan merges duplicate items (one removal serving several cases)
// and numbers them in a stable order: user, kind, group, app.
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
	}
	rank := map[string]int{OpUnassignApp: 0, OpRemoveMembership: 1, ItemConflict: 2, ItemManual: 3}
	sort.SliceStable(final, func(i, j int) bool {
		a, b := final[i], final[j]
		if a.UserID != b.UserID {
			return a.UserID < b.UserID
		}
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.GroupID != b.GroupID {
			return a.GroupID < b.GroupID
		}
		return a.AppID < b.AppID
	})
	for i := range final {
		final[i].Seq = i + 1
	}
	return final
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
