package handlers

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// OutboxStore is what the outbound half writes to and reads for forms:
// the durable outbox the sender drains, and a snapshot's display data.
type OutboxStore interface {
	Enqueue(ctx context.Context, items ...slackrec.OutboxItem) (int, error)
	OutboxProgress(ctx context.Context, prefix string) (map[string]int, error)
	SnapshotApps(ctx context.Context, snapshotID int64) ([]campaign.App, error)
	SnapshotGroupNames(ctx context.Context, snapshotID int64) (map[string]string, error)
	UserUsage(ctx context.Context, snapshotID int64, userID string) (map[string]time.Time, error)
}

// CampaignReader is what the outbound half reads about campaigns.
type CampaignReader interface {
	GetCampaign(ctx context.Context, id int64) (*campaign.Campaign, error)
	Cases(ctx context.Context, campaignID int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error)
	FindUser(ctx context.Context, snapshotID int64, key string) (campaign.User, error)
	Plan(ctx context.Context, campaignID int64) ([]campaign.PlanItem, error)
	Approvals(ctx context.Context, campaignID int64) ([]campaign.Approval, error)
}

// Reporter summarises a campaign (for the live status message).
type Reporter interface {
	Report(ctx context.Context, id int64) (*campaign.Report, error)
}

// Notifier is the outbound half: the campaign.Notifier that turns engine
// notifications into Slack messages in the durable outbox, and the
// renderer of every message the inbound half updates. Every text it
// builds escapes its data (names, labels, reasons from Okta or people).
type Notifier struct {
	Outbox    OutboxStore
	Campaigns CampaignReader
	Reports   Reporter
	// SignOffs reads what sign-off messages show; nil: none are sent.
	SignOffs SignOffFactsReader
	// Owners reads the app-owner stage's work for owner forms; nil: read
	// from Reports when that is the engine.
	Owners   OwnerWorkReader
	Settings Settings
	Log      zerolog.Logger
	Now      func() time.Time

	mu     sync.Mutex
	lookup map[int64]*snapLookup // per snapshot: app links, group names
	// statusMinute is, per campaign, the minute whose status update this
	// process queued (see RefreshStatus).
	statusMinute sync.Map
}

var _ campaign.Notifier = (*Notifier)(nil)

var _ Outbound = (*Notifier)(nil)

func (n *Notifier) now() time.Time {
	if n.Now == nil {
		return time.Now().UTC()
	}
	return n.Now().UTC()
}

// dateLayout is how plain texts show a deadline.
const dateLayout = "Mon 2 Jan 15:04 UTC"

// Notify turns an engine notification into queued Slack messages: forms to
// members and reviewers, reminders, the approval message at close and
// its thread. Messages for the IAM team ("" recipient) go to the
// approvals channel. It returns the store's error.
func (n *Notifier) Notify(ctx context.Context, note campaign.Notification) error {
	c, err := n.Campaigns.GetCampaign(ctx, note.CampaignID)
	if err != nil {
		return fmt.Errorf("notify %s: campaign %d: %w", note.Kind, note.CampaignID, err)
	}
	stamp := strconv.FormatInt(n.now().UnixNano(), 36)
	name := blocks.Escape(c.Name)
	switch note.Kind {
	case campaign.NoteMemberForm:
		return n.sendMemberForm(ctx, c, note.To, note.Key != "")
	case campaign.NoteReviewerForm, campaign.NoteEscalated, campaign.NoteDelegated, campaign.NoteOwnerForm:
		return n.sendStageForms(ctx, c, note, note.Kind+stamp)
	case campaign.NoteReminder:
		text := fmt.Sprintf("Reminder: you have %d open item(s) in *%s*, due %s.", note.Open, name, note.Deadline.Format(dateLayout))
		if note.Total > 0 {
			text = fmt.Sprintf("Your team's self-attestation in *%s*: %d of %d answered; due %s.", name, note.Answered, note.Total,
				note.Deadline.Format(dateLayout))
		}
		// The engine keys a reminder per person and slot, so one retried
		// after a crash is queued once.
		key := note.Key
		if key == "" {
			key = "remind:" + strconv.FormatInt(c.ID, 10) + ":" + note.To + ":" + stamp
		}
		return n.PostDM(ctx, note.To, key, text)
	case campaign.NoteClosed:
		return n.postApproval(ctx, c)
	case campaign.NoteApproved, campaign.NoteRejected:
		if err := n.RefreshApproval(ctx, c, "decided:"+stamp); err != nil {
			return err
		}
		return n.PostThread(ctx, c, "decided:"+stamp, fmt.Sprintf("Plan %s by %s.", c.State, blocks.Escape(note.Text)))
	case campaign.NoteRemediating:
		return n.PostThread(ctx, c, "remediating:"+strconv.Itoa(note.Answered), blocks.Escape(note.Text))
	case campaign.NoteRemediated:
		if err := n.RefreshApproval(ctx, c, "remediated:"+stamp); err != nil {
			return err
		}
		return n.PostThread(ctx, c, "remediated:"+stamp, blocks.Escape(note.Text))
	case campaign.NoteSignOff:
		return n.SendSignOff(ctx, c, note.Key)
	case campaign.NoteCancelled:
		return n.PostDM(ctx, "", "cancelled:"+strconv.FormatInt(c.ID, 10),
			fmt.Sprintf("Campaign %d (%s) was cancelled: %s", c.ID, name, blocks.Escape(note.Text)))
	}
	return nil
}

// target is where a person's messages go: their DM, or the approvals
// channel for the IAM team.
func (n *Notifier) target(to string) string {
	if to == "" {
		return n.Settings.ApprovalsChannel
	}
	return "okta:" + to
}

// PostDM queues a mrkdwn message to an Okta user's DM ("" = the IAM team
// in the approvals channel). The caller escaped the data in text.
func (n *Notifier) PostDM(ctx context.Context, oktaUserID, key, text string) error {
	_, err := n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindPost, Target: n.target(oktaUserID),
		Payload: slackrec.Payload{Text: text}})
	return err
}

// PostTo queues text to a channel ("" = the approvals channel). The text
// is plain: it is escaped whole, so whatever data it carries (an Okta
// login, an event field) is shown and never acted on.
func (n *Notifier) PostTo(ctx context.Context, channel, key, text string) error {
	if channel == "" {
		return n.NotifyIAM(ctx, key, text)
	}
	_, err := n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindPost, Target: channel,
		Payload: slackrec.Payload{Text: blocks.Escape(text)}})
	return err
}

// NotifyIAM queues plain text for the IAM team in the approvals channel,
// escaped whole like PostTo's; without an approvals channel it does nothing.
func (n *Notifier) NotifyIAM(ctx context.Context, key, text string) error {
	if n.Settings.ApprovalsChannel == "" {
		return nil
	}
	return n.PostDM(ctx, "", key, blocks.Escape(text))
}

// DM queues a mrkdwn direct message to a Slack user (a late slash-command
// reply, whose data the command escaped); a queue failure is logged.
func (n *Notifier) DM(ctx context.Context, slackID, key, text string) {
	if _, err := n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindPost, Target: slackID,
		Payload: slackrec.Payload{Text: text}}); err != nil {
		n.Log.Error().Err(err).Msg("queue direct message")
	}
}

// Ephemeral queues a mrkdwn message only slackUser sees, in channel.
func (n *Notifier) Ephemeral(ctx context.Context, channel, slackUser, key, text string) error {
	_, err := n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindEphemeral, Target: channel,
		Payload: slackrec.Payload{Text: text, User: slackUser}})
	return err
}
