package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// The control owner's sign-off in Slack: once a campaign's removals are
// done and read back, its owner gets a DM with the summary, exceptions,
// manual items still open and the evidence digest, and "Sign off" and
// "Decline…" buttons. The click is checked by the engine (Okta id of the
// owner, step-up when configured) and recorded by the evidence package's
// SignOff, the CLI's path, bound to the digest the message showed.

// SignOffFactsReader reads what a sign-off message shows (campaign.Engine).
type SignOffFactsReader interface {
	SignOffFacts(ctx context.Context, id int64) (campaign.SignOffFacts, error)
}

// SignOffEngine is the sign-off side of the engine (campaign.Engine).
type SignOffEngine interface {
	SignOffFactsReader
	SignOff(ctx context.Context, req campaign.SignOffRequest) (campaign.Event, error)
}

// SignOffMessages posts and updates sign-off messages (the Notifier).
type SignOffMessages interface {
	SendSignOff(ctx context.Context, c *campaign.Campaign, key string) error
	MarkSignOff(ctx context.Context, c *campaign.Campaign, digest string, ev campaign.Event, key string) error
}

var _ SignOffMessages = (*Notifier)(nil)

// signOffRef is the outbox ref of the sign-off message showing digest.
func signOffRef(cid int64, digest string) string {
	return "signoff:" + strconv.FormatInt(cid, 10) + ":" + digest
}

// signOffView builds the message from the evidence as it is now.
func (n *Notifier) signOffView(ctx context.Context, c *campaign.Campaign) (blocks.SignOff, error) {
	if n.SignOffs == nil {
		return blocks.SignOff{}, fmt.Errorf("sign-off message for campaign %d: no sign-off recorder: %w", c.ID, campaign.ErrInvalid)
	}
	f, err := n.SignOffs.SignOffFacts(ctx, c.ID)
	if err != nil {
		return blocks.SignOff{}, fmt.Errorf("sign-off message for campaign %d: %w", c.ID, err)
	}
	owner := blocks.Person{Email: c.Owner}
	if u, err := n.Campaigns.FindUser(ctx, c.SnapshotID, c.OwnerID); err == nil {
		owner = blocks.Person{Name: u.DisplayName(), Email: u.Email}
	}
	return blocks.SignOff{CampaignID: c.ID, Campaign: c.Name, Owner: owner, Summary: f.Summary, Exceptions: f.Exceptions,
		ManualOpen: f.ManualOpen, Digest: f.EvidenceSHA256, State: blocks.SignOffOpen}, nil
}

// SendSignOff DMs the campaign's owner the sign-off message for the
// evidence as it is now; key makes the post idempotent. A campaign with no
// owner in Okta (an event review) gets none, nor does any without a
// sign-off recorder configured (the CLI's sign-off remains).
func (n *Notifier) SendSignOff(ctx context.Context, c *campaign.Campaign, key string) error {
	if c.OwnerID == "" || n.SignOffs == nil {
		return nil
	}
	v, err := n.signOffView(ctx, c)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(blocks.SignOffBlocks(v))
	if err != nil {
		return fmt.Errorf("encode sign-off message: %w", err)
	}
	// One message per digest: a notification retried, or a second fresh
	// message for evidence that did not change again, posts nothing new.
	ref := signOffRef(c.ID, v.Digest)
	_, err = n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: "post:" + ref, Kind: slackrec.KindPost, Target: n.target(c.OwnerID), Ref: ref,
		Payload: slackrec.Payload{Text: blocks.Fallback(fmt.Sprintf("Please sign off the access review %s", c.Name)), Blocks: raw}})
	n.Log.Info().Int64("campaign", c.ID).Str("user", c.OwnerID).Str("key", key).Msg("sign-off message queued")
	return err
}

// MarkSignOff updates the sign-off message that showed digest to say who
// signed or declined, when and why; its buttons go.
func (n *Notifier) MarkSignOff(ctx context.Context, c *campaign.Campaign, digest string, ev campaign.Event, key string) error {
	v, err := n.signOffView(ctx, c)
	if err != nil {
		return err
	}
	v.Digest, v.At, v.By = digest, ev.At, blocks.Person{Email: ev.Actor.Email, SlackID: ev.Actor.SlackUserID}
	v.State = blocks.SignOffSigned
	if ev.Type == campaign.EventSignOffDeclined {
		v.State = blocks.SignOffDeclined
		v.Reason, _ = ev.Detail["reason"].(string)
	}
	return n.updateMessage(ctx, n.target(c.OwnerID), signOffRef(c.ID, digest), key,
		fmt.Sprintf("Sign-off of %s: %s", c.Name, v.State), blocks.SignOffBlocks(v))
}

