package campaign

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// An escalation or a delegation tells the new reviewer only after the
// move is committed. A process that dies between the two (kill -9, a lost
// node) or a notifier that cannot queue would leave the new reviewer
// untold, so each move's audit entries carry the key of the notice that
// tells about it (detail "notice"), the notice ends with an audit entry
// (EscalationQueuedType, DelegationQueuedType) once the notifier took it,
// and the leader's tick hands again every notice recorded without its
// entry once the move is older than fanOutLease. The notifier queues one
// message per key, so a notice handed twice is queued once.

// Audit event types of the moves and of their notices being queued.
const (
	EscalatedType        = "case.escalated"
	DelegatedType        = "review.delegated"
	EscalationQueuedType = "escalation.queued"
	DelegationQueuedType = "delegation.queued"
)

// noticeDetail is the detail field of an EscalatedType or DelegatedType
// entry holding the key of the notice that tells the new reviewer.
const noticeDetail = "notice"

// EscalationKey is the delivery key of the notice telling to (""
// for the IAM team) about the cases one escalation moved to them: the
// lowest case id of the move and the level it reached, which no other
// move repeats (levels only grow).
func EscalationKey(campaignID int64, to string, firstCase int64, level int) string {
	return "escalated:" + strconv.FormatInt(campaignID, 10) + ":" + to + ":" + strconv.FormatInt(firstCase, 10) + ":" + strconv.Itoa(level)
}

// DelegationKey is the delivery key of the notice telling to about one
// delegation: the lowest case id moved and the instant of the move (a
// case moves once at an instant: the move is compare-and-swap).
func DelegationKey(campaignID int64, to string, firstCase int64, at time.Time) string {
	return "delegated:" + strconv.FormatInt(campaignID, 10) + ":" + to + ":" + strconv.FormatInt(firstCase, 10) + ":" +
		strconv.FormatInt(at.UnixNano(), 36)
}

// EventReader is offered by a store that reads a campaign's audit events
// of some types after an id with one indexed query (the store package
// does); without it the engine reads the campaign's events.
type EventReader interface {
	// EventsAfter returns campaign campaignID's audit events of the
	// types whose id is above afterID, in order, and the id the read
	// went up to: no event of the types at or below it is missing, nor
	// can one appear later.
	EventsAfter(ctx context.Context, campaignID, afterID int64, types ...string) ([]Event, int64, error)
}

// eventsAfter returns campaign id's events of types above after, and
// the id the read went up to.
func (e *Engine) eventsAfter(ctx context.Context, id, after int64, types ...string) ([]Event, int64, error) {
	if er, ok := e.Store.(EventReader); ok {
		return er.EventsAfter(ctx, id, after, types...)
	}
	evs, err := e.Store.Events(ctx, id)
	if err != nil {
		return nil, after, err
	}
	through := after
	out := evs[:0]
	for _, ev := range evs {
		through = max(through, ev.ID)
		if ev.ID > after && slices.Contains(types, ev.Type) {
			out = append(out, ev)
		}
	}
	return out, through, nil
}

// announceMove hands an escalation or delegation notice to the notifier
// and, once it was taken, records typ with the notice's key. It reports
// whether the notice was taken and recorded; a notice refused is not
// recorded (the tick hands it again). It returns the store's error.
func (e *Engine) announceMove(ctx context.Context, c *Campaign, n Notification, typ string, now time.Time, resumed bool) (bool, error) {
	if err := e.deliver(ctx, n); err != nil || ctx.Err() != nil {
		return false, nil
	}
	d := map[string]any{"key": n.Key, "to": n.To, "members": len(n.Members)}
	if resumed {
		d["resumed"] = true
	}
	if err := e.Store.AppendEvent(ctx, Event{At: now, CampaignID: c.ID, Type: typ, Actor: System, Detail: d}); err != nil {
		return false, fmt.Errorf("record %s %s: %w", typ, n.Key, err)
	}
	return true, nil
}

// moveNotice is one escalation's or delegation's notice, read back from
// its audit entries.
type moveNotice struct {
	first  int64     // id of the move's first audit entry
	at     time.Time // when the move was committed
	queued string    // the type recording the notice queued
	done   bool      // that record is in the log
	n      Notification
}

// movesOf gathers the notices of the moves in evs (in the order of their
// first entries) and marks those recorded as queued. Entries without a
// notice key (written before moves carried one) are left out.
func movesOf(c *Campaign, evs []Event) []*moveNotice {
	var moves []*moveNotice
	byKey := map[string]*moveNotice{}
	for _, ev := range evs {
		str := func(k string) string { s, _ := ev.Detail[k].(string); return s }
		switch ev.Type {
		case EscalationQueuedType, DelegationQueuedType:
			if m := byKey[str("key")]; m != nil {
				m.done = true
			}
			continue
		}
		key := str(noticeDetail)
		if key == "" {
			continue
		}
		m := byKey[key]
		if m == nil {
			m = &moveNotice{first: ev.ID, at: ev.At, n: Notification{To: str("to"), CampaignID: c.ID, Campaign: c.Name,
				Deadline: c.Deadline, Key: key}}
			byKey[key] = m
			moves = append(moves, m)
			if ev.Type == EscalatedType {
				m.queued, m.n.Kind = EscalationQueuedType, NoteEscalated
				m.n.Text = "reviews escalated to you: " + str("from") + " did not answer in time"
			} else {
				cases, _ := ev.Detail["cases"].(float64)
				m.queued, m.n.Kind, m.n.Open = DelegationQueuedType, NoteDelegated, int(cases)
				m.n.Text = ev.Actor.String() + " delegated a review to you"
			}
		}
		m.n.Members = appendUnique(m.n.Members, str("member"))
	}
	return moves
}

// resumeNotices hands again the escalation and delegation notices of c
// recorded without their queued entry, once the move is older than
// fanOutLease (the process that made it may still be telling). Only
// while reviewers can still act on them (stages 1 and 2): an app-owner
// stage or a close leaves them moot. The engine remembers, per
// campaign, the audit id up to which every notice is settled (the log's
// head when none is pending), so each tick reads only the entries after
// it. It returns the store's error.
func (e *Engine) resumeNotices(ctx context.Context, c *Campaign, now time.Time) error {
	if c.State != StateStage1 && c.State != StateStage2 {
		return nil
	}
	var after int64
	if v, ok := e.noticesRead.Load(c.ID); ok {
		after = v.(int64)
	}
	evs, mark, err := e.eventsAfter(ctx, c.ID, after, EscalatedType, DelegatedType, EscalationQueuedType, DelegationQueuedType)
	if err != nil {
		return fmt.Errorf("read escalations and delegations: %w", err)
	}
	defer func() { e.noticesRead.Store(c.ID, mark) }()
	for _, m := range movesOf(c, evs) {
		settled := m.done
		if !settled && now.Sub(m.at) >= fanOutLease {
			if settled, err = e.announceMove(ctx, c, m.n, m.queued, now, true); err != nil {
				mark = min(mark, m.first-1)
				return err
			}
		}
		if !settled {
			mark = min(mark, m.first-1)
		}
	}
	return nil
}
