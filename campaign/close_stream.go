package campaign

import (
	"context"
	"fmt"
	"time"
)

// caseStreamer is what a Store offers for a close that streams its cases
// instead of holding them all (see store.Store's EachCaseDecision and
// CloseCampaignCases). A Store without it is closed the old way.
type caseStreamer interface {
	// EachCaseDecision pages through a campaign's cases in id order,
	// filling only what Outcome, the owner stage and the plan read.
	EachCaseDecision(ctx context.Context, campaignID int64, pageSize int, fn func([]CaseRecord) error) error
	CloseCampaignCases(ctx context.Context, c *Campaign, from State, outcomes map[string][]int64,
		deciders map[int64]string, plan []PlanItem, ev Event) error
}

// closePage is how many cases a streamed close reads at a time.
const closePage = 10000

// closedCases is what a streamed close keeps of a campaign's cases: the
// ids of each outcome (ascending), the app owners who decided cases in
// stage 3 (they are the certification's decider), the counts, and what
// the plan reads of the cases it depends on.
type closedCases struct {
	outcomes map[string][]int64
	deciders map[int64]string
	counts   map[string]int
}

// streamPlan builds a close's plan from its cases as they are decided:
// once the reviewed snapshot is read (ready), each case the plan depends
// on goes straight into the planner and is not kept; the cases decided
// before that wait in buf. At a million revoked cases that is the
// difference between holding every case's plan fields and holding none.
type streamPlan struct {
	def   *Definition
	ready <-chan loadedSnapshot
	p     *planner
	buf   []PlanCase
	err   error
}

// loadedSnapshot is a snapshot read in the background, or why not.
type loadedSnapshot struct {
	snap *Snapshot
	err  error
}

// take hands one case to the planner, or keeps it until the snapshot is
// read.
func (sp *streamPlan) take(pc PlanCase) {
	if sp.p == nil && sp.err == nil {
		select {
		case l := <-sp.ready:
			sp.start(l)
		default:
		}
	}
	switch {
	case sp.err != nil:
	case sp.p == nil:
		sp.buf = append(sp.buf, pc)
	default:
		sp.p.take(&pc)
	}
}

// start makes the planner on a snapshot just read and hands it the cases
// waiting.
func (sp *streamPlan) start(l loadedSnapshot) {
	if l.err != nil {
		sp.err = l.err
		sp.buf = nil
		return
	}
	// The index keeps what the plan reads; the snapshot's relations are
	// garbage from here on.
	sp.p = newPlanner(planIndex(l.snap), sp.def)
	for i := range sp.buf {
		sp.p.take(&sp.buf[i])
	}
	sp.buf = nil
}

// finish waits for the snapshot when it is not read yet and returns the
// plan, or the error reading the snapshot.
func (sp *streamPlan) finish() ([]PlanItem, error) {
	if sp.p == nil && sp.err == nil {
		sp.start(<-sp.ready)
	}
	if sp.err != nil {
		return nil, sp.err
	}
	return sp.p.finish(), nil
}

// streamOutcomes decides every case's outcome, as close does, a page of
// cases at a time, handing the cases the plan depends on to sp (nil: a
// campaign that removes nothing).
func (e *Engine) streamOutcomes(ctx context.Context, c *Campaign, st caseStreamer, sp *streamPlan) (*closedCases, error) {
	def := c.Definition
	var dir *ownerDirectory
	if def.Stages.AppOwner.On() && (!c.Stage3Started.IsZero() || c.State == StateStage3) {
		d, err := e.ownerDirectory(ctx, c)
		if err != nil {
			return nil, err
		}
		dir = d
	}
	out := &closedCases{outcomes: map[string][]int64{}, deciders: map[int64]string{}, counts: map[string]int{}}
	err := st.EachCaseDecision(ctx, c.ID, closePage, func(page []CaseRecord) error {
		for i := range page {
			cs := &page[i]
			var v ownerVerdict
			if dir != nil && len(dir.owners[cs.EntitlementID]) > 0 && ownerCaseDue(def, cs) {
				v = ownerVerdictOf(def, cs)
			}
			cs.Outcome = Outcome(def, cs)
			v.apply(cs)
			out.outcomes[cs.Outcome] = append(out.outcomes[cs.Outcome], cs.ID)
			out.counts[cs.Outcome]++
			if v.by != "" && (cs.Outcome == OutcomeKept || cs.Outcome == OutcomeRevoked) {
				out.deciders[cs.ID] = v.by
			}
			if sp != nil {
				if pc, ok := PlanCaseOf(cs); ok {
					sp.take(pc)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ownerVerdictOf is the stage-3 verdict on a case due to its app's
// owners, as ownerOutcomes gives it.
func ownerVerdictOf(def *Definition, cs *CaseRecord) ownerVerdict {
	return verdictOf(def, cs.OwnerDecision, cs.OwnerDecidedBy)
}

// verdictOf is an owner's decision (or silence) as a case outcome: Revoke
// and Keep stand, silence follows remediation.no_decision.
func verdictOf(def *Definition, decision, by string) ownerVerdict {
	switch decision {
	case DecisionRevoke:
		return ownerVerdict{outcome: OutcomeRevoked, by: by}
	case DecisionKeep:
		return ownerVerdict{outcome: OutcomeKept, by: by}
	}
	if def.Remediation.NoDecision == DecisionRevoke {
		return ownerVerdict{outcome: OutcomeNoDecisionRevoked}
	}
	return ownerVerdict{outcome: OutcomeNoDecisionKept}
}

// closeStreamed is close for a Store that streams cases: the same
// outcomes, plan, history and events, holding the ids of the cases and
// what the plan needs of the revoked ones rather than every case.
func (e *Engine) closeStreamed(ctx context.Context, c *Campaign, st caseStreamer, actor Actor, now time.Time, why string,
	from State) (*Campaign, []PlanItem, error) {
	// The reviewed snapshot is read while the outcomes are decided: the
	// two reads overlap, and the plan is built as the cases come.
	var sp *streamPlan
	if c.Definition.Remediation.Mode == ModeRevoke {
		ready := make(chan loadedSnapshot, 1)
		go func() {
			snap, err := e.Store.LoadPlanSnapshot(ctx, c.SnapshotID)
			ready <- loadedSnapshot{snap, err}
		}()
		sp = &streamPlan{def: c.Definition, ready: ready}
	}
	cc, err := e.streamOutcomes(ctx, c, st, sp)
	if err != nil {
		return c, nil, err // the load, if any, ends on its own
	}
	var plan []PlanItem
	if sp != nil {
		if plan, err = sp.finish(); err != nil {
			return c, nil, fmt.Errorf("load reviewed snapshot %d: %w", c.SnapshotID, err)
		}
	}
	next, ev, ops := closedState(c, actor, now, why, from, cc.counts, plan)
	return e.finishClose(ctx, c, next, plan, ops, why, now,
		st.CloseCampaignCases(ctx, next, StateClosing, cc.outcomes, cc.deciders, plan, ev))
}
