package campaign_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// ApprovalStatus tells the true required count and the approvals so far:
// "1 of 2", then approved at "2 of 2", never "(2 of 1)".
func TestApprovalStatusCounts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		def      string
		required int
	}{
		{"definition asks two", strings.Replace(trustDef, "approval: {", "approval: {required: 2, ", 1), 2},
		{"one, plus one for critical access", trustDef, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, org())
			if tc.def == trustDef {
				h.eng.Risk = func(_, _, label string) string {
					if label == "GitHub" {
						return "critical"
					}
					return ""
				}
			}
			c := h.launch(tc.def)
			h.toPlan(c)
			st, err := h.eng.ApprovalStatus(h.ctx, c.ID)
			if err != nil || st.Required != tc.required || st.Approved != 0 || st.PlanDigest == "" {
				t.Fatalf("before: %+v, %v", st, err)
			}
			if _, n, err := h.eng.Approve(h.ctx, c.ID, as("approver@x.com")); err != nil || n != 1 {
				t.Fatalf("first approval: %d, %v", n, err)
			}
			if st, _ = h.eng.ApprovalStatus(h.ctx, c.ID); st.Required != tc.required || st.Approved != 1 {
				t.Fatalf("after one: %+v", st)
			}
			if h.state(c.ID) != campaign.StateClosed {
				t.Fatal("approved with one of two")
			}
			if _, n, err := h.eng.Approve(h.ctx, c.ID, as("ceo@x.com")); err != nil || n != 2 {
				t.Fatalf("second approval: %d, %v", n, err)
			}
			if h.state(c.ID) != campaign.StateApproved {
				t.Fatal("not approved with two of two")
			}
		})
	}
}

