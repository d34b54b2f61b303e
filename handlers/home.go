package handlers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// PublishHome renders a user's App Home: their pending reviews and, for
// IAM admins, every active campaign with its progress.
func (h *Handler) PublishHome(ctx context.Context, slackID, teamID string) error {
	home := blocks.Home{}
	actor, err := h.actor(ctx, slackID, teamID)
	open, lerr := h.Campaign.ListCampaigns(ctx, campaign.StateStage1, campaign.StateStage2)
	if lerr != nil {
		return lerr
	}
	if err == nil {
		for i := range open {
			c := &open[i]
			p, err := h.Campaign.CaseProgress(ctx, c.ID)
			if err != nil {
				return err
			}
			cid := strconv.FormatInt(c.ID, 10)
			if n := p.MemberOpen[actor.UserID]; c.State == campaign.StateStage1 && n > 0 {
				home.Pending = append(home.Pending, blocks.Pending{CampaignID: c.ID, Campaign: c.Name, Role: "member", Open: n,
					Deadline: c.Stage1Ends, ButtonValue: "h:" + cid + ":m:1"})
			}
			if n := p.ReviewerOpen[actor.UserID]; c.State == campaign.StateStage2 && n > 0 {
				home.Pending = append(home.Pending, blocks.Pending{CampaignID: c.ID, Campaign: c.Name, Role: "reviewer", Open: n,
					Deadline: c.Deadline, ButtonValue: "h:" + cid + ":r:1"})
			}
		}
	}
	if admin, _ := h.IsAdmin(ctx, slackID); admin {
		home.Admin = true
		for i := range open {
			s, err := h.statusView(ctx, &open[i])
			if err != nil {
				return err
			}
			cid := strconv.FormatInt(open[i].ID, 10)
			home.Campaigns = append(home.Campaigns, blocks.CampaignRow{CampaignID: s.CampaignID, Campaign: s.Campaign, State: s.State,
				Stage1Answered: s.Stage1Answered, Stage1Total: s.Stage1Total, Stage2Decided: s.Stage2Decided, Stage2Total: s.Stage2Total,
				Escalations: s.Escalations, Overdue: len(s.Overdue), Deadline: s.Deadline,
				RemindValue: "h:" + cid + ":remind:1", CloseValue: "h:" + cid + ":close:1"})
		}
	}
	_, err = h.API.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: slackID, View: blocks.HomeView(home)})
	return err
}

// homeAction handles the App Home buttons.
func (h *Handler) homeAction(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, actor campaign.Actor) error {
	_, cid, what, _, ok := parseButton(act.Value)
	if !ok {
		return fmt.Errorf("this button is not one of attest's: %w", campaign.ErrInvalid)
	}
	c, err := h.Campaign.GetCampaign(ctx, cid)
	if err != nil {
		return err
	}
	switch act.ActionID {
	case blocks.ActionOpenReview:
		// Re-send the forms to the DM: the freshest view of what is open.
		if what == "m" {
			err = h.Notify(ctx, campaign.Notification{Kind: campaign.NoteMemberForm, To: actor.UserID, CampaignID: cid})
		} else {
			p, perr := h.Campaign.CaseProgress(ctx, cid)
			if perr != nil {
				return perr
			}
			err = h.sendReviewerForms(ctx, c, actor.UserID, p.ReviewerMembers[actor.UserID], "home"+cb.TriggerID)
		}
	case blocks.ActionCampaignRemind:
		if ok, aerr := h.IsAdmin(ctx, cb.User.ID); aerr != nil || !ok {
			return fmt.Errorf("only IAM admins may send reminders: %w", campaign.ErrForbidden)
		}
		r := h.remindNow(ctx, cid)
		err = h.post(ctx, actor.UserID, "home-remind:"+cb.TriggerID, r.Text)
	case blocks.ActionCampaignClose:
		if _, _, cerr := h.Engine.Close(ctx, cid, actor); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return err
	}
	return h.PublishHome(ctx, cb.User.ID, cb.User.TeamID)
}

// RefreshUsers maps every Okta user of the latest snapshot to a Slack user
// by email: users.list in pages first, users.lookupByEmail for the rest.
// It returns the Okta users that could not be mapped, for the IAM team.
func (h *Handler) RefreshUsers(ctx context.Context) (mapped int, unmapped []string, err error) {
	info, err := h.Campaign.LatestSnapshot(ctx)
	if err != nil {
		return 0, nil, err
	}
	snap, err := h.Campaign.LoadSnapshot(ctx, info.ID)
	if err != nil {
		return 0, nil, err
	}
	byEmail := map[string]slack.User{}
	p := h.API.GetUsersPaginated(slack.GetUsersOptionLimit(200))
	for {
		if p, err = p.Next(ctx); err != nil {
			if p.Done(err) {
				break
			}
			return 0, nil, fmt.Errorf("slack users.list: %w", err)
		}
		for _, u := range p.Users {
			if !u.Deleted && !u.IsBot && u.Profile.Email != "" {
				byEmail[strings.ToLower(u.Profile.Email)] = u
			}
		}
	}
	// users.lookupByEmail is Tier 3 (about 50 a minute): look up a bounded
	// number of stragglers per refresh; the rest wait for the next one.
	const maxLookups = 100
	lookups := 0
	var out []slackrec.User
	for _, u := range snap.Users {
		if u.Inactive() {
			continue
		}
		var su slack.User
		found := false
		for _, e := range []string{u.Email, u.Login} {
			if x, ok := byEmail[strings.ToLower(e)]; ok && e != "" {
				su, found = x, true
				break
			}
		}
		if !found && u.Email != "" && lookups < maxLookups {
			lookups++
			if x, err := h.API.GetUserByEmailContext(ctx, u.Email); err == nil && x != nil && !x.Deleted {
				su, found = *x, true
			}
		}
		if !found {
			unmapped = append(unmapped, firstOf(u.Email, u.Login))
			continue
		}
		out = append(out, slackrec.User{OktaUserID: u.ID, Email: firstOf(u.Email, u.Login), SlackID: su.ID, TeamID: su.TeamID})
	}
	sort.Strings(unmapped)
	if err := h.Store.ReplaceSlackUsers(ctx, out); err != nil {
		return 0, unmapped, err
	}
	return len(out), unmapped, nil
}

func firstOf(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
