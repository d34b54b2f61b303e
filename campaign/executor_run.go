package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Run executes a remediating campaign's pending operations until none is
// left, then reads every removal back and moves the campaign to done. Jobs
// left running by a stopped executor (past the lease) are settled first by
// reading Okta: a removal that happened is recorded, never sent twice.
func (x *Executor) Run(ctx context.Context, id int64) (RunSummary, error) {
	if x.Lease <= 0 {
		x.Lease = 2 * time.Minute
	}
	if x.MaxAttempts <= 0 {
		x.MaxAttempts = 5
	}
	if x.Backoff == nil {
		x.Backoff = func(n int) time.Duration { return time.Duration(1<<min(n, 5)) * time.Second }
	}
	c, err := x.Store.GetCampaign(ctx, id)
	if err != nil {
		return RunSummary{}, err
	}
	if c.State != StateRemediating {
		return RunSummary{}, fmt.Errorf("campaign %d is %s, not remediating: %w", id, c.State, ErrConflict)
	}
	if err := x.recover(ctx, c); err != nil {
		return RunSummary{}, err
	}
	// Jobs released for a retry go back to pending: pass again until a
	// pass finds nothing to do.
	for {
		n, err := x.runJobs(ctx, c)
		if err != nil {
			return RunSummary{}, err
		}
		if n == 0 {
			break
		}
	}
	return x.finish(ctx, c)
}

// recover settles jobs whose executor stopped mid-way.
func (x *Executor) recover(ctx context.Context, c *Campaign) error {
	stuck, err := x.Ops.StuckOperations(ctx, c.ID, x.now().Add(-x.Lease))
	if err != nil {
		return err
	}
	for i := range stuck {
		op := &stuck[i]
		present, err := x.present(ctx, op)
		if err != nil {
			return fmt.Errorf("re-check operation %d after a restart: %w", op.Seq, err)
		}
		if present {
			if err := x.Ops.ReleaseOperation(ctx, c.ID, op.Seq, op.ClaimedBy); err != nil {
				return err
			}
			continue
		}
		result, note := ResultRemoved, "confirmed removed after a restart"
		if op.Kind == OpAddMembership {
			result, note = ResultAdded, "confirmed added after a restart"
		}
		if err := x.finishOp(ctx, c, op, OpDone, result, nil, note); err != nil &&
			!errors.Is(err, ErrConflict) {
			return err
		}
	}
	return nil
}

// present reads Okta: does the access the job removes still exist?
func (x *Executor) present(ctx context.Context, op *Operation) (bool, error) {
	if op.Kind == OpAddMembership {
		// For an addition "the job's effect is missing" is the question.
		in, err := x.Okta.HasMembership(ctx, op.UserID, op.GroupID)
		return !in, err
	}
	if op.Kind == OpRemoveMembership {
		return x.Okta.HasMembership(ctx, op.UserID, op.GroupID)
	}
	scope, found, err := x.Okta.AppAssignment(ctx, op.AppID, op.UserID)
	return found && scope == ScopeUser, err
}

