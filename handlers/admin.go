package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// statusView summarises a campaign for the live status message and Home.
func (h *Handler) statusView(ctx context.Context, c *campaign.Campaign) (blocks.Status, error) {
	r, err := h.Engine.Report(ctx, c.ID)
	if err != nil {
		return blocks.Status{}, err
	}
	s := blocks.Status{CampaignID: c.ID, Campaign: c.Name, State: string(c.State), Deadline: c.Deadline, Updated: h.now(),
		Stage1Answered: r.ByState["answered_by_member"], Stage1Total: r.Cases, Stage2Decided: r.ByState["confirmed_by_manager"],
		Revoked: r.ByState["revoked"], Escalations: r.ByState["escalated"], Members: r.Members, MembersAnswered: r.MembersDone}
	for _, p := range r.PerReviewer {
		s.Stage2Total += p.Cases
		if p.Open > 0 && c.State == campaign.StateStage2 && h.now().After(c.Deadline.Add(-24*time.Hour)) {
			s.Overdue = append(s.Overdue, blocks.Person{Email: p.Name})
		}
	}
	return s, nil
}

func statusRef(cid int64) string { return "status:" + strconv.FormatInt(cid, 10) }

// postStatus posts the live status message of a new campaign.
func (h *Handler) postStatus(ctx context.Context, c *campaign.Campaign) {
	ch := h.statusChannel()
	if ch == "" {
		return
	}
	s, err := h.statusView(ctx, c)
	if err != nil {
		h.Log.Error().Err(err).Msg("status view")
		return
	}
	raw, _ := json.Marshal(blocks.StatusBlocks(s))
	if _, err := h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: "post:" + statusRef(c.ID), Kind: slackrec.KindPost, Target: ch, Ref: statusRef(c.ID),
		Payload: slackrec.Payload{Text: blocks.Fallback("Access review " + c.Name + " launched"), Blocks: raw}}); err != nil {
		h.Log.Error().Err(err).Msg("queue status message")
	}
}

// RefreshStatus updates the live status message of a campaign; the key
// bounds updates to one per minute however many answers arrive.
func (h *Handler) RefreshStatus(ctx context.Context, cid int64) error {
	ch := h.statusChannel()
	if ch == "" {
		return nil
	}
	c, err := h.Campaign.GetCampaign(ctx, cid)
	if err != nil {
		return err
	}
	s, err := h.statusView(ctx, c)
	if err != nil {
		return err
	}
	return h.updateMessage(ctx, ch, statusRef(cid), h.now().Truncate(time.Minute).Format(time.RFC3339),
		"Access review "+c.Name+": "+string(c.State), blocks.StatusBlocks(s))
}

func (h *Handler) statusChannel() string {
	if h.Settings.StatusChannel != "" {
		return h.Settings.StatusChannel
	}
	return h.Settings.ApprovalsChannel
}

// status answers `status [ID]`: one campaign, or every open one.
func (h *Handler) status(ctx context.Context, args []string) Reply {
	var list []campaign.Campaign
	if len(args) > 0 {
		id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
		if err != nil {
			return Reply{Text: fmt.Sprintf("%q is not a campaign id.", args[0])}
		}
		c, err := h.Campaign.GetCampaign(ctx, id)
		if err != nil {
			return Reply{Text: userMessage(err)}
		}
		list = append(list, *c)
	} else {
		var err error
		if list, err = h.Campaign.ListCampaigns(ctx, campaign.StateStage1, campaign.StateStage2, campaign.StateClosed); err != nil {
			return Reply{Text: userMessage(err)}
		}
	}
	if len(list) == 0 {
		return Reply{Text: "No open campaigns."}
	}
	var all []slack.Block
	for i := range list {
		s, err := h.statusView(ctx, &list[i])
		if err != nil {
			return Reply{Text: userMessage(err)}
		}
		if len(all)+len(blocks.StatusBlocks(s)) > 45 {
			break
		}
		all = append(all, blocks.StatusBlocks(s)...)
	}
	return Reply{Text: "Campaign status", Blocks: all}
}

// remindNow reminds everyone with open work in a campaign at once.
func (h *Handler) remindNow(ctx context.Context, id int64) Reply {
	c, err := h.Campaign.GetCampaign(ctx, id)
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	p, err := h.Campaign.CaseProgress(ctx, id)
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	stamp := strconv.FormatInt(h.now().Unix(), 36)
	n := 0
	open := p.MemberOpen
	deadline := c.Stage1Ends
	if c.State == campaign.StateStage2 {
		open, deadline = p.ReviewerOpen, c.Deadline
	}
	for person, k := range open {
		if k == 0 || !c.State.Open() {
			continue
		}
		text := fmt.Sprintf("Reminder from the IAM team: %d open item(s) in *%s*, due %s.", k, c.Name, deadline.Format("Mon 2 Jan 15:04 UTC"))
		if err := h.post(ctx, person, "remind-now:"+strconv.FormatInt(id, 10)+":"+person+":"+stamp, text); err != nil {
			return Reply{Text: userMessage(err)}
		}
		n++
	}
	return Reply{Text: fmt.Sprintf("Reminded %d people in campaign %d.", n, id)}
}

