package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Tick applies what is due now to every open campaign: stage ends,
// deadlines, a stage's form fan-out cut short (resumeFanOut),
// escalations, escalation and delegation notices never queued
// (resumeNotices) and reminders. It is idempotent: calling it twice
// at the same instant changes nothing the second time. Errors of one
// campaign do not stop the others; all are returned joined.
func (e *Engine) Tick(ctx context.Context) error {
	now := e.now()
	list, err := e.Store.ListCampaigns(ctx, StateStage1, StateStage2, StateStage3, StateClosing)
	if err != nil {
		return err
	}
	var errs []error
	keep := e.HistoryRetention
	if keep <= 0 {
		keep = 3 * 365 * 24 * time.Hour
	}
	if _, err := e.Store.PruneHistory(ctx, now.Add(-keep)); err != nil {
		errs = append(errs, fmt.Errorf("prune certification history: %w", err))
	}
	for i := range list {
		c := &list[i]
		if c, err = e.catchUp(ctx, c, now); err != nil {
			errs = append(errs, fmt.Errorf("campaign %d: %w", list[i].ID, err))
			continue
		}
		if err := e.resumeFanOut(ctx, c, now); err != nil {
			errs = append(errs, fmt.Errorf("campaign %d: resume %s forms: %w", c.ID, c.State, err))
		}
		if c.State == StateStage2 {
			if err := e.escalate(ctx, c, now); err != nil {
				errs = append(errs, fmt.Errorf("campaign %d: escalate: %w", c.ID, err))
			}
		}
		if err := e.resumeNotices(ctx, c, now); err != nil {
			errs = append(errs, fmt.Errorf("campaign %d: resume escalation and delegation notices: %w", c.ID, err))
		}
		if c.State.Open() {
			if err := e.remind(ctx, c, now); err != nil {
				errs = append(errs, fmt.Errorf("campaign %d: remind: %w", c.ID, err))
			}
		}
	}
	if err := e.resumeApprovals(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("resume approval messages: %w", err))
	}
	return errors.Join(errs...)
}

// catchUp moves a campaign through the stage ends its deadlines call for,
// and finishes a close that was interrupted (closing for longer than
// closeLease: the process that began it died).
func (e *Engine) catchUp(ctx context.Context, c *Campaign, now time.Time) (*Campaign, error) {
	var err error
	if c.State == StateClosing && now.Sub(c.ClosedAt) >= closeLease {
		c, _, err = e.close(ctx, c, System, now, "finished an interrupted close")
		return c, err
	}
	if c.State == StateStage1 && !now.Before(c.Stage1Ends) {
		if c, err = e.startStage2(ctx, c, now, "self-attestation deadline passed"); err != nil {
			return c, err
		}
	}
	if c.State == StateStage2 && !now.Before(c.Deadline) {
		if c, err = e.endStage2(ctx, c, now, "deadline passed"); err != nil {
			return c, err
		}
	}
	if c.State == StateStage3 && !now.Before(c.Deadline) {
		if c, _, err = e.close(ctx, c, System, now, "app-owner deadline passed"); err != nil {
			return c, err
		}
	}
	return c, nil
}

// maybeEndStage1 starts stage 2 once every member has answered; member
// is the one who just answered.
func (e *Engine) maybeEndStage1(ctx context.Context, c *Campaign, now time.Time, member string) error {
	// The member's own cases first: while they owe answers the stage goes
	// on, and the campaign-wide look is made once per member, not once
	// per answer.
	for _, who := range []string{member, ""} {
		open, err := e.Store.MemberOpen(ctx, c.ID, who)
		if err != nil || open {
			return err
		}
	}
	_, err := e.startStage2(ctx, c, now, "every member answered")
	return err
}

// startStage2 ends self-attestation. With manager confirmation off, the
// app-owner stage starts, or the campaign closes. If another process
// moved the campaign first, the stored campaign is returned and nothing
// is done twice.
func (e *Engine) startStage2(ctx context.Context, c *Campaign, now time.Time, why string) (*Campaign, error) {
	if !c.Definition.Stages.Manager.On() {
		return e.endStage2(ctx, c, now, why)
	}
	next := *c
	next.State, next.Stage2Started = StateStage2, now
	err := e.Store.MoveCampaign(ctx, &next, StateStage1, Event{At: now, CampaignID: c.ID, Type: "campaign.stage_changed",
		Actor: System, Detail: map[string]any{"from": string(StateStage1), "to": string(StateStage2), "note": why}})
	if errors.Is(err, ErrConflict) {
		return e.Store.GetCampaign(ctx, c.ID)
	}
	if err != nil {
		return c, err
	}
	// A fan-out cut short is resumed by the tick (resumeFanOut).
	_ = e.recordFanOut(ctx, &next, StateStage2, e.notifyReviewers(ctx, &next, NoteReviewerForm), now, false)
	return &next, nil
}

