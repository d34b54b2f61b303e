package okta_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/storetest"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/store"
)

// execRig is an approved campaign whose plan removes real access from the
// fake Okta: every case without a decision is revoked.
type execRig struct {
	t    *testing.T
	ctx  context.Context
	srv  *oktatest.Server
	org  *oktatest.Org
	st   *store.Store
	c    *okta.Client
	id   int64
	plan []campaign.PlanItem
}

func newExecRig(t *testing.T, extraApprovals int, opts ...oktatest.Option) *execRig {
	return newExecRigLimit(t, extraApprovals, 0, opts...)
}

// newExecRigLimit is newExecRig with the engine's blast-radius limit set,
// so a large plan needs one approval more.
func newExecRigLimit(t *testing.T, extraApprovals, maxOps int, opts ...oktatest.Option) *execRig {
	return newExecRigOrg(t, extraApprovals, maxOps, nil, opts...)
}

// newExecRigOrg is newExecRigLimit on the org as mutate changes it before
// the snapshot.
func newExecRigOrg(t *testing.T, extraApprovals, maxOps int, mutate func(*oktatest.Org), opts ...oktatest.Option) *execRig {
	t.Helper()
	ctx := context.Background()
	org := oktatest.Generate(oktatest.Params{Seed: 3, Users: 120, Apps: 10, Groups: 16, Now: refNow})
	if mutate != nil {
		mutate(org)
	}
	// Generous limits: these tests are about correctness; the pacer has its own.
	roomy := map[oktatest.Bucket]int{oktatest.BucketUsers: 100000, oktatest.BucketGroups: 100000,
		oktatest.BucketGroupByID: 100000, oktatest.BucketApps: 100000, oktatest.BucketLogs: 100000}
	srv := oktatest.NewServer(org, append([]oktatest.Option{oktatest.WithWindow(time.Second), oktatest.WithLimits(roomy)}, opts...)...)
	t.Cleanup(srv.Close)
	st := storetest.WithOrg(t, org)
	approvers := fmt.Sprintf("[%s, %s, %s]", org.Users[1].Email, org.Users[2].Email, org.Users[3].Email)
	def, err := campaign.ParseDefinition("x.yaml", []byte(fmt.Sprintf(`name: Cleanup
owner: %s
approval: {approvers: %s}
stages: {self_attestation: {enabled: false}}
remediation: {no_decision: revoke}
`, org.Users[0].Email, approvers)))
	if err != nil {
		t.Fatal(err)
	}
	eng := &campaign.Engine{Store: st, Now: func() time.Time { return refNow }, MaxOperations: maxOps}
	c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, Owner: campaign.Actor{Email: org.Users[0].Email}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := eng.Close(ctx, c.ID, campaign.Actor{Email: org.Users[0].Email}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= extraApprovals; i++ {
		if _, _, err := eng.Approve(ctx, c.ID, campaign.Actor{Email: org.Users[1+i].Email}); err != nil {
			t.Fatal(err)
		}
	}
	plan, _ := st.Plan(ctx, c.ID)
	return &execRig{t: t, ctx: ctx, srv: srv, org: org, st: st, c: newClient(t, srv), id: c.ID, plan: plan}
}

func (r *execRig) executor(worker string) *campaign.Executor {
	return &campaign.Executor{Store: r.st, Ops: r.st, Okta: r.c, Worker: worker, Now: func() time.Time { return time.Now().UTC() },
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }, Lease: time.Minute}
}

func (r *execRig) run(x *campaign.Executor) campaign.RunSummary {
	r.t.Helper()
	if err := x.Start(r.ctx, r.id); err != nil {
		r.t.Fatal(err)
	}
	sum, err := x.Run(r.ctx, r.id)
	if err != nil {
		r.t.Fatal(err)
	}
	return sum
}

func (r *execRig) ops() int {
	n := 0
	for _, p := range r.plan {
		if p.IsOperation() {
			n++
		}
	}
	return n
}

// remaining counts the plan's accesses still present in the fake Okta.
func (r *execRig) remaining() int {
	n := 0
	for _, p := range r.plan {
		switch p.Kind {
		case campaign.OpRemoveMembership:
			for _, m := range r.srv.Org().Members[p.GroupID] {
				if m == p.UserID {
					n++
				}
			}
		case campaign.OpUnassignApp:
			for _, u := range r.srv.Org().AppDirect[p.AppID] {
				if u == p.UserID {
					n++
				}
			}
		}
	}
	return n
}

