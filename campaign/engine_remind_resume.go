package campaign

import (
	"context"
	"time"
)

// A reminder slot is claimed ("*") before its reminders go out one person
// at a time. A process that died part-way used to leave the rest of the
// slot unsent, since the claim stopped every later tick. With a store that
// can read the markers (ReminderChecker), a slot ends with a "*done"
// marker and the tick resumes a claimed slot without it, skipping the
// people already marked; the notifications keep their per-slot keys, so a
// reminder queued but not yet marked is not queued twice.

// ReminderChecker is offered by a store that can read MarkReminder's
// markers without writing one (the store package does).
type ReminderChecker interface {
	ReminderMarked(ctx context.Context, campaignID int64, person string, slot time.Time) (bool, error)
}

// slotDone is the marker person recording that a slot's reminders all
// went out.
const slotDone = "*done"

// beginSlot claims slot and reports whether its reminders are still to
// be sent: a fresh slot, or one claimed before and never finished (with a
// ReminderChecker). It returns the store's error.
func (e *Engine) beginSlot(ctx context.Context, c *Campaign, slot, now time.Time) (bool, error) {
	claim := Event{At: now, CampaignID: c.ID, Type: "reminder.slot", Actor: System,
		Detail: map[string]any{"slot": slot.Format(time.RFC3339), "stage": string(c.State)}}
	rc, ok := e.Store.(ReminderChecker)
	if !ok {
		return e.Store.MarkReminder(ctx, c.ID, "*", slot, claim)
	}
	if done, err := rc.ReminderMarked(ctx, c.ID, slotDone, slot); err != nil || done {
		return false, err
	}
	if _, err := e.Store.MarkReminder(ctx, c.ID, "*", slot, claim); err != nil {
		return false, err
	}
	return true, nil
}

// remindOnce delivers one keyed reminder unless person (the marker name)
// was already reminded for slot, then marks them. The audit log says a
// reminder was queued only once the notifier took it; one that could not
// be queued is reported (false), not recorded. It returns the store's
// error.
func (e *Engine) remindOnce(ctx context.Context, c *Campaign, person string, slot, now time.Time, n Notification) (bool, error) {
	if rc, ok := e.Store.(ReminderChecker); ok {
		if marked, err := rc.ReminderMarked(ctx, c.ID, person, slot); err != nil || marked {
			return marked, err
		}
	}
	if err := e.deliver(ctx, n); err != nil {
		return false, nil
	}
	_, err := e.Store.MarkReminder(ctx, c.ID, person, slot, Event{At: now, CampaignID: c.ID, Type: "reminder.queued",
		Actor: System, Detail: map[string]any{"to": n.To, "open": n.Open, "slot": slot.Format(time.RFC3339), "stage": string(c.State)}})
	return err == nil, err
}

// endSlot marks slot done when every reminder of it went out, so later
// ticks leave it; with some refused, the next tick tries those again.
func (e *Engine) endSlot(ctx context.Context, c *Campaign, slot, now time.Time, reminded, refused int) error {
	if _, ok := e.Store.(ReminderChecker); !ok || refused > 0 || ctx.Err() != nil {
		return nil
	}
	_, err := e.Store.MarkReminder(ctx, c.ID, slotDone, slot, Event{At: now, CampaignID: c.ID, Type: "reminder.slot_done",
		Actor: System, Detail: map[string]any{"slot": slot.Format(time.RFC3339), "stage": string(c.State), "reminded": reminded}})
	return err
}
