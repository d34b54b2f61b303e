package campaign

import (
	"context"
	"sort"
	"strconv"
	"time"
)

// ReminderSlot returns the latest reminder time at or before now for a
// stage that started at start and ends at deadline: each configured
// "before" offset ahead of the deadline, then every OverdueEvery after it.
// Slots at or before the stage's start do not count. ok is false when no slot
// has come yet.
func ReminderSlot(r Reminders, start, deadline, now time.Time) (slot time.Time, ok bool) {
	if r.Disabled {
		return time.Time{}, false
	}
	consider := func(t time.Time) {
		// A slot at the stage's very start is not a reminder: the forms
		// were just sent (an event review lasting exactly as long as the
		// first "before" offset would otherwise remind at creation).
		if t.After(start) && !t.After(now) && t.After(slot) {
			slot, ok = t, true
		}
	}
	for _, b := range r.Before {
		consider(deadline.Add(-b.D()))
	}
	if every := r.OverdueEvery.D(); every > 0 && now.After(deadline) {
		n := now.Sub(deadline) / every
		consider(deadline.Add(n * every))
	}
	return slot, ok
}

// remind sends each person with open work one batched reminder per slot,
// never one after they have finished. In stage 1 members get their open
// count and managers their members' progress; in stage 2 reviewers get
// their open cases and the members they concern.
func (e *Engine) remind(ctx context.Context, c *Campaign, now time.Time) error {
	if c.State == StateStage3 {
		return e.remindOwners(ctx, c, now)
	}
	start, deadline := c.CreatedAt, c.StageDeadline()
	if c.State == StateStage2 {
		start = c.Stage2Started
	}
	slot, ok := ReminderSlot(c.Definition.Reminders, start, deadline, now)
	if !ok {
		return nil
	}
	// One marker per slot keeps later ticks from recounting the campaign
	// once its reminders all went out; per-person markers keep a person
	// from being reminded twice (engine_remind_resume.go).
	todo, err := e.beginSlot(ctx, c, slot, now)
	if err != nil || !todo {
		return err
	}
	p, err := e.Store.CaseProgress(ctx, c.ID)
	if err != nil {
		return err
	}
	type target struct {
		to string
		n  Notification
	}
	var targets []target
	base := Notification{Kind: NoteReminder, CampaignID: c.ID, Campaign: c.Name, Deadline: deadline}
	if c.State == StateStage1 {
		for m, open := range p.MemberOpen {
			if open > 0 {
				n := base
				n.To, n.Open = m, open
				targets = append(targets, target{"member:" + m, n})
			}
		}
		for r, total := range p.ReviewerTotal {
			if r == "" || p.ReviewerAnswered[r] >= total {
				continue
			}
			n := base
			n.To, n.Answered, n.Total, n.Text = r, p.ReviewerAnswered[r], total, "your team's self-attestation progress"
			targets = append(targets, target{"manager:" + r, n})
		}
	} else {
		for r, open := range p.ReviewerOpen {
			if open > 0 {
				n := base
				n.To, n.Open, n.Members = r, open, p.ReviewerMembers[r]
				targets = append(targets, target{"reviewer:" + r, n})
			}
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].to < targets[j].to })
	reminded, refused := 0, 0
	for _, t := range targets {
		t.n.Key = "remind:" + strconv.FormatInt(c.ID, 10) + ":" + t.to + ":" + slot.UTC().Format(time.RFC3339)
		ok, err := e.remindOnce(ctx, c, t.to, slot, now, t.n)
		if err != nil {
			return err
		}
		if ok {
			reminded++
		} else {
			refused++
		}
	}
	return e.endSlot(ctx, c, slot, now, reminded, refused)
}

// notify delivers one notification; failures are reported, never fatal.
func (e *Engine) notify(ctx context.Context, n Notification) { _ = e.deliver(ctx, n) }

// deliver hands one notification to the notifier and returns its error,
// after reporting it to OnNotifyError. Without a notifier nothing can be
// delivered: that is ErrNotDelivered, so nothing is recorded as sent.
func (e *Engine) deliver(ctx context.Context, n Notification) error {
	err := ErrNotDelivered
	if e.Notifier != nil {
		err = e.Notifier.Notify(ctx, n)
	}
	if err != nil && e.OnNotifyError != nil {
		e.OnNotifyError(n, err)
	}
	return err
}

// notifyMembers sends every member who owes answers their stage-1 form
// notice (members whose accounts are suspended or deprovisioned owe none,
// see CaseProgress), each keyed by FormKey so a resumed fan-out queues
// none twice. The result counts the members told and refused; its err is
// set when the progress could not be read.
func (e *Engine) notifyMembers(ctx context.Context, c *Campaign) fanOut {
	p, err := e.Store.CaseProgress(ctx, c.ID)
	if err != nil {
		e.reportNotify(Notification{Kind: NoteMemberForm, CampaignID: c.ID}, err)
		return fanOut{err: err}
	}
	return e.notifyMembersOpen(ctx, c, p.MemberOpen)
}

// notifyMembersOpen is notifyMembers with each member's open cases
// given (CaseProgress's MemberOpen), as a launch counts them.
func (e *Engine) notifyMembersOpen(ctx context.Context, c *Campaign, open map[string]int) fanOut {
	var f fanOut
	for _, m := range sortedKeys(open) {
		if ctx.Err() != nil {
			f.err = ctx.Err()
			break
		}
		e.deliverForm(ctx, &f, Notification{Kind: NoteMemberForm, To: m, CampaignID: c.ID, Campaign: c.Name, Deadline: c.Stage1Ends,
			Open: open[m], Key: FormKey(c.ID, StateStage1, m)})
	}
	return f
}

// notifyReviewers tells every reviewer with work in the campaign's
// current stage about it (stage 2's forms), each keyed by FormKey like
// notifyMembers.
func (e *Engine) notifyReviewers(ctx context.Context, c *Campaign, kind string) fanOut {
	p, err := e.Store.CaseProgress(ctx, c.ID)
	if err != nil {
		e.reportNotify(Notification{Kind: kind, CampaignID: c.ID}, err)
		return fanOut{err: err}
	}
	var f fanOut
	for _, r := range sortedKeys(p.ReviewerOpen) {
		if p.ReviewerOpen[r] == 0 {
			continue
		}
		if ctx.Err() != nil {
			f.err = ctx.Err()
			break
		}
		e.deliverForm(ctx, &f, Notification{Kind: kind, To: r, CampaignID: c.ID, Campaign: c.Name, Deadline: c.Deadline,
			Open: p.ReviewerOpen[r], Members: p.ReviewerMembers[r], Key: FormKey(c.ID, c.State, r)})
	}
	return f
}

func (e *Engine) reportNotify(n Notification, err error) {
	if e.OnNotifyError != nil {
		e.OnNotifyError(n, err)
	}
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