func TestExecutorHappyPathRemovesEachOnce(t *testing.T) {
	r := newExecRig(t, 0)
	if r.ops() < 10 {
		t.Fatalf("plan has only %d operations", r.ops())
	}
	sum := r.run(r.executor("w1"))
	if !sum.Done || sum.ByResult[campaign.ResultRemoved] != r.ops() || sum.Failed != 0 || sum.CameBack != 0 {
		t.Fatalf("summary = %+v, want %d removed", sum, r.ops())
	}
	if got := r.srv.Deletes(); got != r.ops() {
		t.Fatalf("DELETEs = %d, want exactly %d", got, r.ops())
	}
	if left := r.remaining(); left != 0 {
		t.Fatalf("%d accesses still present", left)
	}
	c, _ := r.st.GetCampaign(r.ctx, r.id)
	if c.State != campaign.StateDone {
		t.Fatalf("state = %s", c.State)
	}
	// A second run changes nothing.
	if _, err := r.executor("w2").Run(r.ctx, r.id); !errors.Is(err, campaign.ErrConflict) {
		t.Fatalf("run of a done campaign: %v", err)
	}
	if r.srv.Deletes() != r.ops() {
		t.Fatal("a second run sent more DELETEs")
	}
}

func TestExecutorAlreadyGoneAndChanged(t *testing.T) {
	r := newExecRig(t, 0)
	var gone, changed campaign.PlanItem
	for _, p := range r.plan {
		if p.Kind == campaign.OpRemoveMembership && gone.Seq == 0 {
			gone = p
		}
		if p.Kind == campaign.OpUnassignApp && changed.Seq == 0 && len(r.org.AppGroups[p.AppID]) > 0 {
			changed = p
		}
	}
	if gone.Seq == 0 || changed.Seq == 0 {
		t.Fatal("plan lacks a membership removal or an unassignment of a group-granted app")
	}
	if err := r.srv.RemoveGroupMember(gone.GroupID, gone.UserID); err != nil {
		t.Fatal(err)
	}
	// The unassigned user now holds the app through a group instead.
	grp := r.org.AppGroups[changed.AppID][0].GroupID
	_ = r.srv.AddGroupMember(grp, changed.UserID)
	if err := r.srv.RemoveAssignment(changed.AppID, changed.UserID); err != nil {
		t.Fatal(err)
	}
	sum := r.run(r.executor("w1"))
	if sum.ByResult[campaign.ResultAlreadyGone] < 1 || sum.ByResult[campaign.ResultChanged] != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	if got, want := r.srv.Deletes(), sum.ByResult[campaign.ResultRemoved]; got != want {
		t.Fatalf("DELETEs = %d, want %d (none for gone or changed access)", got, want)
	}
}

func TestExecutorRateLimitsAndServerErrors(t *testing.T) {
	r := newExecRig(t, 0)
	r.srv.FailNext("/api/v1/groups/", http.StatusTooManyRequests, 3)
	r.srv.FailNext("/api/v1/apps/", http.StatusInternalServerError, 2)
	r.srv.FailNext("/api/v1/users/", http.StatusServiceUnavailable, 1)
	sum := r.run(r.executor("w1"))
	if sum.ByResult[campaign.ResultRemoved] != r.ops() || sum.Failed != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	if r.srv.Deletes() != r.ops() || r.remaining() != 0 {
		t.Fatalf("DELETEs %d (want %d), remaining %d", r.srv.Deletes(), r.ops(), r.remaining())
	}
}

func TestExecutorPermanentErrorFailsOneOperation(t *testing.T) {
	r := newExecRig(t, 0)
	var first campaign.PlanItem
	for _, p := range r.plan {
		if p.Kind == campaign.OpRemoveMembership {
			first = p
			break
		}
	}
	r.srv.FailNext("/api/v1/groups/"+first.GroupID+"/users/"+first.UserID, http.StatusForbidden, 1)
	sum := r.run(r.executor("w1"))
	if sum.Failed != 1 || sum.ByResult[campaign.ResultRemoved] != r.ops()-1 {
		t.Fatalf("summary = %+v", sum)
	}
	ops, _ := r.st.Operations(r.ctx, r.id)
	for _, op := range ops {
		if op.Seq == first.Seq && (op.State != campaign.OpFailed || op.ErrorCode != "E0000006") {
			t.Fatalf("failed op = %+v, want failed with E0000006", op)
		}
	}
	// An approver retries it once the problem is fixed.
	n, err := r.st.RetryFailed(r.ctx, r.id, campaign.Event{Type: "operation.retry", Actor: campaign.Actor{Email: r.org.Users[1].Email}})
	if err != nil || n != 1 {
		t.Fatalf("retry = %d, %v", n, err)
	}
	sum = r.run(r.executor("w2"))
	if sum.Failed != 0 || r.remaining() != 0 {
		t.Fatalf("after retry: %+v, remaining %d", sum, r.remaining())
	}
}

