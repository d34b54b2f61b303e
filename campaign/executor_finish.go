package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
		// Delivery problems are the notifier's to report; they never block a run.
		_ = x.Notifier.Notify(ctx, Notification{Kind: NoteRemediated, CampaignID: c.ID, Campaign: c.Name, Text: runReport(sum, ops)})
		// Every removal is done and read back: the control owner signs off.
		if c.OwnerID != "" {
			_ = x.Notifier.Notify(ctx, Notification{Kind: NoteSignOff, To: c.OwnerID, CampaignID: c.ID, Campaign: c.Name,
				Key: fmt.Sprintf("signoff:%d", c.ID)})
		}
	}
	return sum, nil
}

// runReport is the people-facing summary of a run: counts by result, then
// every failed, skipped or returned operation with its reason.
func runReport(sum RunSummary, ops []Operation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Remediation finished: %d operations", sum.Operations)
	for _, r := range []string{ResultRemoved, ResultAlreadyGone, ResultWouldRemove, ResultChanged, ResultProtected, ResultFailed} {
		if n := sum.ByResult[r]; n > 0 {
			fmt.Fprintf(&b, ", %d %s", n, strings.ReplaceAll(r, "_", " "))
		}
	}
	if sum.CameBack > 0 {
		fmt.Fprintf(&b, "; %d came back after removal (a group rule or provisioning source re-grants them)", sum.CameBack)
	}
	b.WriteString(".")
	listed := 0
	for _, op := range ops {
		if op.State == OpDone && op.Verified != VerifiedCameBack {
			continue
		}
		if listed == 20 {
			b.WriteString("\n…")
			break
		}
		listed++
		target := op.GroupID
		if op.Kind == OpUnassignApp {
			target = op.AppID
		}
		fmt.Fprintf(&b, "\n#%d %s %s %s: %s", op.Seq, op.Kind, op.UserID, target, op.Result)
		if op.Verified == VerifiedCameBack {
			b.WriteString(" (came back)")
		}
		if op.ErrorCode != "" || op.ErrorSummary != "" {
			fmt.Fprintf(&b, " — %s %s", op.ErrorCode, op.ErrorSummary)
		}
	}
	return b.String()
}
