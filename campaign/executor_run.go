package campaign

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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

// sinkKey carries the run's finisher channel in the context.
type sinkKey struct{}

// job is one claimed operation for a worker; done, when set, is called
// once the worker is through with it.
type job struct {
	op   *Operation
	done func(*Operation)
}

// removalGate tracks one user's membership removals in a run of jobs.
type removalGate struct {
	wg      sync.WaitGroup
	retried atomic.Bool // a removal went back to pending for a retry
}

// finished records that a worker is through with a removal: a job still
// running was released for a retry (or the run is stopping).
func (g *removalGate) finished(op *Operation) {
	if op.State == OpRunning {
		g.retried.Store(true)
	}
	g.wg.Done()
}

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
	jobs := make(chan job, 2*workers)
	results := make(chan finished, 4*workers)
	wctx := context.WithValue(ctx, sinkKey{}, (chan<- finished)(results))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				x.execute(wctx, c, j.op)
				if j.done != nil {
					j.done(j.op)
				}
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
	// Okta refuses to unassign an app while a membership grants it, and a
	// plan numbers each user's removals before their unassignments: an
	// unassignment waits here until the removals of its user sent before
	// it are finished; when one of them was released for a retry, the
	// unassignment goes back too, to follow it in a later claim.
	removals := map[string]*removalGate{}
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
			j := job{op: &batch[i]}
			switch j.op.Kind {
			case OpRemoveMembership:
				g := removals[j.op.UserID]
				if g == nil {
					g = &removalGate{}
					removals[j.op.UserID] = g
				}
				g.retried.Store(false)
				g.wg.Add(1)
				j.done = g.finished
			case OpUnassignApp:
				if g := removals[j.op.UserID]; g != nil {
					g.wg.Wait()
					if g.retried.Load() {
						_ = x.Ops.ReleaseOperation(context.WithoutCancel(ctx), c.ID, j.op.Seq, x.Worker)
						continue
					}
				}
			}
			jobs <- j
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
	n, err := x.Ops.OpenOperations(ctx, id)
	if err != nil {
		return 0
	}
	return n
}
