package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// execute performs one claimed job: the guard, a fresh read of Okta (access
// that changed since the snapshot is reported, not changed blindly), the
// write, and the settling of its answer.
func (x *Executor) execute(ctx context.Context, c *Campaign, op *Operation) {
	why, err := x.guard(ctx, c, op)
	if err != nil {
		x.retryOrFail(ctx, c, op, err)
		return
	}
	if why != "" {
		_ = x.finishOp(ctx, c, op, OpSkipped, ResultProtected, nil, why)
		return
	}
	if done, err := x.precheck(ctx, c, op); err != nil {
		x.retryOrFail(ctx, c, op, err)
		return
	} else if done {
		return
	}
	if x.DryRun {
		note := "dry run: not removed"
		if op.Kind == OpAddMembership {
			note = "dry run: not added"
		}
		_ = x.finishOp(ctx, c, op, OpDone, ResultWouldRemove, nil, note)
		return
	}
	switch op.Kind {
	case OpRemoveMembership:
		err = x.Okta.RemoveMembership(ctx, op.UserID, op.GroupID)
	case OpUnassignApp:
		err = x.Okta.UnassignApp(ctx, op.UserID, op.AppID)
	case OpAddMembership:
		err = x.Okta.AddMembership(ctx, op.UserID, op.GroupID)
	}
	x.settle(ctx, c, op, err)
}

// precheck reads Okta before the write and finishes the job when there is
// nothing to do: the access is already gone (or, for an addition, already
// there), or an app is now granted only through groups.
func (x *Executor) precheck(ctx context.Context, c *Campaign, op *Operation) (finished bool, err error) {
	switch op.Kind {
	case OpRemoveMembership, OpAddMembership:
		in, err := x.Okta.HasMembership(ctx, op.UserID, op.GroupID)
		switch {
		case err != nil:
			return false, err
		case op.Kind == OpRemoveMembership && !in:
			_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyGone, nil, "")
			return true, nil
		case op.Kind == OpAddMembership && in:
			_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyDone, nil, "already in the group")
			return true, nil
		}
	case OpUnassignApp:
		scope, found, err := x.Okta.AppAssignment(ctx, op.AppID, op.UserID)
		switch {
		case err != nil:
			return false, err
		case !found:
			_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyGone, nil, "")
			return true, nil
		case scope != ScopeUser:
			_ = x.finishOp(ctx, c, op, OpSkipped, ResultChanged, nil, "the app is now granted only through groups")
			return true, nil
		}
	}
	return false, nil
}

// settle records what a write's answer means. Only ErrTransient is tried
// again, and only after reading Okta; a "not found" is confirmed by reading
// the access back (a scoped admin gets 404 for users outside its scope, so
// it is no proof the access is gone); every other refusal is permanent.
func (x *Executor) settle(ctx context.Context, c *Campaign, op *Operation, err error) {
	done := ResultRemoved
	if op.Kind == OpAddMembership {
		done = ResultAdded
	}
	switch {
	case ctx.Err() != nil:
		// Stopping: the write may or may not have happened. The job stays
		// claimed; the next run re-reads Okta before anything else.
		return
	case err == nil:
		_ = x.finishOp(ctx, c, op, OpDone, done, nil, "")
	case errors.Is(err, ErrTransient):
		// The write may have reached Okta: read before sending it again.
		if missing, rerr := x.present(ctx, op); rerr == nil && !missing {
			_ = x.finishOp(ctx, c, op, OpDone, done, nil, "confirmed by re-reading Okta after an error")
			return
		}
		x.retryOrFail(ctx, c, op, err)
	case errors.Is(err, ErrNotFound) && op.Kind != OpAddMembership:
		x.settleNotFound(ctx, c, op, err)
	case errors.Is(err, ErrConflict) && op.Kind == OpUnassignApp:
		x.settleGroupGranted(ctx, c, op, err)
	default:
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, err, "")
	}
}