// escalate moves the open stage-2 cases of reviewers silent for longer than
// the escalation delay to their own manager, one level at a time, skipping
// anyone who would review their own access; a chain that ends goes to the
// IAM team. Each move is recorded.
func (e *Engine) escalate(ctx context.Context, c *Campaign, now time.Time) error {
	after := c.Definition.Escalation.After.D()
	if after <= 0 || now.Sub(c.Stage2Started) < after {
		return nil // nobody can have been silent long enough yet
	}
	p, err := e.Store.CaseProgress(ctx, c.ID)
	if err != nil {
		return err
	}
	// Only reviewers holding a case longer than the delay are loaded.
	reviewers := make([]string, 0, len(p.ReviewerOpen))
	for r, n := range p.ReviewerOpen {
		since := p.ReviewerOldest[r]
		if since.Before(c.Stage2Started) {
			since = c.Stage2Started
		}
		if r != "" && n > 0 && now.Sub(since) >= after {
			reviewers = append(reviewers, r)
		}
	}
	sort.Strings(reviewers)
	for _, r := range reviewers {
		cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{ReviewerID: &r})
		if err != nil {
			return err
		}
		var ups []CaseUpdate
		var events []Event
		var moved escalationNotices
		for i := range cases {
			cs := &cases[i]
			since := cs.ReviewerSince
			if since.Before(c.Stage2Started) {
				since = c.Stage2Started
			}
			if cs.ReviewerDecision != "" || cs.Outcome != "" || !cs.NeedsReviewer(c.Definition) || now.Sub(since) < after {
				continue
			}
			to, skipped, err := e.nextReviewer(ctx, c, r, cs.UserID)
			if err != nil {
				return err
			}
			cs.ReviewerID, cs.EscalationLevel = to, cs.EscalationLevel+1
			ups = append(ups, CaseUpdate{Case: cs, ExpectReviewer: r, ExpectState: StateStage2})
			d := map[string]any{"from": r, "to": to, "level": cs.EscalationLevel, "member": cs.UserID,
				noticeDetail: moved.add(c, cs, to)}
			if len(skipped) > 0 {
				d["skipped"] = skipped // the member themself, or inactive managers
			}
			events = append(events, Event{At: now, CampaignID: c.ID, CaseID: cs.ID, Type: EscalatedType, Actor: System, Detail: d})
		}
		if len(ups) == 0 {
			continue
		}
		if err := e.Store.UpdateCases(ctx, ups, events); err != nil {
			switch {
			case errors.Is(err, ErrStageEnded):
				return nil // the campaign is closing: nothing escalates any more
			case errors.Is(err, ErrConflict):
				continue // a reviewer answered or delegated meanwhile: nothing moved
			}
			return err
		}
		// A notice not queued now is handed again by a later tick.
		for _, n := range moved {
			n.Text = "reviews escalated to you: " + r + " did not answer in time"
			if _, err := e.announceMove(ctx, c, n, EscalationQueuedType, now, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// escalationNotices are the notices of one reviewer's escalation, one per
// new reviewer, in the order of their first case.
type escalationNotices []Notification

// add counts cs's member in the notice to to and returns its key
// (EscalationKey of the first case moved to them).
func (ns *escalationNotices) add(c *Campaign, cs *CaseRecord, to string) string {
	for i := range *ns {
		if n := &(*ns)[i]; n.To == to {
			n.Members = appendUnique(n.Members, cs.UserID)
			return n.Key
		}
	}
	*ns = append(*ns, Notification{Kind: NoteEscalated, To: to, CampaignID: c.ID, Campaign: c.Name, Deadline: c.Deadline,
		Members: []string{cs.UserID}, Key: EscalationKey(c.ID, to, cs.ID, cs.EscalationLevel)})
	return (*ns)[len(*ns)-1].Key
}

// nextReviewer is the manager of from, skipping the member themself (nobody
// confirms their own access) and managers whose accounts are suspended or
// deprovisioned (nobody could decide for them); "" (the IAM team) when
// the chain ends. It returns whom it skipped, for the audit log.
func (e *Engine) nextReviewer(ctx context.Context, c *Campaign, from, member string) (string, []string, error) {
	var skipped []string
	seen := map[string]bool{from: true}
	cur := from
	for hops := 0; hops < 50; hops++ {
		u, err := e.Store.FindUser(ctx, c.SnapshotID, cur)
		if errors.Is(err, ErrNotFound) {
			return "", skipped, nil
		}
		if err != nil {
			return "", skipped, err
		}
		next := u.ManagerID
		if next == "" || seen[next] {
			return "", skipped, nil
		}
		seen[next] = true
		if next != member {
			m, err := e.Store.FindUser(ctx, c.SnapshotID, next)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return "", skipped, err
			}
			if err == nil && !m.Inactive() {
				return next, skipped, nil
			}
		}
		skipped = append(skipped, next)
		cur = next
	}
	return "", skipped, nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
