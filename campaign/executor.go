package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Executor carries out approved plans, and nothing else: it only takes a
// stored plan of a campaign in the approved (or remediating) state. Each
// operation is a durable job claimed by compare-and-swap, checked against
// Okta's current state before the write, retried safely (a write that may
// have reached Okta is re-read before it is sent again) and read back after
// the run. A restart resumes where it stopped; nothing runs twice.
type Executor struct {
	Store Store
	Ops   OperationStore
	Okta  Revoker
	Now   func() time.Time
	// Worker names this process in claims (host:pid).
	Worker string
	// DryRun does everything but the Okta write, recording "would_remove".
	DryRun bool
	// ProtectedGroups and ProtectedUsers (names, ids, logins, emails) are
	// never touched, whatever the plan says: every write passes guard.
	ProtectedGroups, ProtectedUsers []string
	// QuarantineGroup is the only group the executor ever adds users to
	// (okta.event_hook.quarantine_group); empty: it adds nobody anywhere.
	QuarantineGroup string
	// MaxOperations and MaxGroupShare bound the blast radius: a plan with
	// more operations, or removing more than this share of one group's
	// members, needs one more approval than the definition asks.
	MaxOperations int
	MaxGroupShare float64
	// Lease is how long a running job may stay claimed before another
	// executor treats its worker as stopped (default 2 minutes).
	Lease time.Duration
	// MaxAttempts bounds the tries of one operation (default 5).
	MaxAttempts int
	// Workers is how many operations run at once (default 4); the Okta
	// client's pacer keeps them under the rate limits.
	Workers int
	// Backoff is the wait before retrying a transient failure.
	Backoff  func(attempt int) time.Duration
	Notifier Notifier
	// Progress, when set, hears how many of a run's jobs are finished.
	Progress func(Progress)
}

func (x *Executor) now() time.Time {
	if x.Now == nil {
		return time.Now().UTC()
	}
	return x.Now().UTC()
}

// RunSummary counts a run's outcomes.
type RunSummary struct {
	Operations int            `json:"operations"`
	ByResult   map[string]int `json:"by_result"`
	Failed     int            `json:"failed"`
	CameBack   int            `json:"came_back"`
	Done       bool           `json:"done"`
}

// Start moves an approved campaign to remediating and queues its plan's
// operations. It enforces the blast-radius guard.
func (x *Executor) Start(ctx context.Context, id int64) error {
	c, err := x.Store.GetCampaign(ctx, id)
	if err != nil {
		return err
	}
	if c.State == StateRemediating || c.State == StateDone {
		return nil
	}
	if c.State != StateApproved {
		return fmt.Errorf("campaign %d is %s: only an approved plan is executed: %w", c.ID, c.State, ErrForbidden)
	}
	plan, err := x.Store.Plan(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckApprovedPlan(ctx, x.Store, c, plan); err != nil {
		return err // the plan is not the one closed and approved
	}
	if err := x.checkBlastRadius(ctx, c, plan); err != nil {
		return err
	}
	if _, err := x.Ops.QueueOperations(ctx, id, plan); err != nil {
		return err
	}
	next := *c
	next.State = StateRemediating
	err = x.Store.MoveCampaign(ctx, &next, StateApproved, Event{At: x.now(), CampaignID: id, Type: "remediation.started",
		Actor: System, Detail: map[string]any{"dry_run": x.DryRun, "worker": x.Worker}})
	if errors.Is(err, ErrConflict) {
		return nil // another executor started it
	}
	return err
}

// checkBlastRadius refuses a large plan that lacks the extra approval.
func (x *Executor) checkBlastRadius(ctx context.Context, c *Campaign, plan []PlanItem) error {
	why, err := BlastRadius(ctx, x.Store, c, plan, x.MaxOperations, x.MaxGroupShare)
	if err != nil || why == "" {
		return err
	}
	approvals, err := x.Store.Approvals(ctx, c.ID)
	if err != nil {
		return err
	}
	n := 0
	for _, a := range approvals {
		if a.Decision == "approve" {
			n++
		}
	}
	if n > c.Definition.Approval.Required {
		return nil
	}
	return fmt.Errorf("blast radius: %s; one more approval is needed (%d of %d): %w", why, n, c.Definition.Approval.Required+1, ErrForbidden)
}

// BlastRadius says why a plan is large enough to need one more approval
// than its definition asks ("" when it is not): more operations than
// maxOps, or removing more than maxShare of one group's members.
func BlastRadius(ctx context.Context, st Store, c *Campaign, plan []PlanItem, maxOps int, maxShare float64) (string, error) {
	ops, perGroup := 0, map[string]int{}
	for _, p := range plan {
		if p.IsOperation() {
			ops++
			if p.Kind == OpRemoveMembership {
				perGroup[p.GroupID]++
			}
		}
	}
	if maxOps > 0 && ops > maxOps {
		return fmt.Sprintf("%d operations exceed the limit of %d", ops, maxOps), nil
	}
	if maxShare <= 0 || len(perGroup) == 0 {
		return "", nil
	}
	snap, err := st.LoadSnapshot(ctx, c.SnapshotID)
	if err != nil {
		return "", err
	}
	members := map[string]int{}
	for _, m := range snap.Memberships {
		if perGroup[m.GroupID] > 0 {
			members[m.GroupID]++
		}
	}
	// In group id order, so the same plan always gives the same answer.
	groups := make([]string, 0, len(perGroup))
	for g := range perGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		if n := perGroup[g]; members[g] > 0 && float64(n)/float64(members[g]) > maxShare {
			return fmt.Sprintf("removing %d of the %d members of group %s exceeds %.0f%%", n, members[g], g, 100*maxShare), nil
		}
	}
	return "", nil
}

// Tick starts every approved campaign and runs every remediating one.
func (x *Executor) Tick(ctx context.Context) error {
	var errs []error
	for _, st := range []State{StateApproved, StateRemediating} {
		list, err := x.Store.ListCampaigns(ctx, st)
		if err != nil {
			return err
		}
		for _, c := range list {
			if err := x.Start(ctx, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("campaign %d: %w", c.ID, err))
				continue
			}
			if _, err := x.Run(ctx, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("campaign %d: %w", c.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}