// report posts a campaign's summary and CSV to the approvals channel.
func (h *Handler) report(ctx context.Context, id int64) Reply {
	r, err := h.Engine.Report(ctx, id)
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	var csvBuf bytes.Buffer
	if err := r.WriteCSV(&csvBuf); err != nil {
		return Reply{Text: userMessage(err)}
	}
	ch := h.statusChannel()
	stamp := strconv.FormatInt(h.now().UnixNano(), 36)
	text := fmt.Sprintf("Report of campaign %d (%s, %s): %d cases, %d kept, %d revoked, %d without decision.", r.ID, r.Name, r.State,
		r.Cases, r.ByState["kept"], r.ByState["revoked"], r.ByState["no_decision"])
	if _, err := h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: "report:" + stamp, Kind: slackrec.KindUpload, Target: ch,
		Payload: slackrec.Payload{Text: text, FileName: fmt.Sprintf("attest-report-%d.csv", id), Title: "Report " + r.Name, File: csvBuf.Bytes()}}); err != nil {
		return Reply{Text: userMessage(err)}
	}
	return Reply{Text: text + " The CSV is posted in the IAM channel."}
}

// openDelegate opens the delegate modal for one member's review.
func (h *Handler) openDelegate(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, actor campaign.Actor) error {
	_, cid, member, _, ok := parseButton(act.Value)
	if !ok {
		return fmt.Errorf("this button is not one of attest's forms: %w", campaign.ErrInvalid)
	}
	c, err := h.Campaign.GetCampaign(ctx, cid)
	if err != nil {
		return err
	}
	m, _ := h.Campaign.FindUser(ctx, c.SnapshotID, member)
	_, err = h.API.OpenViewContext(ctx, cb.TriggerID, blocks.DelegateModalView(blocks.DelegateModal{
		Member: blocks.Person{Name: m.DisplayName(), Email: m.Email}, PrivateMetadata: act.Value}))
	return err
}

// submitDelegate hands the review to the chosen user.
func (h *Handler) submitDelegate(ctx context.Context, cb slack.InteractionCallback, actor campaign.Actor) map[string]string {
	_, cid, member, _, ok := parseButton(cb.View.PrivateMetadata)
	if !ok {
		return map[string]string{blocks.BlockDelegateTo: "This form is no longer valid."}
	}
	to := cb.View.State.Values[blocks.BlockDelegateTo][blocks.ActionUser].SelectedUser
	target, err := h.Store.SlackUserBySlack(ctx, to)
	if err != nil {
		return map[string]string{blocks.BlockDelegateTo: "That person has no Okta account attest knows."}
	}
	n, err := h.Engine.Delegate(ctx, campaign.DelegateRequest{CampaignID: cid, Actor: actor, Member: member, To: target.OktaUserID})
	if err != nil {
		return map[string]string{blocks.BlockDelegateTo: userMessage(err)}
	}
	_ = h.post(ctx, actor.UserID, "delegated:"+cb.View.ID, fmt.Sprintf("Delegated %d case(s) to <@%s>.", n, to))
	return nil
}

// watchDelivery follows the delivery of a new campaign's forms and tells
// the launcher how far it got (at 25% steps and when done), with the rate
// and the time left; the same numbers go to the log.
func (h *Handler) watchDelivery(ctx context.Context, c *campaign.Campaign, launcher string) {
	prefix := "post:m:" + strconv.FormatInt(c.ID, 10) + ":"
	if c.State == campaign.StateStage2 {
		prefix = "post:r:" + strconv.FormatInt(c.ID, 10) + ":"
	}
	start := time.Now()
	told, polls := -1, 0
	for {
		counts, err := h.Store.OutboxProgress(ctx, prefix)
		if err != nil {
			if ctx.Err() == nil {
				h.Log.Warn().Err(err).Msg("delivery progress")
			}
			return
		}
		total := counts["pending"] + counts["sending"] + counts["sent"] + counts["failed"]
		done := counts["sent"] + counts["failed"]
		if total == 0 {
			return
		}
		step := 100 * done / total / 25 * 25
		elapsed := time.Since(start)
		rate := float64(done) / max(elapsed.Seconds(), 0.001)
		left := time.Duration(float64(total-done)/max(rate, 0.001)) * time.Second
		polls++
		if polls%10 == 1 || done == total {
			h.Log.Info().Int64("campaign", c.ID).Int("sent", counts["sent"]).Int("failed", counts["failed"]).Int("total", total).
				Float64("per_second", rate).Dur("eta", left.Round(time.Second)).Msg("delivering forms")
		}
		if step > told {
			told = step
			text := fmt.Sprintf("Campaign %d (%s): forms delivered %d of %d (%d%%)", c.ID, c.Name, done, total, 100*done/total)
			if done < total {
				text += fmt.Sprintf(", about %s left", left.Round(time.Second))
			}
			if counts["failed"] > 0 {
				text += fmt.Sprintf("; %d could not be delivered (see the log)", counts["failed"])
			}
			_ = h.post(ctx, launcher, "delivery:"+strconv.FormatInt(c.ID, 10)+":"+strconv.Itoa(step), text+".")
		}
		if done == total {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
