package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// BlockActions handles a click, after the envelope was acknowledged. Each
// interaction is handled once (a redelivered envelope carries the same
// trigger id); unknown actions are dropped and logged.
func (h *Handler) BlockActions(ctx context.Context, cb slack.InteractionCallback, payloadSHA string) {
	if len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID == blocks.ActionDecision || act.ActionID == blocks.ActionComment || act.ActionID == blocks.ActionDeadline {
		return // a selection inside a form: nothing to do until Submit
	}
	if act.ActionID == blocks.ActionDefinition && cb.View.CallbackID == blocks.CallbackLaunch {
		h.previewLaunch(ctx, cb, act.SelectedOption.Value)
		return
	}
	if first, err := h.Store.MarkHandled(ctx, "act:"+cb.TriggerID+":"+act.ActionID, h.now()); err != nil || !first {
		return
	}
	log := h.Log.With().Str("action", act.ActionID).Str("slack_user", cb.User.ID).Logger()
	actor, err := h.actor(ctx, cb.User.ID, cb.User.TeamID)
	actor.SlackActionTS, actor.PayloadSHA256 = act.ActionTs, payloadSHA
	if err != nil {
		log.Warn().Err(err).Msg("click by an unmapped user refused")
		h.ephemeral(ctx, cb, userMessage(err))
		return
	}
	switch act.ActionID {
	case blocks.ActionMemberSubmit, blocks.ActionReviewerSubmit, blocks.ActionEditAnswers, blocks.ActionConfirmMember:
		err = h.formAction(ctx, cb, act, actor)
	case blocks.ActionPlanApprove, blocks.ActionPlanReject:
		err = h.planAction(ctx, cb, act, actor)
	case blocks.ActionDelegate:
		err = h.openDelegate(ctx, cb, act, actor)
	case blocks.ActionSweepReview:
		err = h.sweepAction(ctx, cb, act, actor)
	case blocks.ActionOpenReview, blocks.ActionCampaignRemind, blocks.ActionCampaignClose:
		err = h.homeAction(ctx, cb, act, actor)
	default:
		log.Warn().Msg("unknown action dropped")
		return
	}
	if err != nil {
		log.Info().Err(err).Msg("action refused")
		h.ephemeral(ctx, cb, userMessage(err))
	}
}

// ephemeral answers the clicking user only.
func (h *Handler) ephemeral(ctx context.Context, cb slack.InteractionCallback, text string) {
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	if channel == "" {
		return
	}
	if _, err := h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: "eph:" + cb.TriggerID, Kind: slackrec.KindEphemeral, Target: channel,
		Payload: slackrec.Payload{Text: text, User: cb.User.ID}}); err != nil {
		h.Log.Error().Err(err).Msg("queue ephemeral reply")
	}
}

// formAction submits, edits or bulk-confirms one page of a form.
func (h *Handler) formAction(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, actor campaign.Actor) error {
	kind, cid, member, page, ok := parseButton(act.Value)
	if !ok || (kind != "m" && kind != "r") {
		return fmt.Errorf("this button is not one of attest's forms: %w", campaign.ErrInvalid)
	}
	c, err := h.Campaign.GetCampaign(ctx, cid)
	if err != nil {
		return err
	}
	ref := memberRef(cid, member, page)
	target := "okta:" + member
	if kind == "r" {
		ref, target = reviewerRef(cid, actor.UserID, member, page), "okta:"+actor.UserID
	}
	if kind == "m" && actor.UserID != member {
		return fmt.Errorf("this form belongs to someone else; only they can answer it: %w", campaign.ErrForbidden)
	}
	switch act.ActionID {
	case blocks.ActionEditAnswers:
		return h.renderPage(ctx, c, kind, actor.UserID, member, page, target, ref, cb.TriggerID)
	case blocks.ActionConfirmMember:
		if _, err := h.Engine.ConfirmMember(ctx, cid, actor, member); err != nil {
			return err
		}
		return h.renderAnswered(ctx, c, kind, actor.UserID, member, page, target, ref, cb.TriggerID)
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
				continue
			}
			v := acts[blocks.ActionDecision].SelectedOption.Value
			if v == "" {
				continue // left open: partial answers are kept
			}
			if _, err := h.Engine.Answer(ctx, campaign.AnswerRequest{CampaignID: cid, Actor: actor, CaseID: caseID, Decision: v, Comment: comment}); err != nil {
				if errors.Is(err, campaign.ErrConflict) {
					c2, _ := h.Campaign.GetCampaign(ctx, cid)
					_ = h.renderClosed(ctx, c2, target, ref, cb.TriggerID, err)
					return err
				}
				errs = append(errs, err)
				continue
			}
			answered++
		}
	}
	if err := h.renderAnswered(ctx, c, kind, actor.UserID, member, page, target, ref, cb.TriggerID); err != nil {
		return err
	}
	if answered > 0 {
		if err := h.RefreshStatus(ctx, cid); err != nil {
			h.Log.Warn().Err(err).Msg("refresh live status")
		}
	}
	return errors.Join(errs...)
}

