package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The app-owner stage (stage 3). Once the manager stage ends, every case
// of an app that has owners and whose outcome so far is a keep goes to
// the app's owners, who confirm it or revoke it. An owner's decision is
// saved in the case's owner columns (CaseRecord.OwnerDecision and the
// rest) by UpdateCases expecting stage 3, with its "case.answered" audit
// event in the same transaction: the store refuses case writes once a
// close began, so a decision either commits before the close's fence and
// is in the plan, or is refused. The close applies each case's owner
// decision (see ownerOutcomes).

// ownerStageNote starts the note of the move into stage 3.
const ownerStageNote = "app-owner stage"

// ownerDirectory returns the owner directory of c's reviewed snapshot.
func (e *Engine) ownerDirectory(ctx context.Context, c *Campaign) (*ownerDirectory, error) {
	st := e.ownerStage(c.Definition)
	key := ownerKey(c, st)
	if key != "" {
		ownerCache.Lock()
		d, ok := ownerCache.m[key]
		ownerCache.Unlock()
		if ok {
			return d, nil
		}
	}
	snap, err := e.Store.LoadSnapshot(ctx, c.SnapshotID)
	if err != nil {
		return nil, fmt.Errorf("load reviewed snapshot %d for app owners: %w", c.SnapshotID, err)
	}
	d := resolveOwners(snap, st)
	if key != "" {
		ownerCache.Lock()
		if len(ownerCache.m) >= ownerCacheSize {
			clear(ownerCache.m)
		}
		ownerCache.m[key] = d
		ownerCache.Unlock()
	}
	return d, nil
}

// OwnerCase is one case an app's owners decide in stage 3.
type OwnerCase struct {
	Case CaseRecord
	Team Team
	// Deciders are the owners who may decide it (the app's owners except
	// the member); empty: the IAM team decides, as when an owner's own
	// access is at stake and nobody else owns the app.
	Deciders []string
	// Decision, Comment, DecidedBy and DecidedByID are the latest owner
	// decision ("" while undecided).
	Decision, Comment, DecidedBy, DecidedByID string
}

// OwnerApp is the stage-3 work on one app.
type OwnerApp struct {
	AppID, Label string
	Owners       []string // the app's owners, Okta user ids
	Cases        []OwnerCase
}

// ownerStage is stage 3's view of a campaign.
type ownerStage struct {
	apps    []OwnerApp // by label, then id
	started bool       // the campaign entered stage 3
}

// ownerCaseDue reports whether a case goes to its app's owners: an app
// case whose outcome after stage 2 is a keep.
func ownerCaseDue(def *Definition, cs *CaseRecord) bool {
	if cs.Kind != KindApp {
		return false
	}
	o := Outcome(def, cs)
	return o == OutcomeKept || o == OutcomeNoDecisionKept
}

// ownerStageOf computes stage 3's cases from the campaign's cases (as
// stage 2 left them, with the owner decisions saved on them since).
func (e *Engine) ownerStageOf(ctx context.Context, c *Campaign, cases []CaseRecord) (*ownerStage, error) {
	dir, err := e.ownerDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	st := &ownerStage{started: !c.Stage3Started.IsZero() || c.State == StateStage3}
	byApp := map[string]int{}
	for i := range cases {
		cs := &cases[i]
		owners := dir.owners[cs.EntitlementID]
		if len(owners) == 0 || !ownerCaseDue(c.Definition, cs) {
			continue
		}
		k, ok := byApp[cs.EntitlementID]
		if !ok {
			k = len(st.apps)
			byApp[cs.EntitlementID] = k
			st.apps = append(st.apps, OwnerApp{AppID: cs.EntitlementID, Label: cs.Label, Owners: owners})
		}
		oc := OwnerCase{Case: *cs, Team: dir.teams[cs.UserID], Decision: cs.OwnerDecision, Comment: cs.OwnerComment,
			DecidedBy: cs.OwnerDecidedBy, DecidedByID: cs.OwnerDecidedByID}
		for _, o := range owners {
			if o != cs.UserID {
				oc.Deciders = append(oc.Deciders, o)
			}
		}
		st.apps[k].Cases = append(st.apps[k].Cases, oc)
	}
	sort.Slice(st.apps, func(i, j int) bool {
		a, b := st.apps[i], st.apps[j]
		if !strings.EqualFold(a.Label, b.Label) {
			return strings.ToLower(a.Label) < strings.ToLower(b.Label)
		}
		return a.AppID < b.AppID
	})
	for _, a := range st.apps {
		sort.SliceStable(a.Cases, func(i, j int) bool {
			x, y := a.Cases[i], a.Cases[j]
			if kx, ky := x.Team.Key(), y.Team.Key(); kx != ky {
				return kx < ky
			}
			return x.Case.UserID < y.Case.UserID
		})
	}
	return st, nil
}