func TestExecutorDryRunAndGuards(t *testing.T) {
	r := newExecRig(t, 0)
	x := r.executor("w1")
	x.DryRun = true
	sum := r.run(x)
	if sum.ByResult[campaign.ResultWouldRemove] != r.ops() || r.srv.Deletes() != 0 {
		t.Fatalf("dry run: %+v, DELETEs %d", sum, r.srv.Deletes())
	}

	r = newExecRig(t, 0)
	x = r.executor("w1")
	x.MaxOperations = 1
	if err := x.Start(r.ctx, r.id); !errors.Is(err, campaign.ErrForbidden) {
		t.Fatalf("blast radius: %v", err)
	}
	r2 := newExecRigLimit(t, 1, 1) // the engine asked for, and got, one approval more
	x = r2.executor("w1")
	x.MaxOperations = 1
	if err := x.Start(r2.ctx, r2.id); err != nil {
		t.Fatalf("with the extra approval: %v", err)
	}

	// A protected group in the plan (say the plan was tampered with) is
	// never touched.
	r = newExecRig(t, 0)
	var target campaign.PlanItem
	for _, p := range r.plan {
		if p.Kind == campaign.OpRemoveMembership {
			target = p
			break
		}
	}
	x = r.executor("w1")
	x.ProtectedGroups = []string{target.GroupID}
	sum = r.run(x)
	if sum.ByResult[campaign.ResultProtected] < 1 {
		t.Fatalf("protected: %+v", sum)
	}
	for _, m := range r.srv.Org().Members[target.GroupID] {
		if m == target.UserID {
			return
		}
	}
	t.Fatal("a protected membership was removed")
}

// killAfter is a Revoker that cancels its run after n writes, as a kill
// would: mid-run, with calls in flight.
type killAfter struct {
	campaign.Revoker
	n      int64
	cancel context.CancelFunc
	writes atomic.Int64
}

func (k *killAfter) RemoveMembership(ctx context.Context, u, g string) error {
	err := k.Revoker.RemoveMembership(ctx, u, g)
	if k.writes.Add(1) == k.n {
		k.cancel()
	}
	return err
}

func (k *killAfter) UnassignApp(ctx context.Context, u, a string) error {
	if k.writes.Add(1) == k.n {
		k.cancel()
	}
	return k.Revoker.UnassignApp(ctx, u, a)
}

func TestExecutorKillAndRestartExactlyOnce(t *testing.T) {
	for _, at := range []int64{1, 5, 12} {
		t.Run(fmt.Sprint("kill after ", at), func(t *testing.T) {
			r := newExecRig(t, 0)
			ctx, cancel := context.WithCancel(r.ctx)
			x := r.executor("dead")
			x.Okta = &killAfter{Revoker: r.c, n: at, cancel: cancel}
			if err := x.Start(r.ctx, r.id); err != nil {
				t.Fatal(err)
			}
			if _, err := x.Run(ctx, r.id); !errors.Is(err, context.Canceled) {
				t.Fatalf("killed run: %v", err)
			}
			// The new process treats the dead worker's claims as stale.
			y := r.executor("fresh")
			y.Lease = time.Nanosecond
			sum, err := y.Run(r.ctx, r.id)
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Done || r.remaining() != 0 || r.srv.Deletes() != r.ops() {
				t.Fatalf("after restart: %+v, remaining %d, DELETEs %d (want %d)", sum, r.remaining(), r.srv.Deletes(), r.ops())
			}
		})
	}
}

func TestTwoExecutorsRaceOnOnePlan(t *testing.T) {
	r := newExecRig(t, 0)
	if err := r.executor("a").Start(r.ctx, r.id); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, w := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func(w string) {
			defer wg.Done()
			_, _ = r.executor(w).Run(r.ctx, r.id)
		}(w)
	}
	wg.Wait()
	if r.srv.Deletes() != r.ops() || r.remaining() != 0 {
		t.Fatalf("DELETEs %d, want %d; remaining %d", r.srv.Deletes(), r.ops(), r.remaining())
	}
}

