package okta_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
)

// tamperedOps is an operation store whose queued jobs are not the
// approved plan's: rows rewritten in the operations table after Start
// checked the plan's digest.
type tamperedOps struct {
	campaign.OperationStore
	rows []campaign.PlanItem
}

func (t tamperedOps) QueueOperations(ctx context.Context, id int64, _ []campaign.PlanItem) (int, error) {
	return t.OperationStore.QueueOperations(ctx, id, t.rows)
}

// pick returns the first group of the org that ok accepts, with a member.
func pick(t *testing.T, org *oktatest.Org, ok func(g oktatest.Group) bool) (group, member string) {
	t.Helper()
	for _, g := range org.Groups {
		if ok(g) && len(org.Members[g.ID]) > 0 {
			return g.ID, org.Members[g.ID][0]
		}
	}
	t.Fatal("the org has no such group")
	return "", ""
}

// Every write the executor makes passes one guard, whatever the queued
// operations say: tampered rows of each kind that touch a protected user (by id,
// login or email), a protected, built-in or rule-managed group, or add
// anyone anywhere but the quarantine group are skipped as protected, and
// Okta never hears of them. The old executor checked additions only
// against protected user ids, so rows 3 and 4 were carried out.
func TestExecutorGuardsEveryWrite(t *testing.T) {
	r := newExecRig(t, 0)
	org := r.org
	plain := func(g oktatest.Group) bool { return g.Type == "OKTA_GROUP" && !ruleManaged(org, g.ID) }
	var plainGroups []string
	for _, g := range org.Groups {
		if plain(g) {
			plainGroups = append(plainGroups, g.ID)
		}
	}
	quarantine, protectedGroup, otherGroup := plainGroups[0], plainGroups[1], plainGroups[2]
	protectedName := org.Group(protectedGroup).Name
	protectedMember := org.Members[protectedGroup][0]
	everyone, everyoneMember := pick(t, org, func(g oktatest.Group) bool { return g.Type == "BUILT_IN" })
	ruled, ruledMember := pick(t, org, func(g oktatest.Group) bool { return g.Type == "OKTA_GROUP" && ruleManaged(org, g.ID) })
	plainMember := org.Members[otherGroup][0]
	// Users with a direct app: one protected by email, one by login.
	var direct []struct{ user, app string }
	for _, a := range org.Apps {
		for _, u := range org.AppDirect[a.ID] {
			if len(direct) < 2 && (len(direct) == 0 || direct[0].user != u) && u != plainMember {
				direct = append(direct, struct{ user, app string }{u, a.ID})
			}
		}
	}
	byEmail, byLogin := org.User(direct[0].user), org.User(direct[1].user)
	var outsider string // an active user, not protected, not in the quarantine group
	for _, u := range org.Users {
		if u.Status == "ACTIVE" && u.ID != byEmail.ID && u.ID != byLogin.ID && !slices.Contains(org.Members[quarantine], u.ID) {
			outsider = u.ID
			break
		}
	}
	groupOf := func(u string) string { return org.GroupsOf(u)[len(org.GroupsOf(u))-1] }
	rows := []struct {
		name string
		item campaign.PlanItem
		want string // result
	}{
		{"remove: user protected by email", campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: byEmail.ID, GroupID: groupOf(byEmail.ID)}, campaign.ResultProtected},
		{"unassign: user protected by login", campaign.PlanItem{Kind: campaign.OpUnassignApp, UserID: byLogin.ID, AppID: direct[1].app}, campaign.ResultProtected},
		{"add: user protected by email into the quarantine group", campaign.PlanItem{Kind: campaign.OpAddMembership, UserID: byEmail.ID, GroupID: quarantine}, campaign.ResultProtected},
		{"add: into a protected group", campaign.PlanItem{Kind: campaign.OpAddMembership, UserID: outsider, GroupID: protectedGroup}, campaign.ResultProtected},
		{"add: into a group other than the quarantine group", campaign.PlanItem{Kind: campaign.OpAddMembership, UserID: outsider, GroupID: otherGroup}, campaign.ResultProtected},
		{"remove: from a protected group", campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: protectedMember, GroupID: protectedGroup}, campaign.ResultProtected},
		{"remove: from the built-in group", campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: everyoneMember, GroupID: everyone}, campaign.ResultProtected},
		{"remove: a rule-managed membership", campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: ruledMember, GroupID: ruled}, campaign.ResultProtected},
		{"remove: user named by email", campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: org.User(plainMember).Email, GroupID: otherGroup}, campaign.ResultProtected},
		{"remove: user not in the snapshot", campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: "00uNOTINSNAPSHOT", GroupID: otherGroup}, campaign.ResultProtected},
		{"add: into the quarantine group", campaign.PlanItem{Kind: campaign.OpAddMembership, UserID: outsider, GroupID: quarantine}, campaign.ResultAdded},
		{"remove: a plain membership", campaign.PlanItem{Kind: campaign.OpRemoveMembership, UserID: plainMember, GroupID: otherGroup}, campaign.ResultRemoved},
	}
	var plan []campaign.PlanItem
	for i, row := range rows {
		row.item.Seq = i + 1
		plan = append(plan, row.item)
	}
	x := r.executor("w1")
	x.Ops = tamperedOps{OperationStore: r.st, rows: plan}
	x.ProtectedUsers = []string{byEmail.Email, byLogin.Login}
	x.ProtectedGroups = []string{protectedName}
	x.QuarantineGroup = quarantine
	r.run(x)
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			op := r.op(i + 1)
			if op.Result != row.want {
				t.Fatalf("op = %+v, want %s", op, row.want)
			}
			path := "/api/v1/groups/" + op.GroupID + "/users/" + op.UserID
			if op.Kind == campaign.OpUnassignApp {
				path = "/api/v1/apps/" + op.AppID + "/users/" + op.UserID
			}
			writes := r.writes(http.MethodDelete, path) + r.writes(http.MethodPut, path)
			switch {
			case row.want == campaign.ResultProtected && (writes != 0 || op.State != campaign.OpSkipped || op.ErrorSummary == ""):
				t.Fatalf("refused row: %d writes sent, op = %+v; want none, skipped, with the reason", writes, op)
			case row.want != campaign.ResultProtected && writes != 1:
				t.Fatalf("allowed row: %d writes sent, want 1", writes)
			}
		})
	}
}
