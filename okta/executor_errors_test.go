package okta_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/okta"
)

// op returns the stored job of a plan item.
func (r *execRig) op(seq int) campaign.Operation {
	r.t.Helper()
	ops, err := r.st.Operations(r.ctx, r.id)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, op := range ops {
		if op.Seq == seq {
			return op
		}
	}
	r.t.Fatalf("no operation %d", seq)
	return campaign.Operation{}
}

// writes counts the requests of one method to one path.
func (r *execRig) writes(method, path string) int {
	n := 0
	for _, q := range r.srv.Requests() {
		if q.Method == method && q.Path == path {
			n++
		}
	}
	return n
}

// firstOp returns the plan's first item of a kind that pred accepts.
func (r *execRig) firstOp(kind string, pred func(campaign.PlanItem) bool) campaign.PlanItem {
	r.t.Helper()
	for _, p := range r.plan {
		if p.Kind == kind && (pred == nil || pred(p)) {
			return p
		}
	}
	r.t.Fatalf("the plan has no %s item for this test", kind)
	return campaign.PlanItem{}
}

// Okta refuses to unassign an app a group membership grants (403
// E0000046). With no removal of that membership left in the plan, the
// refusal is permanent: one DELETE, failed at once with the code and why,
// never retried. The old executor took the unknown code for a transient
// error and sent the DELETE five times.
func TestExecutorGroupGrantedUnassignFailsAtOnce(t *testing.T) {
	r := newExecRig(t, 0)
	target := r.firstOp(campaign.OpUnassignApp, nil)
	// Since the snapshot, a group that grants the app took the user in:
	// Okta still reports the assignment as direct (scope USER).
	var grp string
	for _, g := range r.org.Groups {
		if g.Type == "OKTA_GROUP" && !ruleManaged(r.org, g.ID) && !slices.Contains(r.org.Members[g.ID], target.UserID) {
			grp = g.ID
			break
		}
	}
	err := r.srv.Update(func(o *oktatest.Org) error {
		if err := o.AssignGroup(target.AppID, grp, 0); err != nil {
			return err
		}
		return o.AddGroupMember(grp, target.UserID)
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := r.run(r.executor("w1"))
	op := r.op(target.Seq)
	if op.State != campaign.OpFailed || op.ErrorCode != "E0000046" || op.Attempts != 1 {
		t.Fatalf("op = %+v, want failed at the first attempt with E0000046", op)
	}
	if !strings.Contains(op.ErrorSummary, "group membership still grants the app") {
		t.Fatalf("summary %q does not say why", op.ErrorSummary)
	}
	if n := r.writes(http.MethodDelete, "/api/v1/apps/"+target.AppID+"/users/"+target.UserID); n != 1 {
		t.Fatalf("DELETEs of the refused unassignment = %d, want 1", n)
	}
	if sum.Failed != 1 {
		t.Fatalf("summary = %+v", sum)
	}
}

// Okta answers 404 to a write on a user outside a scoped admin's scope,
// while reads still see the access. That is no proof the access is gone:
// the executor reads it back and fails the job with the reason. The old
// executor recorded such removals as "already gone".
func TestExecutorNotFoundOnWriteIsReadBack(t *testing.T) {
	r := newExecRig(t, 0)
	removal := r.firstOp(campaign.OpRemoveMembership, nil)
	unassign := r.firstOp(campaign.OpUnassignApp, func(p campaign.PlanItem) bool { return p.UserID != removal.UserID })
	r.srv.RestrictWrites(removal.UserID, unassign.UserID)
	r.run(r.executor("w1"))
	for _, p := range []campaign.PlanItem{removal, unassign} {
		op := r.op(p.Seq)
		if op.State != campaign.OpFailed || op.Result != campaign.ResultFailed || op.ErrorCode != "E0000007" ||
			!strings.Contains(op.ErrorSummary, "still there") {
			t.Errorf("%s: op = %+v, want failed with E0000007 and the read-back's finding", p.Kind, op)
		}
	}
	if !slices.Contains(r.srv.Org().Members[removal.GroupID], removal.UserID) {
		t.Fatal("the restricted membership is gone")
	}
}

// notFoundRace is a Revoker whose removals find the membership gone just
// before them (its user deleted, say): Okta answers 404 and the read-back
// shows the access gone.
type notFoundRace struct {
	campaign.Revoker
	r *execRig
}

func (n notFoundRace) RemoveMembership(ctx context.Context, u, g string) error {
	if err := n.r.srv.RemoveGroupMember(g, u); err != nil {
		return err
	}
	return &okta.APIError{Op: "remove user " + u + " from group " + g, Status: http.StatusNotFound, Code: "E0000007",
		Summary: "Not found: Resource not found: " + u + " (User)", Kind: campaign.ErrNotFound}
}

func TestExecutorNotFoundConfirmedGone(t *testing.T) {
	r := newExecRig(t, 0)
	x := r.executor("w1")
	x.Okta = notFoundRace{Revoker: r.c, r: r}
	if sum := r.run(x); sum.Failed != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	removal := r.firstOp(campaign.OpRemoveMembership, nil)
	if op := r.op(removal.Seq); op.State != campaign.OpDone || op.Result != campaign.ResultAlreadyGone {
		t.Fatalf("op = %+v, want done, already gone", op)
	}
}

// A user holding an app directly and through a group the plan removes:
// Okta refuses the unassignment until the membership is gone, so the
// executor sends the removal first, even with many workers, and each
// write exactly once. The old plan numbered unassignments first and the
// old executor ran them side by side.
func TestExecutorRemovesMembershipsBeforeUnassigning(t *testing.T) {
	for _, tc := range []struct {
		name          string
		removalFaults int // 500s on the removal's first tries
		workers       int
	}{
		{"removal succeeds at once", 0, 8},
		{"one worker", 0, 1},
		{"removal fails at first: the unassignment waits for its retry", 2, 8},
		{"removal fails at first, one worker", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) { testRemovalsFirst(t, tc.removalFaults, tc.workers) })
	}
}

func testRemovalsFirst(t *testing.T, removalFaults, workers int) {
	// A new group grants an app to one user, who also holds it directly.
	r := newExecRigOrg(t, 0, 0, func(o *oktatest.Org) {
		var app string
		for _, a := range o.Apps {
			everyone := slices.ContainsFunc(o.AppGroups[a.ID], func(ga oktatest.GroupAssignment) bool { return o.Group(ga.GroupID).Type == "BUILT_IN" })
			if a.Status == "ACTIVE" && !everyone {
				app = a.ID
				break
			}
		}
		var user string
		for _, u := range o.Users {
			if u.Status == "ACTIVE" && !slices.Contains(o.AppDirect[app], u.ID) {
				user = u.ID
				break
			}
		}
		o.Groups = append(o.Groups, oktatest.Group{ID: "00gORDERTEST00000001", Name: "Order test", Type: "OKTA_GROUP",
			Kind: oktatest.KindAccess, Created: refNow, LastUpdated: refNow, LastMembershipUpdated: refNow})
		for _, err := range []error{o.AddGroupMember("00gORDERTEST00000001", user), o.AssignGroup(app, "00gORDERTEST00000001", 0),
			o.AddAssignment(app, user)} {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	var unassign, removal campaign.PlanItem
	for _, u := range r.plan {
		if u.Kind != campaign.OpUnassignApp {
			continue
		}
		for _, p := range r.plan {
			if p.Kind == campaign.OpRemoveMembership && p.UserID == u.UserID &&
				slices.ContainsFunc(r.org.AppGroups[u.AppID], func(ga oktatest.GroupAssignment) bool { return ga.GroupID == p.GroupID }) {
				unassign, removal = u, p
			}
		}
	}
	if unassign.Seq == 0 {
		t.Fatal("the plan has no unassignment behind a membership removal")
	}
	if removal.Seq > unassign.Seq {
		t.Fatalf("removal #%d is numbered after unassignment #%d", removal.Seq, unassign.Seq)
	}
	r.srv.FailNext("/api/v1/groups/"+removal.GroupID+"/users/"+removal.UserID, http.StatusInternalServerError, removalFaults)
	x := r.executor("w1")
	x.Workers = workers
	sum := r.run(x)
	if sum.Failed != 0 || sum.ByResult[campaign.ResultRemoved] != r.ops() || r.remaining() != 0 {
		t.Fatalf("summary = %+v, remaining %d", sum, r.remaining())
	}
	// Even with the removal retried, the unassignment follows it: Okta
	// never has to refuse it.
	done, refused := 0, 0
	for _, q := range r.srv.Requests() {
		if q.Method == http.MethodDelete && q.Path == "/api/v1/apps/"+unassign.AppID+"/users/"+unassign.UserID {
			switch q.Status {
			case http.StatusNoContent:
				done++
			case http.StatusForbidden:
				refused++
			}
		}
	}
	if done != 1 || refused != 0 {
		t.Fatalf("unassignment DELETEs: %d done, %d refused", done, refused)
	}
}
