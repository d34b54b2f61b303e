package handlers

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// delegateRefusals say why a delegation was refused, naming no one.
var delegateRefusals = map[string]string{
	campaign.EForbidden: "You have no open items of this member to hand over.",
	campaign.EConflict:  "This review stage is closed; it can no longer be handed over.",
	campaign.EInvalid:   "That person cannot take over this review; choose someone else.",
	campaign.ENotFound:  "That person is not someone attest knows in Okta.",
}

// openDelegate opens the delegate modal for one member's review. The
// modal names the member, so it opens only for someone who reviews the
// member's cases in this campaign; a forged value learns nothing.
func (x *Interactions) openDelegate(ctx context.Context, cb slack.InteractionCallback, ref blocks.Ref, actor campaign.Actor) error {
	c, err := x.Campaigns.GetCampaign(ctx, ref.ID)
	if err != nil {
		return refuse(err, map[string]string{campaign.ENotFound: "This review no longer exists."})
	}
	if actor.UserID == ref.Member {
		return errNotYourForm
	}
	ok, err := x.holdsCases(ctx, c.ID, actor.UserID, ref.Member)
	if err != nil {
		return err
	}
	if !ok {
		return errNotYourForm
	}
	m, err := x.Campaigns.FindUser(ctx, c.SnapshotID, ref.Member)
	if err != nil {
		return fmt.Errorf("find member %s of campaign %d: %w", ref.Member, c.ID, err)
	}
	_, err = x.Views.OpenViewContext(ctx, cb.TriggerID, blocks.DelegateModalView(blocks.DelegateModal{
		Member: blocks.Person{Name: m.DisplayName(), Email: m.Email}, Form: ref}))
	return err
}

// submitDelegate hands the review to the chosen user; the engine checks
// that the actor holds open cases of the member.
func (x *Interactions) submitDelegate(ctx context.Context, cb slack.InteractionCallback, actor campaign.Actor) map[string]string {
	ref, err := blocks.ParseFormMetadata(cb.View.PrivateMetadata)
	if err != nil {
		x.Log.Warn().Err(err).Str("slack_user", cb.User.ID).Msg("delegate submission with a value attest did not emit")
		return map[string]string{blocks.BlockDelegateTo: "This form is no longer valid."}
	}
	to := cb.View.State.Values[blocks.BlockDelegateTo][blocks.ActionUser].SelectedUser
	target, err := x.Store.SlackUserBySlack(ctx, to)
	if err != nil {
		return map[string]string{blocks.BlockDelegateTo: "That person has no Okta account attest knows."}
	}
	n, err := x.Engine.Delegate(ctx, campaign.DelegateRequest{CampaignID: ref.ID, Actor: actor, Member: ref.Member, To: target.OktaUserID})
	if err != nil {
		x.Log.Info().Err(err).Int64("campaign", ref.ID).Str("user", actor.UserID).Msg("delegation refused")
		return map[string]string{blocks.BlockDelegateTo: sentence(x.Log, refuse(err, delegateRefusals))}
	}
	if err := x.Out.PostDM(ctx, actor.UserID, "delegated:"+cb.View.ID, fmt.Sprintf("Delegated %d case(s) to %s.", n, slackMention(to))); err != nil {
		x.Log.Warn().Err(err).Msg("confirm delegation")
	}
	return nil
}
