package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// maxStatusBlocks keeps a status reply under Slack's 50 blocks.
const maxStatusBlocks = 45

// notFound names a campaign the admin asked for that does not exist.
func notFound(id int64) map[string]string {
	return map[string]string{campaign.ENotFound: fmt.Sprintf("There is no campaign %d.", id)}
}

// status answers `status [ID]`: one campaign, or every open one.
func (x *Interactions) status(ctx context.Context, args []string) Reply {
	var list []campaign.Campaign
	if len(args) > 0 {
		id, reply := x.campaignArg("status", args[:1])
		if id == 0 {
			return reply
		}
		c, err := x.Campaigns.GetCampaign(ctx, id)
		if err != nil {
			return Reply{Text: userMessage(x.Log, refuse(err, notFound(id)))}
		}
		list = append(list, *c)
	} else {
		var err error
		if list, err = x.Campaigns.ListCampaigns(ctx, campaign.StateStage1, campaign.StateStage2, campaign.StateStage3, campaign.StateClosed); err != nil {
			return Reply{Text: userMessage(x.Log, fmt.Errorf("list campaigns: %w", err))}
		}
	}
	if len(list) == 0 {
		return Reply{Text: "No open campaigns."}
	}
	var all []slack.Block
	for i := range list {
		s, err := x.Out.StatusView(ctx, &list[i])
		if err != nil {
			return Reply{Text: userMessage(x.Log, err)}
		}
		b := blocks.StatusBlocks(s)
		if len(all)+len(b) > maxStatusBlocks {
			break
		}
		all = append(all, b...)
	}
	return Reply{Text: "Campaign status", Blocks: all}
}

// remindNow reminds everyone with open work in a campaign at once (the
// caller checked that an IAM admin asked).
func (x *Interactions) remindNow(ctx context.Context, id int64) Reply {
	c, err := x.Campaigns.GetCampaign(ctx, id)
	if err != nil {
		return Reply{Text: userMessage(x.Log, refuse(err, notFound(id)))}
	}
	p, err := x.Campaigns.CaseProgress(ctx, id)
	if err != nil {
		return Reply{Text: userMessage(x.Log, fmt.Errorf("progress of campaign %d: %w", id, err))}
	}
	stamp := strconv.FormatInt(x.now().Unix(), 36)
	open, deadline := p.MemberOpen, c.Stage1Ends
	if c.State == campaign.StateStage2 {
		open, deadline = p.ReviewerOpen, c.Deadline
	}
	if c.State == campaign.StateStage3 {
		open = nil // app owners are reminded by the engine's stage-3 reminders
	}
	n := 0
	for person, k := range open {
		if k == 0 || !c.State.Open() {
			continue
		}
		text := fmt.Sprintf("Reminder from the IAM team: %d open item(s) in *%s*, due %s.", k, blocks.Escape(c.Name),
			deadline.Format("Mon 2 Jan 15:04 UTC"))
		if err := x.Out.PostDM(ctx, person, "remind-now:"+strconv.FormatInt(id, 10)+":"+person+":"+stamp, text); err != nil {
			return Reply{Text: userMessage(x.Log, fmt.Errorf("queue reminder: %w", err))}
		}
		n++
	}
	return Reply{Text: fmt.Sprintf("Reminded %d people in campaign %d.", n, id)}
}

// report posts a campaign's summary and CSV to the IAM channel.
func (x *Interactions) report(ctx context.Context, id int64) Reply {
	r, err := x.Engine.Report(ctx, id)
	if err != nil {
		return Reply{Text: userMessage(x.Log, refuse(err, notFound(id)))}
	}
	text, err := x.Out.PostReport(ctx, r, "report:"+strconv.FormatInt(x.now().UnixNano(), 36))
	if err != nil {
		return Reply{Text: userMessage(x.Log, err)}
	}
	return Reply{Text: text + " The CSV is posted in the IAM channel."}
}

// retryRefusals say why a retry was refused.
func retryRefusals(id int64) map[string]string {
	return map[string]string{
		campaign.EForbidden: "Only approvers may retry failed removals.",
		campaign.EConflict:  fmt.Sprintf("Campaign %d has no failed removals to retry now.", id),
		campaign.ENotFound:  fmt.Sprintf("There is no campaign %d.", id),
	}
}

