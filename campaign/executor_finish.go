package campaign

import (
	"context"
	"errors"
	"fmt"
)

// finish reads every removal back (access that came back through a group
// rule or a provisioning source is reported, not called done) and closes
// the run: the campaign moves to done once no job is pending or running.
func (x *Executor) finish(ctx context.Context, c *Campaign) (RunSummary, error) {
	ops, err := x.Ops.Operations(ctx, c.ID)
	if err != nil {
		return RunSummary{}, err
	}
	sum := RunSummary{Operations: len(ops), ByResult: map[string]int{}}
	open := 0
	for i := range ops {
		op := &ops[i]
		switch op.State {
		case OpPending, OpRunning:
			open++
			continue
		case OpFailed:
			sum.Failed++
		}
		sum.ByResult[op.Result]++
		if op.Result == ResultRemoved && op.Verified == "" {
			present, err := x.present(ctx, op)
			if err != nil {
				return sum, fmt.Errorf("read back operation %d: %w", op.Seq, err)
			}
			op.Verified = VerifiedGone
			if present {
				op.Verified = VerifiedCameBack
			}
			if err := x.Ops.SetVerified(ctx, c.ID, op.Seq, op.Verified); err != nil {
				return sum, err
			}
		}
		if op.Verified == VerifiedCameBack {
			sum.CameBack++
		}
	}
	if open > 0 {
		return sum, nil
	}
	next := *c
	next.State = StateDone
	err = x.Store.MoveCampaign(ctx, &next, StateRemediating, Event{At: x.now(), CampaignID: c.ID, Type: "remediation.finished",
		Actor: System, Detail: map[string]any{"by_result": sum.ByResult, "failed": sum.Failed, "came_back": sum.CameBack}})
	if err != nil && !errors.Is(err, ErrConflict) {
		return sum, err
	}
	sum.Done = true
	if err == nil && x.Notifier != nil {
		text := fmt.Sprintf("Remediation finished: %v; %d failed, %d came back", sum.ByResult, sum.Failed, sum.CameBack)
		if nerr := x.Notifier.Notify(ctx, Notification{Kind: NoteRemediated, CampaignID: c.ID, Campaign: c.Name, Text: text}); nerr != nil {
			_ = nerr // delivery problems never block a run
		}
	}
	return sum, nil
}