// Step-up: an approval counts only after the approver accepts the Okta
// Verify push; a rejected push leaves the plan unapproved and says why.
func TestApprovalStepUp(t *testing.T) {
	for _, answer := range []string{"SUCCESS", "REJECTED"} {
		t.Run(answer, func(t *testing.T) {
			ctx := context.Background()
			r := newExecRig(t, -1) // closed, not approved yet
			approver := r.org.Users[1]
			r.srv.SetPushAnswer(approver.ID, answer)
			eng := &campaign.Engine{Store: r.st, Now: func() time.Time { return refNow },
				StepUp: func(ctx context.Context, a campaign.Actor) error {
					return r.c.StepUp(ctx, a.UserID, 5*time.Second, 10*time.Millisecond)
				}}
			c, _, err := eng.Approve(ctx, r.id, campaign.Actor{Email: approver.Email})
			if r.srv.PushesSent() != 1 {
				t.Fatalf("pushes sent = %d", r.srv.PushesSent())
			}
			switch answer {
			case "SUCCESS":
				if err != nil || c.State != campaign.StateApproved {
					t.Fatalf("accepted push: %v, %v", c, err)
				}
			default:
				if !errors.Is(err, campaign.ErrForbidden) || !strings.Contains(err.Error(), "REJECTED") {
					t.Fatalf("rejected push: %v", err)
				}
				got, _ := r.st.GetCampaign(ctx, r.id)
				approvals, _ := r.st.Approvals(ctx, r.id)
				if got.State != campaign.StateClosed || len(approvals) != 0 {
					t.Fatalf("after a rejected push: %s with %d approvals", got.State, len(approvals))
				}
			}
		})
	}
}

// A user Okta rates HIGH is proposed for the quarantine group; only after
// approval does the executor add them (one PUT); when the risk drops the
// release is proposed and, approved, carried out.
func TestQuarantineProposalFollowsApproval(t *testing.T) {
	ctx := context.Background()
	r := newExecRig(t, 0) // a store with a snapshot of the fake org
	var quarantine string
	for _, g := range r.org.Groups {
		if g.Type == "OKTA_GROUP" && !ruleManaged(r.org, g.ID) {
			quarantine = g.ID
			break
		}
	}
	var user string
	for _, u := range r.org.Users {
		if u.Status == "ACTIVE" && !slices.Contains(r.org.Members[quarantine], u.ID) {
			user = u.ID
			break
		}
	}
	approver := r.org.Users[2].Email
	eng := &campaign.Engine{Store: r.st, Now: func() time.Time { return refNow }}
	inGroup := func() bool { return slices.Contains(r.srv.Org().Members[quarantine], user) }
	for _, step := range []struct {
		key, kind string
		wantIn    bool
	}{{"ev-high", campaign.OpAddMembership, true}, {"ev-low", campaign.OpRemoveMembership, false}} {
		c, err := eng.ProposeGroupChange(ctx, step.key, step.kind, user, quarantine, "risk change", []string{approver})
		if err != nil {
			t.Fatal(err)
		}
		again, _ := eng.ProposeGroupChange(ctx, step.key, step.kind, user, quarantine, "risk change", []string{approver})
		if again.ID != c.ID {
			t.Fatal("a redelivered event proposed twice")
		}
		x := r.executor("w")
		x.QuarantineGroup = quarantine
		if err := x.Start(ctx, c.ID); !errors.Is(err, campaign.ErrForbidden) {
			t.Fatalf("executed without approval: %v", err)
		}
		if inGroup() == step.wantIn {
			t.Fatal("Okta changed before approval")
		}
		if _, _, err := eng.Approve(ctx, c.ID, campaign.Actor{Email: approver}); err != nil {
			t.Fatal(err)
		}
		if err := x.Start(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Run(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if inGroup() != step.wantIn {
			t.Fatalf("%s: in group = %v, want %v", step.kind, inGroup(), step.wantIn)
		}
	}
}

// ruleManaged reports whether an active group rule adds members to group.
func ruleManaged(org *oktatest.Org, group string) bool {
	for _, rule := range org.GroupRules {
		if rule.Status == "ACTIVE" && slices.Contains(rule.GroupIDs, group) {
			return true
		}
	}
	return false
}