// retry requeues a campaign's failed removals: `retry ID`, approvers only
// (the engine checks, asking Slack for group membership now).
func (x *Interactions) retry(ctx context.Context, cmd slack.SlashCommand, args []string) Reply {
	id, reply := x.campaignArg("retry", args)
	if id == 0 {
		return reply
	}
	x.TellStarting(ctx, cmd.ResponseURL) // before the first user map, say so at once (access_ready.go)
	actor, err := x.Access.ActorIn(ctx, cmd.UserID, cmd.TeamID, cmd.EnterpriseID)
	if err != nil {
		return Reply{Text: userMessage(x.Log, err)}
	}
	ctx, checks := withCheckNote(ctx)
	n, err := x.Engine.RetryFailed(ctx, id, actor)
	if err = checks.explain(err); err != nil {
		x.Log.Info().Err(err).Int64("campaign", id).Str("slack_user", cmd.UserID).Msg("retry refused")
		return Reply{Text: userMessage(x.Log, refuse(err, retryRefusals(id)))}
	}
	return Reply{Text: fmt.Sprintf("Requeued %d failed removal(s) of campaign %d; the executor picks them up within a minute.", n, id)}
}

// planRefusals say why a plan decision was refused, naming no one.
func planRefusals(verb string) map[string]string {
	return map[string]string{
		campaign.EForbidden: "You may not " + verb + " this plan: only configured approvers may, and never the campaign's launcher.",
		campaign.EConflict:  "This plan was already decided, or its campaign is not closed yet.",
		campaign.ENotFound:  "This plan's campaign no longer exists.",
	}
}

// planAction approves or rejects a plan from the approvals channel; the
// engine checks the approver list (asking Slack now) and the launcher.
func (x *Interactions) planAction(ctx context.Context, cb slack.InteractionCallback, action string, ref blocks.Ref, actor campaign.Actor) error {
	decide, verb := x.Engine.Approve, "approve"
	if action == blocks.ActionPlanReject {
		decide, verb = x.Engine.Reject, "reject"
	}
	c, n, err := decide(ctx, ref.ID, actor)
	if err != nil {
		if errors.Is(err, campaign.ErrConflict) && c != nil && c.State != campaign.StateClosed {
			return campaign.WithMessage(err, fmt.Sprintf("This plan was already decided: it is %s. The approval message shows who decided.", c.State))
		}
		return refuse(err, planRefusals(verb))
	}
	stamp := "click:" + cb.TriggerID
	if err := x.Out.RefreshApproval(ctx, c, stamp); err != nil {
		return err
	}
	return x.Out.PostThread(ctx, c, stamp, fmt.Sprintf("%s %sd the plan (%s).", slackMention(cb.User.ID), verb, x.approvalTally(ctx, c.ID, n)))
}

// slackMention returns "<@U123>" for a Slack user id from a payload, or
// the escaped text when it does not look like one.
func slackMention(id string) string {
	if id == "" || len(id) > 20 {
		return "someone"
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return blocks.Escape(id)
		}
	}
	return "<@" + id + ">"
}

// sweepRefusals say why a sweep review was refused.
var sweepRefusals = map[string]string{
	campaign.EForbidden: "You may not start this review.",
	campaign.EInvalid:   "This sweep found nothing that can be reviewed.",
	campaign.ENotFound:  "This sweep is no longer kept; run a new one.",
	campaign.EConflict:  "A review of this sweep was already started.",
}

// sweepAction launches the review of a sweep's findings (IAM admins). The
// engine claims the sweep before it launches, so two clicks launch once.
func (x *Interactions) sweepAction(ctx context.Context, cb slack.InteractionCallback, ref blocks.Ref, actor campaign.Actor) error {
	if err := x.Access.requireAdmin(ctx, cb.User.ID, "start reviews"); err != nil {
		return err
	}
	c, err := x.Engine.LaunchSweepReview(ctx, ref.ID, actor, nil)
	if err != nil {
		return refuse(err, sweepRefusals)
	}
	x.Out.PostStatus(ctx, c)
	entitlements := 0
	if x.Sweeps != nil {
		if covered, _, err := x.Sweeps.Sweep(ctx, ref.ID); err == nil {
			entitlements = len(covered)
		}
	}
	return x.Out.SweepLaunched(ctx, ref.ID, entitlements,
		fmt.Sprintf("Review launched by %s: campaign %d (%d cases).", actor.String(), c.ID, entitlements))
}
