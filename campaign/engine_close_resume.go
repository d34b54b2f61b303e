package campaign

import (
	"context"
	"fmt"
	"time"
)

// The approval message goes out after the close is committed. A process
// that dies between the two would leave a closed campaign that nobody is
// asked to approve, so handing the plan to the notifier ends with an
// audit entry (ApprovalQueuedType), and the leader's tick hands it again
// for every closed campaign without one. The approval message and its
// CSV carry fixed outbox keys per campaign, so handing it twice posts it
// once.

// ApprovalQueuedType is the audit event type recording that a closed
// campaign's plan was handed to be posted for approval.
const ApprovalQueuedType = "approval.queued"

// announceClosed hands the closed campaign's plan to the notifier and,
// when it was taken, records so.
func (e *Engine) announceClosed(ctx context.Context, c *Campaign, n Notification, now time.Time, resumed bool) error {
	if err := e.deliver(ctx, n); err != nil || ctx.Err() != nil {
		return nil // the tick hands it again
	}
	return e.Store.AppendEvent(ctx, Event{At: now, CampaignID: c.ID, Type: ApprovalQueuedType, Actor: System,
		Detail: map[string]any{"resumed": resumed}})
}

// resumeApprovals hands again the plan of every campaign awaiting
// approval whose handing was not recorded, once fanOutLease has passed
// since its close (the process that closed it may still be at it).
func (e *Engine) resumeApprovals(ctx context.Context, now time.Time) error {
	list, err := e.Store.ListCampaigns(ctx, StateClosed)
	if err != nil {
		return err
	}
	for i := range list {
		c := &list[i]
		if now.Sub(c.ClosedAt) < fanOutLease {
			continue
		}
		done, err := e.hasEvent(ctx, c.ID, ApprovalQueuedType)
		if err != nil {
			return fmt.Errorf("campaign %d: %w", c.ID, err)
		}
		if done {
			continue
		}
		if err := e.announceClosed(ctx, c, Notification{Kind: NoteClosed, CampaignID: c.ID, Campaign: c.Name,
			Text: "the plan is ready for approval (posted again after an interruption)"}, now, true); err != nil {
			return fmt.Errorf("campaign %d: %w", c.ID, err)
		}
	}
	return nil
}
