package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

var _ campaign.Notifier = (*Handler)(nil)

// Notify turns an engine notification into queued Slack messages: forms to
// members and reviewers, reminders, and the approval message at close.
// Messages for the IAM team ("" recipient) go to the approvals channel.
func (h *Handler) Notify(ctx context.Context, n campaign.Notification) error {
	c, err := h.Campaign.GetCampaign(ctx, n.CampaignID)
	if err != nil {
		return err
	}
	stamp := strconv.FormatInt(h.now().UnixNano(), 36)
	switch n.Kind {
	case campaign.NoteMemberForm:
		pages, err := h.memberPages(ctx, c, n.To)
		if err != nil {
			return err
		}
		return h.postPagesTo(ctx, h.target(n.To), func(p int) string { return memberRef(c.ID, n.To, p) }, pages,
			"Please review your access for "+c.Name, "v1")
	case campaign.NoteReviewerForm, campaign.NoteEscalated, campaign.NoteDelegated:
		return h.sendReviewerForms(ctx, c, n.To, n.Members, n.Kind+stamp)
	case campaign.NoteReminder:
		text := fmt.Sprintf("Reminder: you have %d open item(s) in *%s*, due %s.", n.Open, c.Name, n.Deadline.Format("Mon 2 Jan 15:04 UTC"))
		if n.Total > 0 {
			text = fmt.Sprintf("Your team's self-attestation in *%s*: %d of %d answered; due %s.", c.Name, n.Answered, n.Total,
				n.Deadline.Format("Mon 2 Jan 15:04 UTC"))
		}
		key := n.Key
		if key == "" {
			key = "remind:" + strconv.FormatInt(c.ID, 10) + ":" + n.To + ":" + stamp
		}
		return h.post(ctx, n.To, key, text)
	case campaign.NoteClosed:
		return h.postApproval(ctx, c)
	case campaign.NoteApproved, campaign.NoteRejected:
		if err := h.refreshApproval(ctx, c, "decided:"+stamp); err != nil {
			return err
		}
		return h.postThread(ctx, c, "decided:"+stamp, fmt.Sprintf("Plan %s by %s.", c.State, n.Text))
	case campaign.NoteRemediating:
		return h.postThread(ctx, c, "remediating:"+strconv.Itoa(n.Answered), n.Text)
	case campaign.NoteRemediated:
		if err := h.refreshApproval(ctx, c, "remediated:"+stamp); err != nil {
			return err
		}
		return h.postThread(ctx, c, "remediated:"+stamp, n.Text)
	case campaign.NoteCancelled:
		return h.post(ctx, "", "cancelled:"+strconv.FormatInt(c.ID, 10), fmt.Sprintf("Campaign %d (%s) was cancelled: %s", c.ID, c.Name, n.Text))
	}
	return nil
}

// target is where a person's messages go: their DM, or the approvals
// channel for the IAM team.
func (h *Handler) target(to string) string {
	if to == "" {
		return h.Settings.ApprovalsChannel
	}
	return "okta:" + to
}

// post queues a plain text message.
func (h *Handler) post(ctx context.Context, to, key, text string) error {
	_, err := h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindPost, Target: h.target(to), Payload: slackrec.Payload{Text: text}})
	return err
}

// sendReviewerForms posts a reviewer one form per member.
func (h *Handler) sendReviewerForms(ctx context.Context, c *campaign.Campaign, reviewer string, members []string, version string) error {
	for _, m := range members {
		pages, open, err := h.reviewerPages(ctx, c, reviewer, m)
		if err != nil {
			return err
		}
		if open == 0 {
			continue
		}
		refs := func(p int) string { return reviewerRef(c.ID, reviewer, m, p) }
		if err := h.postPagesTo(ctx, h.target(reviewer), refs, pages, "Please confirm access for your team in "+c.Name, version); err != nil {
			return err
		}
	}
	return nil
}

// postPagesTo is postPages for any target (a DM or the IAM channel).
func (h *Handler) postPagesTo(ctx context.Context, target string, refs func(int) string, pages [][]slack.Block, text, version string) error {
	items := make([]slackrec.OutboxItem, 0, len(pages))
	for i, blks := range pages {
		raw, err := json.Marshal(blks)
		if err != nil {
			return err
		}
		ref := refs(i + 1)
		items = append(items, slackrec.OutboxItem{Key: "post:" + ref + ":" + version, Kind: slackrec.KindPost, Target: target, Ref: ref,
			Payload: slackrec.Payload{Text: blocks.Fallback(text), Blocks: raw}})
	}
	_, err := h.Store.Enqueue(ctx, items...)
	return err
}

func approvalRef(cid int64) string { return "approval:" + strconv.FormatInt(cid, 10) }

