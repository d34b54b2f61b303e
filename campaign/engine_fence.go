package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrStageEnded is the conflict of a write refused because its campaign
// left the state the write belongs to (a stage ended, a close began): the
// store checks the state in the transaction that writes, and returns this
// (errors.Is(err, ErrConflict) holds too).
var ErrStageEnded = fmt.Errorf("the campaign's stage has ended: %w", ErrConflict)

// stageEnded is the refusal of a late answer: a conflict whose sentence
// says which stage ended and that nothing was recorded. own says whether
// the answer is the member's own (a stage-1 answer) or a reviewer's.
func stageEnded(c *Campaign, own bool, cause error) error {
	stage := 2
	if own || c.State == StateStage1 {
		stage = 1
	}
	if cause == nil {
		cause = fmt.Errorf("campaign %d is %s: answers are no longer accepted: %w", c.ID, c.State, ErrStageEnded)
	} else if !errors.Is(cause, ErrConflict) {
		cause = fmt.Errorf("%w: %w", cause, ErrStageEnded)
	}
	return &Error{Code: EConflict, Message: fmt.Sprintf("this campaign's stage %d has ended; your answer was not recorded", stage), Err: cause}
}

// MemberStage reports whether the case's member is asked in stage 1: not
// when their account was suspended or deprovisioned at launch (the case is
// flagged orphaned), since nobody can answer for it; such a case goes
// straight to its reviewer.
func (c *CaseRecord) MemberStage() bool { return c.Flags&FlagOrphaned == 0 }

// member finds a member of the campaign (by Okta id, login or email): in
// the reviewed snapshot, where their cases are, else in the latest one
// (a member renamed since launch, named by their new email).
func (e *Engine) member(ctx context.Context, c *Campaign, name string) (User, error) {
	u, err := e.userByName(ctx, c.SnapshotID, name)
	if !errors.Is(err, ErrNotFound) {
		return u, err
	}
	latest, lerr := e.Store.LatestSnapshot(ctx)
	if lerr != nil || latest.ID == c.SnapshotID {
		return u, err
	}
	now, lerr := e.userByName(ctx, latest.ID, name)
	if lerr != nil {
		return u, err
	}
	return e.userByID(ctx, c.SnapshotID, now.ID)
}

// closeLease is how long a close may stay in StateClosing before Tick
// takes it to be interrupted (the process died) and finishes it.
const closeLease = 10 * time.Minute

// fenceClose moves an open campaign to StateClosing by compare-and-swap,
// so that from this instant no answer, delegation or escalation commits;
// the plan computed afterwards covers every answer recorded. A campaign
// already closing is returned as is (an interrupted close being finished).
// It returns ErrConflict when someone else began closing, closed or
// cancelled it meanwhile.
func (e *Engine) fenceClose(ctx context.Context, c *Campaign, actor Actor, now time.Time, why string) (*Campaign, error) {
	if c.State == StateClosing {
		return c, nil
	}
	for attempt := 0; attempt < 3; attempt++ {
		if !c.State.Open() {
			break
		}
		next := *c
		next.State, next.ClosedAt = StateClosing, now
		err := e.Store.MoveCampaign(ctx, &next, c.State, Event{At: now, CampaignID: c.ID, Type: "campaign.closing", Actor: actor,
			Detail: actor.stamp(map[string]any{"from": string(c.State), "note": why})})
		if err == nil {
			return &next, nil
		}
		if !errors.Is(err, ErrConflict) {
			return c, err
		}
		// Someone moved it first: after a stage change, try again.
		if c, err = e.Store.GetCampaign(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return c, fmt.Errorf("campaign %d is already %s: %w", c.ID, c.State, ErrConflict)
}