// execute performs one claimed job.
func (x *Executor) execute(ctx context.Context, c *Campaign, op *Operation) {
	if op.Kind == OpAddMembership {
		x.executeAdd(ctx, c, op)
		return
	}
	if yes, why := x.protected(ctx, c, op); yes {
		_ = x.finishOp(ctx, c, op, OpSkipped, ResultProtected, nil, why+": attest never changes it")
		return
	}
	// Check against Okta now: access that changed since the snapshot is
	// reported, not removed blindly.
	switch op.Kind {
	case OpRemoveMembership:
		in, err := x.Okta.HasMembership(ctx, op.UserID, op.GroupID)
		if err != nil {
			x.retryOrFail(ctx, c, op, err)
			return
		}
		if !in {
			_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyGone, nil, "")
			return
		}
	case OpUnassignApp:
		scope, found, err := x.Okta.AppAssignment(ctx, op.AppID, op.UserID)
		if err != nil {
			x.retryOrFail(ctx, c, op, err)
			return
		}
		if !found {
			_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyGone, nil, "")
			return
		}
		if scope != ScopeUser {
			_ = x.finishOp(ctx, c, op, OpSkipped, ResultChanged, nil, "the app is now granted only through groups")
			return
		}
	default:
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, fmt.Errorf("unknown operation %q: %w", op.Kind, ErrInvalid), "")
		return
	}
	if x.DryRun {
		_ = x.finishOp(ctx, c, op, OpDone, ResultWouldRemove, nil, "dry run: not removed")
		return
	}
	var err error
	if op.Kind == OpRemoveMembership {
		err = x.Okta.RemoveMembership(ctx, op.UserID, op.GroupID)
	} else {
		err = x.Okta.UnassignApp(ctx, op.UserID, op.AppID)
	}
	switch {
	case ctx.Err() != nil:
		// Stopping: the write may or may not have happened. The job stays
		// claimed; the next run re-reads Okta before anything else.
		return
	case err == nil:
		_ = x.finishOp(ctx, c, op, OpDone, ResultRemoved, nil, "")
	case errors.Is(err, ErrNotFound):
		_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyGone, nil, "")
	case errors.Is(err, ErrTransient):
		// The write may have reached Okta: read before sending it again.
		if present, rerr := x.present(ctx, op); rerr == nil && !present {
			_ = x.finishOp(ctx, c, op, OpDone, ResultRemoved, nil, "removed (confirmed by re-reading after an error)")
			return
		}
		x.retryOrFail(ctx, c, op, err)
	default:
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, err, "")
	}
}

// retryOrFail releases a job for another try after a backoff, or fails it
// once it has used its attempts.
func (x *Executor) retryOrFail(ctx context.Context, c *Campaign, op *Operation, err error) {
	if ctx.Err() != nil {
		return // stopping: the next run takes the job over
	}
	if !errors.Is(err, ErrTransient) || op.Attempts >= x.MaxAttempts {
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, err, "")
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(x.Backoff(op.Attempts)):
	}
	_ = x.Ops.ReleaseOperation(context.WithoutCancel(ctx), c.ID, op.Seq, x.Worker)
}

// finishOp records a job's outcome with its evidence, through the run's
// batching finisher when one is running, else at once.
func (x *Executor) finishOp(ctx context.Context, c *Campaign, op *Operation, state, result string, err error, note string) error {
	op.State, op.Result, op.FinishedAt = state, result, x.now()
	if err != nil {
		op.ErrorCode, op.ErrorSummary = errorCode(err)
	}
	detail := map[string]any{"seq": op.Seq, "kind": op.Kind, "user": op.UserID, "group": op.GroupID, "app": op.AppID,
		"result": result, "dry_run": x.DryRun}
	if note != "" {
		detail["note"] = note
	}
	if err != nil {
		detail["error"] = err.Error()
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

// errorCode pulls Okta's "(E0000006)" code, and the summary before it, out
// of an error message.
func errorCode(err error) (string, string) {
	msg := err.Error()
	i := strings.LastIndex(msg, " (E")
	if i < 0 {
		return "", msg
	}
	j := strings.Index(msg[i:], ")")
	if j < 0 {
		return "", msg
	}
	start := strings.LastIndex(msg[:i], ": ") + 2
	if start < 2 {
		start = 0
	}
	return msg[i+2 : i+j], msg[start:i]
}

// sinkKey carries the run's finisher channel in the context.
type sinkKey struct{}

// finished is one outcome waiting to be written.
type finished struct {
	op *Operation
	ev Event
}

// runJobs claims jobs in batches, runs them on the workers, and writes their
// outcomes in batches: a few write transactions per hundred operations
// instead of several per operation.
func (x *Executor) runJobs(ctx context.Context, c *Campaign) (int, error) {
	workers := x.Workers
	if workers <= 0 {
		workers = 4
	}
	jobs := make(chan *Operation, 2*workers)
	results := make(chan finished, 4*workers)
	wctx := context.WithValue(ctx, sinkKey{}, (chan<- finished)(results))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range jobs {
				x.execute(wctx, c, op)
			}
		}()
	}
	// The finisher writes outcomes in batches of up to 100, or every 200 ms,
	// and reports progress: to Progress at each batch, to the notifier at
	// each quarter of the run.
	total := x.openJobs(ctx, c.ID)
	ferr := make(chan error, 1)
	go func() {
		var ops []*Operation
		var evs []Event
		var first error
		done, quarter := 0, 0
		flush := func() {
			if len(ops) == 0 {
				return
			}
			if _, err := x.Ops.FinishOperations(context.WithoutCancel(ctx), ops, evs); err != nil && first == nil {
				first = err
			}
			done += len(ops)
			ops, evs = ops[:0], evs[:0]
			if x.Progress != nil {
				x.Progress(Progress{Phase: "removals", Done: done, Total: total})
			}
			if q := 4 * done / max(total, 1); q > quarter && q < 4 && x.Notifier != nil {
				quarter = q
				_ = x.Notifier.Notify(context.WithoutCancel(ctx), Notification{Kind: NoteRemediating, CampaignID: c.ID, Campaign: c.Name,
					Answered: done, Total: total, Text: fmt.Sprintf("Removals in progress: %d of %d done.", done, total)})
			}
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case r, ok := <-results:
				if !ok {
					flush()
					ferr <- first
					return
				}
				ops, evs = append(ops, r.op), append(evs, r.ev)
				if len(ops) >= 100 {
					flush()
				}
			case <-tick.C:
				flush()
			}
		}
	}()
	var claimErr error
	claimed := 0
	for ctx.Err() == nil {
		batch, err := x.Ops.ClaimOperations(ctx, c.ID, x.Worker, x.now(), 4*workers)
		if err != nil {
			claimErr = err
			break
		}
		if len(batch) == 0 {
			break
		}
		claimed += len(batch)
		for i := range batch {
			jobs <- &batch[i]
		}
	}
	close(jobs)
	wg.Wait()
	close(results)
	if err := <-ferr; err != nil {
		return claimed, err
	}
	if claimErr != nil {
		return claimed, claimErr
	}
	return claimed, ctx.Err()
}