// settleNotFound reads the access back after Okta answered a removal 404.
func (x *Executor) settleNotFound(ctx context.Context, c *Campaign, op *Operation, err error) {
	there, rerr := x.present(ctx, op)
	switch {
	case rerr != nil:
		x.retryOrFail(ctx, c, op, rerr)
	case !there:
		_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyGone, nil, "Okta answered not found, and reading back shows the access gone")
	default:
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, fmt.Errorf("%w: %w", ErrForbidden, err),
			"Okta answered not found, but reading back shows the access still there: the admin behind the token "+
				"probably cannot change this user or group (a scoped admin gets 404 outside its scope)")
	}
}

// settleGroupGranted handles Okta's refusal to unassign an app a group
// membership still grants (E0000046): while a removal of the user's
// memberships in this plan is still to run, the job waits for it;
// otherwise the refusal is permanent.
func (x *Executor) settleGroupGranted(ctx context.Context, c *Campaign, op *Operation, err error) {
	open, oerr := x.openRemovals(ctx, c.ID, op.UserID)
	if oerr != nil {
		x.retryOrFail(ctx, c, op, oerr)
		return
	}
	if open > 0 {
		x.retryOrFail(ctx, c, op, fmt.Errorf("%w: waiting for %d removal(s) of the user's memberships: %w", ErrTransient, open, err))
		return
	}
	_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, err,
		"a group membership still grants the app: remove it (the plan lists it as a conflict or manual item), then retry")
}

// openRemovals counts a user's membership removals of the campaign still
// pending or running.
func (x *Executor) openRemovals(ctx context.Context, campaignID int64, userID string) (int, error) {
	ops, err := x.Ops.Operations(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range ops {
		if o.Kind == OpRemoveMembership && o.UserID == userID && (o.State == OpPending || o.State == OpRunning) {
			n++
		}
	}
	return n, nil
}

// retryOrFail releases a job for another try after a backoff, or fails it
// once it has used its attempts. Only ErrTransient is tried again.
func (x *Executor) retryOrFail(ctx context.Context, c *Campaign, op *Operation, err error) {
	if ctx.Err() != nil {
		return // stopping: the next run takes the job over
	}
	if !errors.Is(err, ErrTransient) {
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, err, "")
		return
	}
	if op.Attempts >= x.MaxAttempts {
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, err, fmt.Sprintf("still failing after %d attempts", op.Attempts))
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(x.Backoff(op.Attempts)):
	}
	_ = x.Ops.ReleaseOperation(context.WithoutCancel(ctx), c.ID, op.Seq, x.Worker)
}

// finishOp records a job's outcome with its evidence, through the run's
// batching finisher when one is running, else at once. A failed job keeps
// the vendor's code and summary, read from the error's fields.
func (x *Executor) finishOp(ctx context.Context, c *Campaign, op *Operation, state, result string, err error, note string) error {
	op.State, op.Result, op.FinishedAt = state, result, x.now()
	switch {
	case err != nil:
		op.ErrorCode, op.ErrorSummary = vendorFields(err, note)
	case state == OpSkipped:
		op.ErrorSummary = note // why it was not done, for the report
	}
	detail := map[string]any{"seq": op.Seq, "kind": op.Kind, "user": op.UserID, "group": op.GroupID, "app": op.AppID,
		"result": result, "dry_run": x.DryRun}
	if note != "" {
		detail["note"] = note
	}
	if err != nil {
		detail["error"] = err.Error()
		if op.ErrorCode != "" {
			detail["error_code"] = op.ErrorCode
		}
	}
	ev := Event{At: op.FinishedAt, CampaignID: c.ID, Type: "operation." + state, Actor: Actor{Via: "executor", UserID: x.Worker}, Detail: detail}
	if sink, ok := ctx.Value(sinkKey{}).(chan<- finished); ok {
		sink <- finished{op, ev}
		return nil
	}
	lost, ferr := x.Ops.FinishOperations(context.WithoutCancel(ctx), []*Operation{op}, []Event{ev})
	if ferr == nil && len(lost) > 0 {
		return fmt.Errorf("operation %d was taken over by another executor: %w", op.Seq, ErrConflict)
	}
	return ferr
}