// decides reports whether owner ("" = the IAM team) decides the case.
func (oc *OwnerCase) decides(owner string) bool {
	if owner == "" {
		return len(oc.Deciders) == 0
	}
	for _, d := range oc.Deciders {
		if d == owner {
			return true
		}
	}
	return false
}

// OwnerWork returns, per app, the stage-3 cases that owner ("" = the IAM
// team) decides in c, in form order (app label, then team, then member),
// with the decisions recorded so far. Empty outside stage 3.
func (e *Engine) OwnerWork(ctx context.Context, c *Campaign, owner string) ([]OwnerApp, error) {
	if c.State != StateStage3 || !c.Definition.Stages.AppOwner.On() {
		return nil, nil
	}
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{Kind: KindApp})
	if err != nil {
		return nil, err
	}
	st, err := e.ownerStageOf(ctx, c, cases)
	if err != nil {
		return nil, err
	}
	var out []OwnerApp
	for _, a := range st.apps {
		mine := a
		mine.Cases = nil
		for _, oc := range a.Cases {
			if oc.decides(owner) {
				mine.Cases = append(mine.Cases, oc)
			}
		}
		if len(mine.Cases) > 0 {
			out = append(out, mine)
		}
	}
	return out, nil
}

// endStage2 ends manager confirmation (or self-attestation, when the
// manager stage is off): into the owner stage when it is on, else the
// close. Moving to stage 3 first fences stage 2 (no answer commits any
// more), then stage 3's cases are computed; with none (no kept access
// has owners), the campaign closes at once.
func (e *Engine) endStage2(ctx context.Context, c *Campaign, now time.Time, why string) (*Campaign, error) {
	def := c.Definition
	if !def.Stages.AppOwner.On() || c.State == StateStage3 {
		c, _, err := e.close(ctx, c, System, now, why)
		return c, err
	}
	from := c.State
	next := *c
	next.State, next.Deadline, next.Stage3Started = StateStage3, now.Add(e.ownerShare(c)), now
	dir, err := e.ownerDirectory(ctx, c)
	if err != nil {
		return c, err
	}
	detail := map[string]any{"from": string(from), "to": string(StateStage3), "note": ownerStageNote + ": " + why,
		"owned_apps": len(dir.owners)}
	if len(dir.unresolved) > 0 {
		detail["unresolved_owners"] = dir.unresolved
	}
	err = e.Store.MoveCampaign(ctx, &next, from, Event{At: now, CampaignID: c.ID, Type: "campaign.stage_changed", Actor: System, Detail: detail})
	if errors.Is(err, ErrConflict) {
		return e.Store.GetCampaign(ctx, c.ID)
	}
	if err != nil {
		return c, err
	}
	// Read under the fence: stage 2's answers are final now.
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{Kind: KindApp})
	if err != nil {
		return &next, err
	}
	st, err := e.ownerStageOf(ctx, &next, cases)
	if err != nil {
		return &next, err
	}
	if len(st.apps) == 0 {
		closed, _, err := e.close(ctx, &next, System, now, "no kept access has app owners")
		return closed, err
	}
	// A fan-out cut short is resumed by the tick (resumeFanOut).
	_ = e.recordFanOut(ctx, &next, StateStage3, e.notifyOwners(ctx, &next, st, NoteOwnerForm), now, false)
	return &next, nil
}

