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

// planSnapshotLoader is offered by a Store that can read only what a
// plan reads of a snapshot (see store.Store's LoadPlanSnapshot): its
// users, groups, apps, memberships, app-to-group assignments and direct
// app assignments.
type planSnapshotLoader interface {
	LoadPlanSnapshot(ctx context.Context, id int64) (*Snapshot, error)
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
	plan     []PlanCase
}

// streamOutcomes decides every case's outcome, as close does, a page of
// cases at a time.
func (e *Engine) streamOutcomes(ctx context.Context, c *Campaign, st caseStreamer) (*closedCases, error) {
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
			if def.Remediation.Mode == ModeRevoke {
				if pc, ok := PlanCaseOf(cs); ok {
					out.plan = append(out.plan, pc)
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
	// two reads overlap.
	type loaded struct {
		snap *Snapshot
		err  error
	}
	snapc := make(chan loaded, 1)
	revoke := c.Definition.Remediation.Mode == ModeRevoke
	if revoke {
		load := e.Store.LoadSnapshot
		if pl, ok := e.Store.(planSnapshotLoader); ok {
			load = pl.LoadPlanSnapshot
		}
		go func() {
			snap, err := load(ctx, c.SnapshotID)
			snapc <- loaded{snap, err}
		}()
	}
	cc, err := e.streamOutcomes(ctx, c, st)
	var l loaded
	if revoke {
		if l = <-snapc; err == nil && l.err != nil {
			err = fmt.Errorf("load reviewed snapshot %d: %w", c.SnapshotID, l.err)
		}
	}
	if err != nil {
		return c, nil, err
	}
	var plan []PlanItem
	if revoke {
		snap := l.snap
		// The index keeps what the plan reads; the snapshot's relations
		// are garbage from here on.
		plan = BuildPlanFrom(planIndex(snap, cc.plan), c.Definition, cc.plan)
		cc.plan = nil
	}
	next, ev, ops := closedState(c, actor, now, why, from, cc.counts, plan)
	return e.finishClose(ctx, c, next, plan, ops, why, now,
		st.CloseCampaignCases(ctx, next, StateClosing, cc.outcomes, cc.deciders, plan, ev))
}