// signOffRefusals say why a sign-off was refused, by kind.
var signOffRefusals = map[string]string{
	campaign.EForbidden: "Only the campaign's control owner may sign off its evidence.",
	campaign.EConflict:  "This campaign cannot be signed off now.",
	campaign.ENotFound:  "This campaign no longer exists.",
	campaign.EInvalid:   "Sign-off is not available in Slack here; use `attest evidence sign-off`.",
}

// signOffAction handles the sign-off message's buttons: "Decline…" opens
// the reason modal; "Sign off" signs, bound to the digest the message
// showed. When the evidence changed since, nothing is signed and a fresh
// message is posted.
func (x *Interactions) signOffAction(ctx context.Context, cb slack.InteractionCallback, action string, ref blocks.Ref, actor campaign.Actor) error {
	if x.SignOffs == nil || x.SignOffOut == nil {
		return campaign.Errorf(campaign.EInvalid, "%s", signOffRefusals[campaign.EInvalid])
	}
	c, err := x.Campaigns.GetCampaign(ctx, ref.ID)
	if err != nil {
		return refuse(err, signOffRefusals)
	}
	if action == blocks.ActionSignOffDecline {
		_, err := x.Views.OpenViewContext(ctx, cb.TriggerID, blocks.SignOffDeclineModal(c.Name, ref))
		return err
	}
	ev, err := x.SignOffs.SignOff(ctx, campaign.SignOffRequest{CampaignID: c.ID, Actor: actor, EvidenceSHA256: ref.Digest})
	return x.afterSignOff(ctx, c, ref, ev, err, "click:"+cb.TriggerID)
}

// afterSignOff updates the message after a sign-off or decline, or posts
// a fresh one when the evidence changed; it returns the error to show.
func (x *Interactions) afterSignOff(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, ev campaign.Event, err error, key string) error {
	var changed *campaign.EvidenceChangedError
	if errors.As(err, &changed) {
		x.Log.Info().Int64("campaign", c.ID).Str("shown", changed.Shown).Str("current", changed.Current).
			Msg("sign-off refused: the evidence changed; posting a fresh message")
		if perr := x.SignOffOut.SendSignOff(ctx, c, "fresh:"+key); perr != nil {
			x.Log.Error().Err(perr).Int64("campaign", c.ID).Msg("post a fresh sign-off message")
		}
		return err
	}
	if err != nil {
		return refuse(err, signOffRefusals)
	}
	x.Log.Info().Int64("campaign", c.ID).Str("user", ev.Actor.UserID).Str("event", ev.Type).Msg("control owner sign-off recorded")
	return x.SignOffOut.MarkSignOff(ctx, c, ref.Digest, ev, key)
}

// submitSignOffDecline handles the decline modal: the reason is required;
// the decline (which may wait for an Okta Verify push) runs after the
// modal closes, and its result updates the message or reaches the person
// by DM.
func (x *Interactions) submitSignOffDecline(ctx context.Context, cb slack.InteractionCallback, actor campaign.Actor) map[string]string {
	ref, err := blocks.ParseSignOffMetadata(cb.View.PrivateMetadata)
	if err != nil {
		x.Log.Warn().Err(err).Str("slack_user", cb.User.ID).Msg("sign-off decline with a value attest did not emit")
		return map[string]string{blocks.BlockSignOffReason: "This form is no longer valid."}
	}
	reason := strings.TrimSpace(cb.View.State.Values[blocks.BlockSignOffReason][blocks.ActionSignOffReason].Value)
	if reason == "" {
		return map[string]string{blocks.BlockSignOffReason: "Say why you do not sign off."}
	}
	if x.SignOffs == nil || x.SignOffOut == nil {
		return map[string]string{blocks.BlockSignOffReason: signOffRefusals[campaign.EInvalid]}
	}
	key := "decline:" + cb.View.ID
	x.spawn(ctx, 5*time.Minute, func(ctx context.Context) {
		c, err := x.Campaigns.GetCampaign(ctx, ref.ID)
		if err == nil {
			var ev campaign.Event
			ev, err = x.SignOffs.SignOff(ctx, campaign.SignOffRequest{CampaignID: ref.ID, Actor: actor, EvidenceSHA256: ref.Digest,
				Decline: true, Reason: reason})
			err = x.afterSignOff(ctx, c, ref, ev, err, key)
		}
		if err != nil {
			x.Log.Info().Err(err).Int64("campaign", ref.ID).Str("user", actor.UserID).Msg("sign-off decline refused")
			if perr := x.Out.PostDM(ctx, actor.UserID, key, userMessage(x.Log, refuse(err, signOffRefusals))); perr != nil {
				x.Log.Error().Err(perr).Msg("tell the owner why the decline was refused")
			}
		}
	})
	return nil
}
