package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

func approvalRef(cid int64) string { return "approval:" + strconv.FormatInt(cid, 10) }

// topApps is how many apps the approval message names.
const topApps = 5

// approvalView gathers what the approval message shows.
func (n *Notifier) approvalView(ctx context.Context, c *campaign.Campaign) (blocks.Approval, []campaign.PlanItem, error) {
	plan, err := n.Campaigns.Plan(ctx, c.ID)
	if err != nil {
		return blocks.Approval{}, nil, fmt.Errorf("plan of campaign %d: %w", c.ID, err)
	}
	look, err := n.snapshot(ctx, c.SnapshotID)
	if err != nil {
		return blocks.Approval{}, nil, err
	}
	v := blocks.Approval{CampaignID: c.ID, Campaign: c.Name, Launcher: blocks.Person{Email: c.Owner}, Operations: map[string]int{},
		State: string(c.State), Button: blocks.PlanRef(c.ID)}
	if err := n.approvalCount(ctx, c, &v); err != nil {
		return blocks.Approval{}, nil, err
	}
	v.ReviewerFlags = n.reviewerFlags(ctx, c)
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
	for id, k := range apps {
		label := look.apps[id].Label
		if label == "" {
			label = id
		}
		v.TopApps = append(v.TopApps, blocks.Count{Label: label, N: k})
	}
	sort.Slice(v.TopApps, func(i, j int) bool {
		if v.TopApps[i].N != v.TopApps[j].N {
			return v.TopApps[i].N > v.TopApps[j].N
		}
		return v.TopApps[i].Label < v.TopApps[j].Label
	})
	if len(v.TopApps) > topApps {
		v.TopApps = v.TopApps[:topApps]
	}
	return v, plan, nil
}

// ApprovalCounter is the engine's reading of where a plan's approval
// stands (campaign.Engine.ApprovalStatus): the true required number and
// the approvals that count now.
type ApprovalCounter interface {
	ApprovalStatus(ctx context.Context, id int64) (*campaign.ApprovalStatus, error)
}

// approvalCount fills the message's required number and decisions from
// the engine's count, so it never shows the definition's number when the
// plan needs more (critical access, blast radius) or counts an approval
// the engine does not (the launcher's, a second by the same person, one
// given to another plan or by someone no longer an approver). Without the
// engine (Reports is not an ApprovalCounter) the required number is left
// unknown (0) and every stored decision is listed; it returns the
// engine's or the store's error.
func (n *Notifier) approvalCount(ctx context.Context, c *campaign.Campaign, v *blocks.Approval) error {
	var decided []campaign.Approval
	if counter, ok := n.Reports.(ApprovalCounter); ok {
		st, err := counter.ApprovalStatus(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("approval status of campaign %d: %w", c.ID, err)
		}
		v.Required = st.Required
		decided = append(append(decided, st.Counted...), st.Rejections...)
	} else {
		all, err := n.Campaigns.Approvals(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("approvals of campaign %d: %w", c.ID, err)
		}
		decided = all
	}
	sort.SliceStable(decided, func(i, j int) bool { return decided[i].At.Before(decided[j].At) })
	for _, a := range decided {
		v.Approvals = append(v.Approvals, blocks.Decision{By: blocks.Person{Email: a.Approver}, Decision: a.Decision, At: a.At})
	}
	return nil
}

// postApproval posts the plan to the approvals channel with its CSV.
func (n *Notifier) postApproval(ctx context.Context, c *campaign.Campaign) error {
	v, plan, err := n.approvalView(ctx, c)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(blocks.ApprovalBlocks(v))
	if err != nil {
		return fmt.Errorf("encode approval message: %w", err)
	}
	ref := approvalRef(c.ID)
	var csvBuf bytes.Buffer
	if err := writePlanCSV(&csvBuf, plan); err != nil {
		return fmt.Errorf("plan CSV: %w", err)
	}
	_, err = n.Outbox.Enqueue(ctx,
		slackrec.OutboxItem{Key: "post:" + ref, Kind: slackrec.KindPost, Target: n.Settings.ApprovalsChannel, Ref: ref,
			Payload: slackrec.Payload{Text: blocks.Fallback(fmt.Sprintf("Removal plan for %s is ready for approval", c.Name)), Blocks: raw}},
		slackrec.OutboxItem{Key: "upload:" + ref, Kind: slackrec.KindUpload, Target: n.Settings.ApprovalsChannel, ThreadRef: ref,
			Payload: slackrec.Payload{FileName: fmt.Sprintf("attest-plan-%d.csv", c.ID), Title: "Removal plan " + c.Name, File: csvBuf.Bytes()}})
	return err
}

// RefreshApproval updates the approval message to the campaign's state.
func (n *Notifier) RefreshApproval(ctx context.Context, c *campaign.Campaign, key string) error {
	v, _, err := n.approvalView(ctx, c)
	if err != nil {
		return err
	}
	return n.updateMessage(ctx, n.Settings.ApprovalsChannel, approvalRef(c.ID), key,
		fmt.Sprintf("Removal plan for %s: %s", c.Name, c.State), blocks.ApprovalBlocks(v))
}

// PostThread replies in the approval message's thread; text is mrkdwn
// whose data the caller escaped.
func (n *Notifier) PostThread(ctx context.Context, c *campaign.Campaign, key, text string) error {
	_, err := n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: "thread:" + approvalRef(c.ID) + ":" + key, Kind: slackrec.KindPost,
		Target: n.Settings.ApprovalsChannel, ThreadRef: approvalRef(c.ID), Payload: slackrec.Payload{Text: text}})
	return err
}

// ReviewerFlagReader reads the evidence's reviewer flags of a campaign
// (campaign.Engine, when its Flags are configured).
type ReviewerFlagReader interface {
	ReviewerFlags(ctx context.Context, id int64) ([]string, error)
}

// reviewerFlags are the flags of likely rubber-stamping the approvers see,
// from the Reporter when it computes them; a failure is logged and the
// message goes out without them.
func (n *Notifier) reviewerFlags(ctx context.Context, c *campaign.Campaign) []string {
	f, ok := n.Reports.(ReviewerFlagReader)
	if !ok || c.State == campaign.StateDraft || c.State.Open() {
		return nil
	}
	flags, err := f.ReviewerFlags(ctx, c.ID)
	if err != nil {
		n.Log.Warn().Err(err).Int64("campaign", c.ID).Msg("reviewer flags not shown on the approval message")
		return nil
	}
	return flags
}