// Rights are checked again when the approvals are counted: an approver
// removed from the approvers between their click and the last approval
// no longer counts.
func TestRemovedApproverNoLongerCounts(t *testing.T) {
	h := newHarness(t, org())
	var mu sync.Mutex
	approvers := map[string]bool{"UAPPROVER": true, "UCEO": true, "UVP": true}
	h.eng.IsApprover = func(_ context.Context, a campaign.Actor) bool {
		mu.Lock()
		defer mu.Unlock()
		return approvers[a.SlackUserID]
	}
	c := h.launch(strings.Replace(trustDef, "approval: {approvers: [approver@x.com, iam@x.com, vp@x.com, ceo@x.com]}",
		"approval: {required: 2}", 1))
	h.toPlan(c)
	if _, _, err := h.eng.Approve(h.ctx, c.ID, slackAs("approver", "approver@x.com")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	delete(approvers, "UAPPROVER")
	mu.Unlock()
	got, n, err := h.eng.Approve(h.ctx, c.ID, slackAs("ceo", "ceo@x.com"))
	if err != nil || n != 1 || got.State != campaign.StateClosed {
		t.Fatalf("with the first approver removed: %d approvals, state %s, %v", n, got.State, err)
	}
	if got, n, err = h.eng.Approve(h.ctx, c.ID, slackAs("vp", "vp@x.com")); err != nil || n != 2 || got.State != campaign.StateApproved {
		t.Fatalf("a second standing approval: %d, %s, %v", n, got.State, err)
	}
}

// An approval is bound to the plan's digest: the audit entry records it,
// a plan changed after close cannot be approved, and the executor's check
// refuses a plan changed after approval.
func TestApprovalIsBoundToThePlanDigest(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch(trustDef)
	h.toPlan(c)
	closed, err := h.st.GetCampaign(h.ctx, c.ID)
	if err != nil || len(closed.PlanDigest) != 64 {
		t.Fatalf("plan digest %q, %v", closed.PlanDigest, err)
	}
	plan, _ := h.st.Plan(h.ctx, c.ID)
	if campaign.PlanDigest(plan) != closed.PlanDigest {
		t.Fatal("stored digest is not the plan's")
	}
	// Someone with write access to the database points the plan's
	// unassignments at another user, and back.
	var victim string
	for _, it := range plan {
		if it.Kind == campaign.OpUnassignApp {
			victim = it.UserID
			break
		}
	}
	if victim == "" {
		t.Fatal("the plan unassigns no app")
	}
	other := strings.Repeat("x", len(victim))
	tamper := func(from, to string) { rewritePlanBytes(t, h, c.ID, from, to) }
	tamper(victim, other)
	_, _, err = h.eng.Approve(h.ctx, c.ID, as("approver@x.com"))
	wantErr(t, err, campaign.ErrConflict, "approving a plan changed after close")
	tamper(other, victim)
	if _, _, err := h.eng.Approve(h.ctx, c.ID, as("approver@x.com")); err != nil {
		t.Fatal(err)
	}
	events, _ := h.st.Events(h.ctx, c.ID)
	bound := false
	for _, ev := range events {
		bound = bound || ev.Type == "plan.approved" && ev.Detail["plan_sha256"] == closed.PlanDigest
	}
	if !bound {
		t.Fatal("the approval's audit entry does not record the plan digest")
	}
	approved, _ := h.st.GetCampaign(h.ctx, c.ID)
	plan, _ = h.st.Plan(h.ctx, c.ID)
	if err := campaign.CheckApprovedPlan(h.ctx, h.st, approved, plan); err != nil {
		t.Fatalf("the approved plan: %v", err)
	}
	tamper(victim, other)
	plan, _ = h.st.Plan(h.ctx, c.ID)
	if err := campaign.CheckApprovedPlan(h.ctx, h.st, approved, plan); !errors.Is(err, campaign.ErrForbidden) {
		t.Fatalf("a plan changed after approval: %v", err)
	}
}

// With step-up on, rejecting a plan needs the Okta Verify push too, and
// so does a retry, which is refused before anything is requeued.
func TestStepUpGuardsRejectAndRetry(t *testing.T) {
	refuse := func(pushes *int) func(context.Context, campaign.Actor) error {
		return func(context.Context, campaign.Actor) error {
			*pushes++
			return errors.New("push REJECTED: " + campaign.ErrForbidden.Error())
		}
	}
	t.Run("reject", func(t *testing.T) {
		h := newHarness(t, org())
		pushes := 0
		h.eng.StepUp = refuse(&pushes)
		c := h.launch(trustDef)
		h.toPlan(c)
		_, _, err := h.eng.Reject(h.ctx, c.ID, as("approver@x.com"))
		wantErr(t, err, campaign.ErrForbidden, "reject without the push")
		if h.state(c.ID) != campaign.StateClosed || pushes != 1 {
			t.Fatalf("state %s after %d pushes", h.state(c.ID), pushes)
		}
		h.eng.StepUp = func(context.Context, campaign.Actor) error { return nil }
		if got, _, err := h.eng.Reject(h.ctx, c.ID, as("approver@x.com")); err != nil || got.State != campaign.StateRejected {
			t.Fatalf("reject with the push: %v, %v", got, err)
		}
		_, _, err = h.eng.Approve(h.ctx, c.ID, as("ceo@x.com"))
		wantErr(t, err, campaign.ErrConflict, "approving a rejected plan")
	})
	t.Run("retry", func(t *testing.T) {
		h := newHarness(t, org())
		c := h.launch(trustDef)
		h.toPlan(c)
		if _, _, err := h.eng.Approve(h.ctx, c.ID, as("approver@x.com")); err != nil {
			t.Fatal(err)
		}
		if err := (&campaign.Executor{Store: h.st, Ops: h.st, Now: h.clock.Now}).Start(h.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		pushes := 0
		h.eng.StepUp = refuse(&pushes)
		_, err := h.eng.RetryFailed(h.ctx, c.ID, as("approver@x.com"))
		wantErr(t, err, campaign.ErrForbidden, "retry without the push")
		if pushes != 1 {
			t.Fatalf("retry sent %d pushes", pushes)
		}
	})
}

// The executor refuses to start a plan whose digest is not the approved
// one: a plan row changed after approval is never queued.
func TestExecutorRefusesAPlanChangedAfterApproval(t *testing.T) {
	// One well-formed stored plan slice (store/plan_chunk.go) of one
	// item, number 99: unassign GitHub from the CEO.
	str := func(s string) []byte { return append([]byte{0, byte(len(s))}, s...) }
	added := []byte{1, 1, 99}
	for _, s := range []string{campaign.OpUnassignApp, "ceo", "", "github", "added"} {
		added = append(added, str(s)...)
	}
	added = append(added, 0)
	for _, tc := range []struct {
		name   string
		tamper func(h *harness, id int64)
		ok     bool
	}{
		{"the approved plan", nil, true},
		{"an item pointed at someone else", func(h *harness, id int64) { rewritePlanBytes(t, h, id, "dev1", "xxx1") }, false},
		{"an item added", func(h *harness, id int64) {
			if _, err := h.st.DB().ExecContext(h.ctx, `INSERT INTO plan_chunks (campaign_id, first_seq, items, body)
				VALUES (?, 99, 1, ?)`, id, added); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, org())
			c := h.launch(trustDef)
			h.toPlan(c)
			if _, _, err := h.eng.Approve(h.ctx, c.ID, as("approver@x.com")); err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				tc.tamper(h, c.ID)
			}
			x := &campaign.Executor{Store: h.st, Ops: h.st, Now: h.clock.Now}
			err := x.Start(h.ctx, c.ID)
			if tc.ok {
				if err != nil || h.state(c.ID) != campaign.StateRemediating {
					t.Fatalf("start: %v, state %s", err, h.state(c.ID))
				}
				return
			}
			wantErr(t, err, campaign.ErrForbidden, "starting a changed plan")
			if h.state(c.ID) != campaign.StateApproved {
				t.Fatalf("state = %s", h.state(c.ID))
			}
			if ops, err := h.st.Operations(h.ctx, c.ID); err != nil || len(ops) != 0 {
				t.Fatalf("operations queued: %d, %v", len(ops), err)
			}
		})
	}
}

// rewritePlanBytes replaces from with to, of the same length so that the
// stored slices stay well-formed, in every stored slice of a campaign's
// plan: someone with write access to the database changing whom the
// plan names. It fails the test when from is nowhere in the plan.
func rewritePlanBytes(t *testing.T, h *harness, id int64, from, to string) {
	t.Helper()
	if len(from) != len(to) {
		t.Fatalf("%q and %q differ in length", from, to)
	}
	rows, err := h.st.DB().QueryContext(h.ctx, `SELECT first_seq, body FROM plan_chunks WHERE campaign_id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[int64][]byte{}
	for rows.Next() {
		var first int64
		var body []byte
		if err := rows.Scan(&first, &body); err != nil {
			t.Fatal(err)
		}
		bodies[first] = body
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	changed := false
	for first, body := range bodies {
		next := bytes.ReplaceAll(body, []byte(from), []byte(to))
		changed = changed || !bytes.Equal(next, body)
		if _, err := h.st.DB().ExecContext(h.ctx, `UPDATE plan_chunks SET body = ? WHERE campaign_id = ? AND first_seq = ?`,
			next, id, first); err != nil {
			t.Fatal(err)
		}
	}
	if !changed {
		t.Fatalf("%q is nowhere in the plan of campaign %d", from, id)
	}
}