// openJobs counts a campaign's pending and running jobs, for progress.
func (x *Executor) openJobs(ctx context.Context, id int64) int {
	ops, err := x.Ops.Operations(ctx, id)
	if err != nil {
		return 0
	}
	n := 0
	for _, op := range ops {
		if op.State == OpPending || op.State == OpRunning {
			n++
		}
	}
	return n
}

// executeAdd performs an approved quarantine: the user joins the group.
// Protected users are never touched; a user already in the group is
// recorded as such.
func (x *Executor) executeAdd(ctx context.Context, c *Campaign, op *Operation) {
	users := keySet(append(append([]string{}, x.ProtectedUsers...), c.Definition.Remediation.ProtectedUsers...))
	if users[strings.ToLower(op.UserID)] {
		_ = x.finishOp(ctx, c, op, OpSkipped, ResultProtected, nil, "protected user: attest never changes their access")
		return
	}
	in, err := x.Okta.HasMembership(ctx, op.UserID, op.GroupID)
	if err != nil {
		x.retryOrFail(ctx, c, op, err)
		return
	}
	if in {
		_ = x.finishOp(ctx, c, op, OpDone, ResultAlreadyDone, nil, "already in the group")
		return
	}
	if x.DryRun {
		_ = x.finishOp(ctx, c, op, OpDone, ResultWouldRemove, nil, "dry run: not added")
		return
	}
	err = x.Okta.AddMembership(ctx, op.UserID, op.GroupID)
	switch {
	case ctx.Err() != nil:
		return
	case err == nil:
		_ = x.finishOp(ctx, c, op, OpDone, ResultAdded, nil, "")
	case errors.Is(err, ErrTransient):
		if in, rerr := x.Okta.HasMembership(ctx, op.UserID, op.GroupID); rerr == nil && in {
			_ = x.finishOp(ctx, c, op, OpDone, ResultAdded, nil, "added (confirmed by re-reading after an error)")
			return
		}
		x.retryOrFail(ctx, c, op, err)
	default:
		_ = x.finishOp(ctx, c, op, OpFailed, ResultFailed, err, "")
	}
}
