package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// PublishHome renders a user's App Home: their pending reviews and, for
// IAM admins, every active campaign with its progress. It returns the
// store's or Slack's error.
func (x *Interactions) PublishHome(ctx context.Context, slackID, teamID string) error {
	home := blocks.Home{}
	actor, aerr := x.Access.Actor(ctx, slackID, teamID)
	open, err := x.Campaigns.ListCampaigns(ctx, campaign.StateStage1, campaign.StateStage2, campaign.StateStage3)
	if err != nil {
		return fmt.Errorf("list open campaigns: %w", err)
	}
	if aerr == nil {
		for i := range open {
			c := &open[i]
			p, err := x.Campaigns.CaseProgress(ctx, c.ID)
			if err != nil {
				return fmt.Errorf("progress of campaign %d: %w", c.ID, err)
			}
			if n := p.MemberOpen[actor.UserID]; c.State == campaign.StateStage1 && n > 0 {
				home.Pending = append(home.Pending, blocks.Pending{CampaignID: c.ID, Campaign: c.Name, Role: "member", Open: n,
					Deadline: c.Stage1Ends, Button: blocks.HomeRef(c.ID, blocks.HomeMember)})
			}
			if n := p.ReviewerOpen[actor.UserID]; c.State == campaign.StateStage2 && n > 0 {
				home.Pending = append(home.Pending, blocks.Pending{CampaignID: c.ID, Campaign: c.Name, Role: "reviewer", Open: n,
					Deadline: c.Deadline, Button: blocks.HomeRef(c.ID, blocks.HomeReviewer)})
			}
			if n, _ := x.ownerPending(ctx, c, actor.UserID); n > 0 {
				home.Pending = append(home.Pending, blocks.Pending{CampaignID: c.ID, Campaign: c.Name, Role: "owner", Open: n,
					Deadline: c.Deadline, Button: blocks.HomeRef(c.ID, blocks.HomeOwner)})
			}
		}
	}
	if admin, _ := x.Access.IsAdmin(ctx, slackID); admin {
		home.Admin = true
		for i := range open {
			s, err := x.Out.StatusView(ctx, &open[i])
			if err != nil {
				return err
			}
			home.Campaigns = append(home.Campaigns, blocks.CampaignRow{CampaignID: s.CampaignID, Campaign: s.Campaign, State: s.State,
				Stage1Answered: s.Stage1Answered, Stage1Total: s.Stage1Total, Stage2Decided: s.Stage2Decided, Stage2Total: s.Stage2Total,
				Escalations: s.Escalations, Overdue: len(s.Overdue), Deadline: s.Deadline,
				Remind: blocks.HomeRef(open[i].ID, blocks.HomeRemind), Close: blocks.HomeRef(open[i].ID, blocks.HomeClose)})
		}
	}
	_, err = x.Views.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: slackID, View: blocks.HomeView(home)})
	return err
}

// closeRefusals say why closing was refused.
func closeRefusals(id int64) map[string]string {
	return map[string]string{
		campaign.EForbidden: fmt.Sprintf("You may not close campaign %d: its owner, IAM reviewers and admins may.", id),
		campaign.EConflict:  fmt.Sprintf("Campaign %d is not open, so it cannot be closed now.", id),
		campaign.ENotFound:  fmt.Sprintf("There is no campaign %d.", id),
	}
}

// homeAction handles the App Home buttons: open a pending review (the
// viewer's own forms are re-sent to their DM), and for IAM admins send
// reminders or close a campaign. The Home is published again after.
func (x *Interactions) homeAction(ctx context.Context, cb slack.InteractionCallback, action string, ref blocks.Ref, actor campaign.Actor) error {
	switch action {
	case blocks.ActionOpenReview:
		c, err := x.Campaigns.GetCampaign(ctx, ref.ID)
		if err != nil {
			return refuse(err, map[string]string{campaign.ENotFound: "This review no longer exists."})
		}
		if ref.Role == blocks.HomeMember {
			err = x.Out.Notify(ctx, campaign.Notification{Kind: campaign.NoteMemberForm, To: actor.UserID, CampaignID: c.ID})
		} else if ref.Role == blocks.HomeOwner {
			err = x.sendOwnerForms(ctx, c, actor.UserID, "home"+cb.TriggerID)
		} else {
			p, perr := x.Campaigns.CaseProgress(ctx, c.ID)
			if perr != nil {
				return fmt.Errorf("progress of campaign %d: %w", c.ID, perr)
			}
			err = x.Out.SendReviewerForms(ctx, c, actor.UserID, p.ReviewerMembers[actor.UserID], "home"+cb.TriggerID)
		}
		if err != nil {
			return err
		}
	case blocks.ActionCampaignRemind:
		if err := x.Access.requireAdmin(ctx, cb.User.ID, "send reminders"); err != nil {
			return err
		}
		r := x.remindNow(ctx, ref.ID)
		if err := x.Out.PostDM(ctx, actor.UserID, "home-remind:"+cb.TriggerID, r.Text); err != nil {
			return err
		}
	case blocks.ActionCampaignClose:
		if err := x.Access.requireAdmin(ctx, cb.User.ID, "close campaigns"); err != nil {
			return err
		}
		if _, _, err := x.Engine.Close(ctx, ref.ID, actor); err != nil {
			return refuse(err, closeRefusals(ref.ID))
		}
	default:
		return errors.New("home action " + action + " has no handler")
	}
	return x.PublishHome(ctx, cb.User.ID, cb.User.TeamID)
}