// approvalView gathers what the approval message shows.
func (h *Handler) approvalView(ctx context.Context, c *campaign.Campaign) (blocks.Approval, []campaign.PlanItem, error) {
	plan, err := h.Campaign.Plan(ctx, c.ID)
	if err != nil {
		return blocks.Approval{}, nil, err
	}
	approvals, err := h.Campaign.Approvals(ctx, c.ID)
	if err != nil {
		return blocks.Approval{}, nil, err
	}
	look, err := h.snapshot(ctx, c.SnapshotID)
	if err != nil {
		return blocks.Approval{}, nil, err
	}
	v := blocks.Approval{CampaignID: c.ID, Campaign: c.Name, Launcher: blocks.Person{Email: c.Owner}, Operations: map[string]int{},
		Required: c.Definition.Approval.Required, State: string(c.State), ButtonValue: "a:" + strconv.FormatInt(c.ID, 10) + ":-:1"}
	users, apps := map[string]bool{}, map[string]int{}
	for _, p := range plan {
		switch p.Kind {
		case campaign.ItemConflict:
			v.Conflicts = append(v.Conflicts, p.UserID+": "+p.Reason)
		case campaign.ItemManual:
			v.Manual = append(v.Manual, p.UserID+": "+p.Reason)
		default:
			v.Operations[p.Kind]++
			users[p.UserID] = true
			if p.AppID != "" {
				apps[p.AppID]++
			}
		}
	}
	v.Users, v.Apps = len(users), len(apps)
	for id, n := range apps {
		label := look.apps[id].Label
		if label == "" {
			label = id
		}
		v.TopApps = append(v.TopApps, blocks.Count{Label: label, N: n})
	}
	sort.Slice(v.TopApps, func(i, j int) bool {
		if v.TopApps[i].N != v.TopApps[j].N {
			return v.TopApps[i].N > v.TopApps[j].N
		}
		return v.TopApps[i].Label < v.TopApps[j].Label
	})
	if len(v.TopApps) > 5 {
		v.TopApps = v.TopApps[:5]
	}
	for _, a := range approvals {
		v.Approvals = append(v.Approvals, blocks.Decision{By: blocks.Person{Email: a.Approver}, Decision: a.Decision, At: a.At})
	}
	return v, plan, nil
}

// postApproval posts the plan to the approvals channel with its CSV.
func (h *Handler) postApproval(ctx context.Context, c *campaign.Campaign) error {
	v, plan, err := h.approvalView(ctx, c)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(blocks.ApprovalBlocks(v))
	if err != nil {
		return err
	}
	ref := approvalRef(c.ID)
	var csvBuf bytes.Buffer
	if err := writePlanCSV(&csvBuf, plan); err != nil {
		return err
	}
	_, err = h.Store.Enqueue(ctx,
		slackrec.OutboxItem{Key: "post:" + ref, Kind: slackrec.KindPost, Target: h.Settings.ApprovalsChannel, Ref: ref,
			Payload: slackrec.Payload{Text: blocks.Fallback(fmt.Sprintf("Removal plan for %s is ready for approval", c.Name)), Blocks: raw}},
		slackrec.OutboxItem{Key: "upload:" + ref, Kind: slackrec.KindUpload, Target: h.Settings.ApprovalsChannel, ThreadRef: ref,
			Payload: slackrec.Payload{FileName: fmt.Sprintf("attest-plan-%d.csv", c.ID), Title: "Removal plan " + c.Name, File: csvBuf.Bytes()}})
	return err
}

// refreshApproval updates the approval message to the campaign's state.
func (h *Handler) refreshApproval(ctx context.Context, c *campaign.Campaign, key string) error {
	v, _, err := h.approvalView(ctx, c)
	if err != nil {
		return err
	}
	return h.updateMessage(ctx, h.Settings.ApprovalsChannel, approvalRef(c.ID), key,
		fmt.Sprintf("Removal plan for %s: %s", c.Name, c.State), blocks.ApprovalBlocks(v))
}

// postThread replies in the approval message's thread.
func (h *Handler) postThread(ctx context.Context, c *campaign.Campaign, key, text string) error {
	_, err := h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: "thread:" + approvalRef(c.ID) + ":" + key, Kind: slackrec.KindPost,
		Target: h.Settings.ApprovalsChannel, ThreadRef: approvalRef(c.ID), Payload: slackrec.Payload{Text: text}})
	return err
}

// PostTo queues a plain message to a channel ("" = the approvals channel).
func (h *Handler) PostTo(ctx context.Context, channel, key, text string) error {
	if channel == "" {
		return h.NotifyIAM(ctx, key, text)
	}
	_, err := h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindPost, Target: channel, Payload: slackrec.Payload{Text: text}})
	return err
}

// NotifyIAM queues a message for the IAM team in the approvals channel.
func (h *Handler) NotifyIAM(ctx context.Context, key, text string) error {
	if h.Settings.ApprovalsChannel == "" {
		return nil
	}
	return h.post(ctx, "", key, text)
}

// DM queues a plain text direct message to a Slack user.
func (h *Handler) DM(ctx context.Context, slackID, key, text string) {
	if _, err := h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindPost, Target: slackID, Payload: slackrec.Payload{Text: text}}); err != nil {
		h.Log.Error().Err(err).Msg("queue direct message")
	}
}
