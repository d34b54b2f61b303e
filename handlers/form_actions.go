package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// Sentences for refused form actions. They say only that the form is not
// the clicker's: never whose it is or which case it holds.
var (
	errNotYourForm = campaign.Errorf(campaign.EForbidden, "This form is not yours to answer.")
	answerRefusals = map[string]string{
		campaign.EForbidden: "Some items on this form are not yours to decide; answers to the others were recorded.",
		campaign.EInvalid:   "One of the answers is not valid; please choose again.",
		campaign.ENotFound:  "This form no longer matches the review; open the latest one from the app's Home tab.",
	}
	closedRefusals = map[string]string{
		campaign.EConflict: "This review stage is closed; answers can no longer be changed.",
	}
	confirmRefusals = map[string]string{
		campaign.EForbidden: "Confirming every answer at once is not possible here; decide each item instead.",
		campaign.EConflict:  "This review stage is closed; decisions can no longer be changed.",
	}
)

// formAction submits, edits or bulk-confirms one page of a form. A member
// form is its member's alone; a reviewer form belongs to whoever reviews
// the member's cases, checked before anything is shown.
func (x *Interactions) formAction(ctx context.Context, cb slack.InteractionCallback, action string, ref blocks.Ref, actor campaign.Actor) error {
	c, err := x.Campaigns.GetCampaign(ctx, ref.ID)
	if err != nil {
		return refuse(err, map[string]string{campaign.ENotFound: "This review no longer exists."})
	}
	viewer, err := x.formViewer(ctx, c, ref, actor, clickedIn(cb))
	if err != nil {
		return err
	}
	switch action {
	case blocks.ActionEditAnswers:
		return x.Out.ShowPage(ctx, c, ref, viewer, cb.TriggerID)
	case blocks.ActionConfirmMember:
		if _, err := x.Engine.ConfirmMember(ctx, c.ID, actor, ref.Member); err != nil {
			return refuse(err, confirmRefusals)
		}
		return x.Out.ShowAnswered(ctx, c, ref, viewer, cb.TriggerID)
	}
	comment := ""
	if cb.BlockActionState != nil {
		comment = strings.TrimSpace(cb.BlockActionState.Values[blocks.BlockComment][blocks.ActionComment].Value)
	}
	var errs []error
	answered := 0
	if cb.BlockActionState != nil {
		for blockID, acts := range cb.BlockActionState.Values {
			caseID, ok := blocks.ParseCaseBlockID(blockID)
			if !ok {
				continue // the comment box, or a block attest does not route
			}
			v := acts[blocks.ActionDecision].SelectedOption.Value
			if v == "" {
				continue // left open: partial answers are kept
			}
			_, err := x.Engine.Answer(ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: actor, CaseID: caseID, Decision: v, Comment: comment})
			if errors.Is(err, campaign.ErrConflict) {
				c2, _ := x.Campaigns.GetCampaign(ctx, c.ID)
				if c2 == nil {
					c2 = c
				}
				why := refuse(err, closedRefusals)
				if serr := x.Out.ShowClosed(ctx, c2, ref, viewer, cb.TriggerID, sentence(x.Log, why)); serr != nil {
					x.Log.Warn().Err(serr).Msg("mark form closed")
				}
				return why
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			answered++
		}
	}
	if err := x.Out.ShowAnswered(ctx, c, ref, viewer, cb.TriggerID); err != nil {
		return err
	}
	if answered > 0 {
		if err := x.Out.RefreshStatus(ctx, c.ID); err != nil {
			x.Log.Warn().Err(err).Int64("campaign", c.ID).Msg("refresh live status")
		}
	}
	if len(errs) > 0 {
		// Each refusal is logged whole; the person reads one sentence.
		return refuse(fmt.Errorf("%d of %d answers refused: %w", len(errs), len(errs)+answered, errors.Join(errs...)), answerRefusals)
	}
	return nil
}

// formViewer returns whose view of a form the actor acts in: the member
// themself for a member form. A reviewer form clicked in the approvals
// channel is the IAM team's ("" viewer), so the message clicked is the one
// updated, for whichever allowed person decided: it opens when the member's
// cases are the team's and the engine lets the actor decide for the team
// (iamReviewer), and never turns into a form of the actor's own, even when
// they review some of the member's cases elsewhere. Clicked anywhere else
// (a DM), a reviewer form is the actor's when they review any of the
// member's cases, else the team's as above. Anyone else is refused with a
// sentence that names nobody.
func (x *Interactions) formViewer(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, actor campaign.Actor, channel string) (string, error) {
	switch ref.Kind {
	case blocks.RefMemberForm:
		if actor.UserID != "" && actor.UserID == ref.Member {
			return actor.UserID, nil
		}
	case blocks.RefReviewerForm:
		if actor.UserID == ref.Member {
			break // nobody reviews their own access
		}
		inChannel := channel != "" && channel == x.Settings.ApprovalsChannel
		if !inChannel {
			if ok, err := x.holdsCases(ctx, c.ID, actor.UserID, ref.Member); err != nil || ok {
				return actor.UserID, err
			}
		}
		if ok, err := x.holdsCases(ctx, c.ID, "", ref.Member); err != nil || !ok {
			if err != nil {
				return "", err
			}
			break
		}
		if x.iamReviewer(ctx, c, actor) {
			return "", nil
		}
	}
	return "", errNotYourForm
}

// clickedIn is the channel of the message a click came from ("" when the
// payload names none).
func clickedIn(cb slack.InteractionCallback) string {
	return orElse(cb.Container.ChannelID, cb.Channel.ID)
}

// holdsCases reports whether reviewer ("" = the IAM team) holds any case
// of member in the campaign, open or decided.
func (x *Interactions) holdsCases(ctx context.Context, cid int64, reviewer, member string) (bool, error) {
	if member == "" {
		return false, nil
	}
	rid := reviewer
	cases, err := x.Campaigns.Cases(ctx, cid, campaign.CaseQuery{UserID: member, ReviewerID: &rid})
	if errors.Is(err, campaign.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return len(cases) > 0, nil
}

// IAMDecider is the engine's check of who may decide the IAM team's cases
// of a campaign (campaign.Engine.MayDecideForIAM): people compared by Okta
// id, never by email text.
type IAMDecider interface {
	MayDecideForIAM(ctx context.Context, c *campaign.Campaign, a campaign.Actor) bool
}

var _ IAMDecider = (*campaign.Engine)(nil)

// iamReviewer reports whether the actor may act for the IAM team on c, as
// the engine decides it (IAMDecider). It only filters who sees the team's
// forms; the engine checks each case again. An Engine without the check
// (a test's fake) admits the launcher, by Okta id, and the Slack admins.
func (x *Interactions) iamReviewer(ctx context.Context, c *campaign.Campaign, actor campaign.Actor) bool {
	if d, ok := x.Engine.(IAMDecider); ok {
		return d.MayDecideForIAM(ctx, c, actor)
	}
	if actor.UserID != "" && actor.UserID == c.OwnerID {
		return true
	}
	ok, err := x.Access.IsAdmin(ctx, actor.SlackUserID)
	return ok && err == nil
}

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