// ownerShare is stage 3's length for c: its configured duration, scaled
// like the other stages' when the launch set the whole campaign's
// deadline (see Launch).
func (e *Engine) ownerShare(c *Campaign) time.Duration {
	def := c.Definition
	d3 := def.Stages.AppOwner.duration()
	var d12 time.Duration
	if def.Stages.SelfAttestation.On() {
		d12 += def.Stages.SelfAttestation.Duration.D()
	}
	if def.Stages.Manager.On() {
		d12 += def.Stages.Manager.Duration.D()
	}
	planned := c.Deadline.Sub(c.CreatedAt)
	if d12 <= 0 || planned <= 0 {
		return d3
	}
	return share(planned, d3, d12)
}

// share is part's share of total, in proportion part/sum (the stages'
// shares of a requested deadline).
func share(total, part, sum time.Duration) time.Duration {
	return time.Duration(float64(total) * float64(part) / float64(sum))
}

// notifyOwners tells each decider (an owner, or "" for the IAM team)
// which apps' forms are theirs, with their open count, each keyed by
// FormKey like notifyMembers.
func (e *Engine) notifyOwners(ctx context.Context, c *Campaign, st *ownerStage, kind string) fanOut {
	apps := map[string][]string{}
	open := map[string]int{}
	for _, a := range st.apps {
		for _, oc := range a.Cases {
			who := oc.Deciders
			if len(who) == 0 {
				who = []string{""}
			}
			for _, o := range who {
				apps[o] = appendUnique(apps[o], a.AppID)
				if oc.Decision == "" {
					open[o]++
				}
			}
		}
	}
	owners := make([]string, 0, len(apps))
	for o := range apps {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	var f fanOut
	for _, o := range owners {
		if ctx.Err() != nil {
			f.err = ctx.Err()
			break
		}
		e.deliverForm(ctx, &f, Notification{Kind: kind, To: o, CampaignID: c.ID, Campaign: c.Name, Deadline: c.Deadline,
			Apps: apps[o], Open: open[o], Key: FormKey(c.ID, c.State, o)})
	}
	return f
}

// ownerOutcomes returns the outcome of each case stage 3 decided, for
// the close: an owner's revoke overrides the keep, an owner's keep
// confirms it, and a case no owner decided follows remediation.no_decision.
// Nil when the campaign never entered stage 3 (closed by hand before it,
// or the stage is off): cases keep their stage-2 outcome.
func (e *Engine) ownerOutcomes(ctx context.Context, c *Campaign, cases []CaseRecord) (map[int64]ownerVerdict, error) {
	if !c.Definition.Stages.AppOwner.On() {
		return nil, nil
	}
	st, err := e.ownerStageOf(ctx, c, cases)
	if err != nil {
		return nil, err
	}
	if !st.started {
		return nil, nil
	}
	out := map[int64]ownerVerdict{}
	for _, a := range st.apps {
		for _, oc := range a.Cases {
			out[oc.Case.ID] = verdictOf(c.Definition, oc.Decision, oc.DecidedBy)
		}
	}
	return out, nil
}

// ownerVerdict is a case's outcome after stage 3 and who decided it.
type ownerVerdict struct {
	outcome, by string
}

// apply sets the case's outcome and decider from the verdict, if any.
func (v ownerVerdict) apply(cs *CaseRecord) {
	if v.outcome == "" {
		return
	}
	cs.Outcome = v.outcome
	if v.by != "" {
		cs.DecidedBy = v.by
	}
}

// ownerReport returns, for the report, the cases an owner decided and,
// while stage 3 runs, those still waiting for one. Nil without an owner
// stage.
func (e *Engine) ownerReport(ctx context.Context, c *Campaign, cases []CaseRecord) (decided, open map[int64]bool, err error) {
	if !c.Definition.Stages.AppOwner.On() {
		return nil, nil, nil
	}
	st, err := e.ownerStageOf(ctx, c, cases)
	if err != nil || !st.started {
		return nil, nil, err
	}
	decided, open = map[int64]bool{}, map[int64]bool{}
	for _, a := range st.apps {
		for _, oc := range a.Cases {
			switch {
			case oc.Decision != "":
				decided[oc.Case.ID] = true
			case c.State == StateStage3:
				open[oc.Case.ID] = true
			}
		}
	}
	return decided, open, nil
}