// renderPage re-posts a form page in place of its summary.
func (h *Handler) renderPage(ctx context.Context, c *campaign.Campaign, kind, actor, member string, page int, target, ref, key string) error {
	var pages [][]slack.Block
	var err error
	if kind == "m" {
		pages, err = h.memberPages(ctx, c, member)
	} else {
		pages, _, err = h.reviewerPages(ctx, c, actor, member)
	}
	if err != nil {
		return err
	}
	if page > len(pages) {
		return fmt.Errorf("this form page no longer exists: %w", campaign.ErrConflict)
	}
	return h.updateMessage(ctx, target, ref, key, "Access review: "+c.Name, pages[page-1])
}

// renderAnswered replaces a submitted page with a read-only summary and,
// while the stage is open, an "Edit answers" button.
func (h *Handler) renderAnswered(ctx context.Context, c *campaign.Campaign, kind, actor, member string, page int, target, ref, key string) error {
	q := campaign.CaseQuery{UserID: member}
	if kind == "r" {
		q.ReviewerID = &actor
	}
	cases, err := h.Campaign.Cases(ctx, c.ID, q)
	if err != nil {
		return err
	}
	campaign.SortByRisk(cases)
	slice := blocks.PageSlice(cases, page)
	a := blocks.Answered{Campaign: c.Name, Title: "Your answers", Editable: c.State.Open(),
		ButtonValue: buttonValue(kind, c.ID, member, page)}
	if kind == "r" {
		m, _ := h.Campaign.FindUser(ctx, c.SnapshotID, member)
		a.Title = "Your decisions for " + m.DisplayName()
	}
	for _, cs := range slice {
		d, comment := cs.MemberDecision, cs.MemberComment
		if kind == "r" {
			d, comment = cs.ReviewerDecision, cs.ReviewerComment
		}
		a.Rows = append(a.Rows, blocks.AnsweredRow{Label: cs.Label, Decision: d, Comment: comment})
	}
	return h.updateMessage(ctx, target, ref, key, "Answers recorded for "+c.Name, blocks.AnsweredBlocks(a))
}

// renderClosed marks a form whose stage or campaign has closed.
func (h *Handler) renderClosed(ctx context.Context, c *campaign.Campaign, target, ref, key string, why error) error {
	name := ""
	if c != nil {
		name = c.Name
	}
	return h.updateMessage(ctx, target, ref, key+":closed", "Review closed", blocks.AnsweredBlocks(blocks.Answered{
		Campaign: name, Title: "This review is closed", ClosedNote: userMessage(why)}))
}

// planAction approves or rejects a plan from the approvals channel.
func (h *Handler) planAction(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, actor campaign.Actor) error {
	_, cid, _, _, ok := parseButton(act.Value)
	if !ok {
		return fmt.Errorf("this button is not one of attest's plans: %w", campaign.ErrInvalid)
	}
	decide := h.Engine.Approve
	if act.ActionID == blocks.ActionPlanReject {
		decide = h.Engine.Reject
	}
	c, n, err := decide(ctx, cid, actor)
	if errors.Is(err, campaign.ErrConflict) && c != nil && c.State != campaign.StateClosed {
		approvals, _ := h.Campaign.Approvals(ctx, cid)
		who := []string{}
		for _, a := range approvals {
			who = append(who, a.Approver+" ("+a.Decision+")")
		}
		return fmt.Errorf("this plan was already decided: %s by %s: %w", c.State, strings.Join(who, ", "), campaign.ErrConflict)
	}
	if err != nil {
		return err
	}
	stamp := "click:" + cb.TriggerID
	if err := h.refreshApproval(ctx, c, stamp); err != nil {
		return err
	}
	verb := "approved"
	if act.ActionID == blocks.ActionPlanReject {
		verb = "rejected"
	}
	return h.postThread(ctx, c, stamp, fmt.Sprintf("<@%s> %s the plan (%d of %d approvals).", cb.User.ID, verb, n,
		c.Definition.Approval.Required))
}

// itoa formats an id.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
