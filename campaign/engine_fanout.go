package campaign

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// A stage's forms go out one person at a time after the stage change is
// committed. A process that dies part-way (kill -9, OOM, a lost node)
// would leave the people after that point without a form, so the fan-out
// ends with an audit entry (FormsQueuedType) and the leader's tick
// resumes every open stage whose entry is missing. Each form carries a
// key per (campaign, stage, person) and the notifier queues one message
// per key and page, so a resumed fan-out queues only what is missing.

// fanOutLease is how long after a stage starts the tick leaves its
// fan-out to the process that started it before resuming it itself.
const fanOutLease = 2 * time.Minute

// FormsQueuedType is the audit event type recording that every form of
// a stage (stage1, stage2 or stage3) was queued.
func FormsQueuedType(stage State) string { return "forms.queued." + string(stage) }

// FormKey is the delivery key of a person's form at the start of a
// stage: the notifier queues one message per key and form page.
func FormKey(campaignID int64, stage State, to string) string {
	return "forms:" + strconv.FormatInt(campaignID, 10) + ":" + string(stage) + ":" + to
}

// EventChecker is offered by a store that can tell, with one indexed
// query, whether a campaign's audit log holds an event of a type (the
// store package does); without it the engine reads the campaign's events.
type EventChecker interface {
	HasEvent(ctx context.Context, campaignID int64, typ string) (bool, error)
}

// hasEvent reports whether campaign id has an audit event of type typ.
func (e *Engine) hasEvent(ctx context.Context, id int64, typ string) (bool, error) {
	if ec, ok := e.Store.(EventChecker); ok {
		return ec.HasEvent(ctx, id, typ)
	}
	evs, err := e.Store.Events(ctx, id)
	if err != nil {
		return false, err
	}
	for _, ev := range evs {
		if ev.Type == typ {
			return true, nil
		}
	}
	return false, nil
}

// fanOut is how one stage's form fan-out went: the people told, those
// the notifier refused, and the error that stopped it before the end.
type fanOut struct {
	people, failed int
	err            error
}

// deliverForm hands one stage form to the notifier and counts it.
func (e *Engine) deliverForm(ctx context.Context, f *fanOut, n Notification) {
	if err := e.deliver(ctx, n); err != nil {
		f.failed++
		return
	}
	f.people++
}

// recordFanOut appends the stage's FormsQueuedType entry when every form
// was queued; otherwise nothing, so the tick tries again. It returns the
// store's error.
func (e *Engine) recordFanOut(ctx context.Context, c *Campaign, stage State, f fanOut, now time.Time, resumed bool) error {
	if f.err != nil || f.failed > 0 || ctx.Err() != nil {
		return nil
	}
	d := map[string]any{"stage": string(stage), "people": f.people}
	if resumed {
		d["resumed"] = true
	}
	if err := e.Store.AppendEvent(ctx, Event{At: now, CampaignID: c.ID, Type: FormsQueuedType(stage), Actor: System, Detail: d}); err != nil {
		return fmt.Errorf("record %s forms queued: %w", stage, err)
	}
	return nil
}

// fanOutStage names one stage of one campaign.
type fanOutStage struct {
	id    int64
	stage State
}

// stageStart is when the campaign's current stage began.
func stageStart(c *Campaign) time.Time {
	switch c.State {
	case StateStage2:
		return c.Stage2Started
	case StateStage3:
		return c.Stage3Started
	}
	return c.CreatedAt
}

// resumeFanOut queues the forms of c's current stage again when its
// fan-out has no FormsQueuedType entry and began more than fanOutLease
// ago, then records it. Forms already queued are not queued twice (see
// FormKey). It returns the store's error.
func (e *Engine) resumeFanOut(ctx context.Context, c *Campaign, now time.Time) error {
	if !c.State.Open() || now.Sub(stageStart(c)) < fanOutLease {
		return nil
	}
	seen := fanOutStage{c.ID, c.State}
	if _, ok := e.fannedOut.Load(seen); ok {
		return nil
	}
	done, err := e.hasEvent(ctx, c.ID, FormsQueuedType(c.State))
	if err != nil {
		return err
	}
	if done {
		e.fannedOut.Store(seen, true)
		return nil
	}
	var f fanOut
	switch c.State {
	case StateStage1:
		f = e.notifyMembers(ctx, c)
	case StateStage2:
		f = e.notifyReviewers(ctx, c, NoteReviewerForm)
	case StateStage3:
		var st *ownerStage
		cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{Kind: KindApp})
		if err == nil {
			st, err = e.ownerStageOf(ctx, c, cases)
		}
		if err != nil {
			return err
		}
		f = e.notifyOwners(ctx, c, st, NoteOwnerForm)
	}
	if f.err != nil {
		return f.err
	}
	return e.recordFanOut(ctx, c, c.State, f, now, true)
}
