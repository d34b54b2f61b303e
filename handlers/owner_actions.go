package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// OwnerEngine is the engine's app-owner stage: what an owner decides and
// the decisions themselves, checked by Okta id (campaign.Engine).
type OwnerEngine interface {
	OwnerWorkReader
	OwnerDecide(ctx context.Context, req campaign.OwnerDecisionRequest) (int, error)
}

var _ OwnerEngine = (*campaign.Engine)(nil)

// OwnerForms re-renders owner form pages in place (Notifier).
type OwnerForms interface {
	ShowOwnerPage(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error
	ShowOwnerAnswered(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error
	ShowOwnerClosed(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key, note string) error
}

var _ OwnerForms = (*Notifier)(nil)

// Sentences for refused owner actions; they name nobody.
var (
	errOwnerUnavailable = campaign.Errorf(campaign.EConflict, "App owner reviews are not available here.")
	ownerRefusals       = map[string]string{
		campaign.EForbidden: "Some people on this form are not yours to decide; nothing was recorded.",
		campaign.EInvalid:   "One of the decisions is not valid; please choose again.",
		campaign.EConflict:  "This app-owner review is closed; decisions can no longer be changed.",
		campaign.ENotFound:  "This form no longer matches the review.",
	}
)

// ownerAction submits, keeps all on, or reopens one page of an owner form.
// The form opens for whoever decides the app's cases: in a DM the actor as
// an owner, in the approvals channel the IAM team (for an owner's own
// access) when the engine lets the actor act for it. The engine checks
// every decision again by Okta id.
func (x *Interactions) ownerAction(ctx context.Context, cb slack.InteractionCallback, action string, ref blocks.Ref, actor campaign.Actor) error {
	eng, ok := x.Engine.(OwnerEngine)
	out, ok2 := x.Out.(OwnerForms)
	if !ok || !ok2 {
		return errOwnerUnavailable
	}
	c, err := x.Campaigns.GetCampaign(ctx, ref.ID)
	if err != nil {
		return refuse(err, map[string]string{campaign.ENotFound: "This review no longer exists."})
	}
	viewer := actor.UserID
	if ch := clickedIn(cb); ch != "" && ch == x.Settings.ApprovalsChannel {
		if !x.iamReviewer(ctx, c, actor) {
			return errNotYourForm
		}
		viewer = ""
	}
	closed := func(cause error) error {
		why := refuse(cause, ownerRefusals)
		if err := out.ShowOwnerClosed(ctx, c, ref, viewer, cb.TriggerID, sentence(x.Log, why)); err != nil {
			x.Log.Warn().Err(err).Msg("mark owner form closed")
		}
		return why
	}
	if c.State != campaign.StateStage3 {
		return closed(campaign.Errorf(campaign.EConflict, "This app-owner review is closed; decisions can no longer be changed."))
	}
	work, err := eng.OwnerWork(ctx, c, viewer)
	if err != nil {
		return err
	}
	var page []campaign.OwnerCase
	for _, a := range work {
		if a.AppID == ref.Member {
			page = blocks.PageSlice(a.Cases, ref.Page)
		}
	}
	if len(page) == 0 {
		return errNotYourForm
	}
	if action == blocks.ActionEditAnswers {
		return out.ShowOwnerPage(ctx, c, ref, viewer, cb.TriggerID)
	}
	chosen, comment := map[int64]string{}, ""
	if st := cb.BlockActionState; st != nil {
		comment = strings.TrimSpace(st.Values[blocks.BlockComment][blocks.ActionComment].Value)
		for blockID, acts := range st.Values {
			if id, ok := blocks.ParseCaseBlockID(blockID); ok {
				if v := acts[blocks.ActionDecision].SelectedOption.Value; v != "" {
					chosen[id] = v
				}
			}
		}
	}
	// Only this page's cases are decided; a block id from elsewhere is
	// dropped, and "Keep all" keeps everyone not marked Revoke.
	decisions := map[int64]string{}
	for _, oc := range page {
		v, ok := chosen[oc.Case.ID]
		switch {
		case action == blocks.ActionOwnerKeepAll && v != blocks.ValueRevoke:
			decisions[oc.Case.ID] = blocks.ValueKeep
		case ok:
			decisions[oc.Case.ID] = v
		}
	}
	if len(decisions) > 0 {
		_, err := eng.OwnerDecide(ctx, campaign.OwnerDecisionRequest{CampaignID: c.ID, Actor: actor, AppID: ref.Member,
			Decisions: decisions, Comment: comment})
		if errors.Is(err, campaign.ErrConflict) {
			if c2, _ := x.Campaigns.GetCampaign(ctx, c.ID); c2 != nil {
				c = c2
			}
			return closed(err)
		}
		if err != nil {
			return refuse(err, ownerRefusals)
		}
	}
	if err := out.ShowOwnerAnswered(ctx, c, ref, viewer, cb.TriggerID); err != nil {
		return err
	}
	if err := x.Out.RefreshStatus(ctx, c.ID); err != nil {
		x.Log.Warn().Err(err).Int64("campaign", c.ID).Msg("refresh live status")
	}
	return nil
}

// ownerPending counts the owner's undecided stage-3 cases in c and lists
// the apps they are on, for the App Home; 0 outside stage 3, for anyone
// else, and when the engine cannot say (logged).
func (x *Interactions) ownerPending(ctx context.Context, c *campaign.Campaign, owner string) (int, []string) {
	eng, ok := x.Engine.(OwnerEngine)
	if !ok || owner == "" || c.State != campaign.StateStage3 {
		return 0, nil
	}
	work, err := eng.OwnerWork(ctx, c, owner)
	if err != nil {
		x.Log.Warn().Err(err).Int64("campaign", c.ID).Str("user", owner).Msg("owner work for the App Home")
		return 0, nil
	}
	n := 0
	var apps []string
	for _, a := range work {
		open := 0
		for _, oc := range a.Cases {
			if oc.Decision == "" {
				open++
			}
		}
		if open > 0 {
			n += open
			apps = append(apps, a.AppID)
		}
	}
	return n, apps
}

// ownerFormSender posts owner forms (Notifier).
type ownerFormSender interface {
	SendOwnerForms(ctx context.Context, c *campaign.Campaign, owner string, apps []string, version string) error
}

// sendOwnerForms posts the owner's forms again for the apps they still
// have to decide (the App Home's Open).
func (x *Interactions) sendOwnerForms(ctx context.Context, c *campaign.Campaign, owner, version string) error {
	s, ok := x.Out.(ownerFormSender)
	if !ok {
		return errOwnerUnavailable
	}
	_, apps := x.ownerPending(ctx, c, owner)
	return s.SendOwnerForms(ctx, c, owner, apps, version)
}
