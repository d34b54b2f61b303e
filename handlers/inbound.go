package handlers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// Engine is what the inbound half asks of the campaign engine.
type Engine interface {
	Launch(ctx context.Context, req campaign.LaunchRequest) (*campaign.Campaign, error)
	// LaunchSweepReview claims a sweep and launches the review of exactly
	// its findings; the loser of two clicks gets a conflict.
	LaunchSweepReview(ctx context.Context, sweepID int64, actor campaign.Actor, iamReviewers []string) (*campaign.Campaign, error)
	Preview(ctx context.Context, def *campaign.Definition) (*campaign.PlanSummary, error)
	Answer(ctx context.Context, req campaign.AnswerRequest) (*campaign.CaseRecord, error)
	ConfirmMember(ctx context.Context, campaignID int64, actor campaign.Actor, member string) (int, error)
	Delegate(ctx context.Context, req campaign.DelegateRequest) (int, error)
	Close(ctx context.Context, id int64, actor campaign.Actor) (*campaign.Campaign, []campaign.PlanItem, error)
	Approve(ctx context.Context, id int64, actor campaign.Actor) (*campaign.Campaign, int, error)
	Reject(ctx context.Context, id int64, actor campaign.Actor) (*campaign.Campaign, int, error)
	RetryFailed(ctx context.Context, id int64, actor campaign.Actor) (int, error)
	Report(ctx context.Context, id int64) (*campaign.Report, error)
}

// Campaigns is what the inbound half reads about campaigns.
type Campaigns interface {
	GetCampaign(ctx context.Context, id int64) (*campaign.Campaign, error)
	ListCampaigns(ctx context.Context, states ...campaign.State) ([]campaign.Campaign, error)
	Cases(ctx context.Context, campaignID int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error)
	CaseProgress(ctx context.Context, campaignID int64) (campaign.Progression, error)
	FindUser(ctx context.Context, snapshotID int64, key string) (campaign.User, error)
}

// InteractionStore de-duplicates interactions and maps Slack users.
type InteractionStore interface {
	UserMap
	// MarkHandled records an interaction key; false if it was seen before.
	MarkHandled(ctx context.Context, key string, at time.Time) (bool, error)
}

// Views opens, updates and publishes Slack views (they need the trigger
// within 3 s, so they bypass the outbox).
type Views interface {
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	UpdateViewContext(ctx context.Context, view slack.ModalViewRequest, externalID, hash, viewID string) (*slack.ViewResponse, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
}

// FormViews re-renders forms in place and re-sends them.
type FormViews interface {
	// ShowPage, ShowAnswered and ShowClosed replace the form page ref
	// names, as seen by viewer (the member, a reviewer, or "" for the IAM
	// team); note is a plain sentence.
	ShowPage(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error
	ShowAnswered(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error
	ShowClosed(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key, note string) error
	SendReviewerForms(ctx context.Context, c *campaign.Campaign, reviewer string, members []string, version string) error
	Notify(ctx context.Context, n campaign.Notification) error
}

// Posts queues answers and notes. Texts are mrkdwn whose data parts the
// caller escaped.
type Posts interface {
	PostDM(ctx context.Context, oktaUserID, key, text string) error
	Ephemeral(ctx context.Context, channel, slackUser, key, text string) error
	PostThread(ctx context.Context, c *campaign.Campaign, key, text string) error
	RefreshApproval(ctx context.Context, c *campaign.Campaign, key string) error
	PostReport(ctx context.Context, r *campaign.Report, key string) (summary string, err error)
	SweepLaunched(ctx context.Context, sweepID int64, entitlements int, note string) error
}

// StatusViews renders and keeps the live status of campaigns.
type StatusViews interface {
	StatusView(ctx context.Context, c *campaign.Campaign) (blocks.Status, error)
	PostStatus(ctx context.Context, c *campaign.Campaign)
	RefreshStatus(ctx context.Context, cid int64) error
	WatchDelivery(ctx context.Context, c *campaign.Campaign, launcher string)
}

// Outbound is all the inbound half asks of the outbound half (Notifier
// in production, a fake in tests); it is the only way inbound reaches
// the outbox.
type Outbound interface {
	FormViews
	Posts
	StatusViews
}

// Interactions is the inbound half: it turns slash commands, clicks,
// submissions and App Home visits into domain commands. Who acts is
// resolved by Access at the moment of the interaction; the engine checks
// the rest (reviewer of the case, approver of the plan).
type Interactions struct {
	Engine    Engine
	Campaigns Campaigns
	Store     InteractionStore
	// Sweeps keeps stale-access sweeps (read for the launched note's count).
	Sweeps SweepStore
	Views  Views
	Access *Access
	Out    Outbound
	// SignOffs and SignOffOut serve the control owner's sign-off message;
	// nil: its buttons answer that sign-off is not available here.
	SignOffs   SignOffEngine
	SignOffOut SignOffMessages
	Settings   Settings
	Log        zerolog.Logger
	Now        func() time.Time
	// Life, when set, ends background work (delivery watchers) at shutdown.
	Life context.Context

	work sync.WaitGroup // background work spawned by interactions
}

// spawn runs fn in the background, tracked so Wait can join it; fn's
// context ends with Life (at shutdown) or after timeout.
func (x *Interactions) spawn(ctx context.Context, timeout time.Duration, fn func(ctx context.Context)) {
	x.work.Add(1)
	go func() {
		defer x.work.Done()
		wctx, cancel := context.WithTimeout(x.life(ctx), timeout)
		defer cancel()
		fn(wctx)
	}()
}

// Wait blocks until the background work spawned by interactions (a launch
// from the modal) has finished; serve calls it before the store closes.
func (x *Interactions) Wait() { x.work.Wait() }

func (x *Interactions) now() time.Time {
	if x.Now == nil {
		return time.Now().UTC()
	}
	return x.Now().UTC()
}

// life is the context background work outlives a request with.
func (x *Interactions) life(ctx context.Context) context.Context {
	if x.Life != nil {
		return x.Life
	}
	return context.WithoutCancel(ctx)
}

// BlockActions handles a click, after the envelope was acknowledged. It
// is the one place a block action is decoded: an action id or value
// attest did not emit is dropped with a log line and a polite answer.
// Each interaction is handled once (a redelivered envelope carries the
// same trigger id).
func (x *Interactions) BlockActions(ctx context.Context, cb slack.InteractionCallback, payloadSHA string) {
	if len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	act := cb.ActionCallback.BlockActions[0]
	log := x.Log.With().Str("action", act.ActionID).Str("slack_user", cb.User.ID).Logger()
	parsed, err := blocks.ParseAction(act.ActionID, act.Value)
	if err != nil {
		log.Warn().Err(err).Str("block", act.BlockID).Int("value_len", len(act.Value)).Msg("unknown or malformed action refused")
		x.ephemeral(ctx, cb, ":warning: "+msgBadButton)
		return
	}
	if parsed.Selection {
		if act.ActionID == blocks.ActionDefinition && cb.View.CallbackID == blocks.CallbackLaunch {
			x.previewLaunch(ctx, cb, act.SelectedOption.Value)
		}
		return // a choice inside a form: nothing to do until Submit
	}
	if first, err := x.Store.MarkHandled(ctx, "act:"+cb.TriggerID+":"+act.ActionID, x.now()); err != nil || !first {
		if err != nil {
			log.Error().Err(err).Msg("record interaction")
		}
		return
	}
	team := orElse(cb.Team.ID, cb.User.TeamID)
	if _, err := x.Access.CheckTeam(ctx, team, cb.Enterprise.ID); err != nil {
		log.Warn().Err(err).Str("team", team).Str("enterprise", cb.Enterprise.ID).Msg("click from another team refused")
		x.ephemeral(ctx, cb, userMessage(log, err))
		return
	}
	x.Access.tellStarting(ctx, cb.ResponseURL)
	actor, err := x.Access.ActorIn(ctx, cb.User.ID, team, cb.Enterprise.ID)
	if err != nil {
		log.Warn().Err(err).Msg("click by an unmapped user refused")
		x.ephemeral(ctx, cb, userMessage(log, err))
		return
	}
	ctx, checks := withCheckNote(ctx)
	actor.SlackActionTS, actor.PayloadSHA256 = act.ActionTs, payloadSHA
	ref := parsed.Ref
	log = log.With().Int64("campaign", ref.ID).Str("user", actor.UserID).Logger()
	switch parsed.ID {
	case blocks.ActionMemberSubmit, blocks.ActionReviewerSubmit, blocks.ActionEditAnswers, blocks.ActionConfirmMember:
		if ref.Kind == blocks.RefOwnerForm {
			err = x.ownerAction(ctx, cb, parsed.ID, ref, actor) // Edit answers on an owner form
			break
		}
		err = x.formAction(ctx, cb, parsed.ID, ref, actor)
	case blocks.ActionOwnerSubmit, blocks.ActionOwnerKeepAll:
		err = x.ownerAction(ctx, cb, parsed.ID, ref, actor)
	case blocks.ActionPlanApprove, blocks.ActionPlanReject:
		err = x.planAction(ctx, cb, parsed.ID, ref, actor)
	case blocks.ActionDelegate:
		err = x.openDelegate(ctx, cb, ref, actor)
	case blocks.ActionSweepReview:
		err = x.sweepAction(ctx, cb, ref, actor)
	case blocks.ActionOpenReview, blocks.ActionCampaignRemind, blocks.ActionCampaignClose:
		err = x.homeAction(ctx, cb, parsed.ID, ref, actor)
	case blocks.ActionSignOff, blocks.ActionSignOffDecline:
		err = x.signOffAction(ctx, cb, parsed.ID, ref, actor)
	}
	if err = checks.explain(err); err != nil {
		log.Info().Err(err).Msg("action refused")
		x.ephemeral(ctx, cb, userMessage(log, err))
	}
}

// ephemeral answers the clicking user only, in the channel of the click.
func (x *Interactions) ephemeral(ctx context.Context, cb slack.InteractionCallback, text string) {
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	if channel == "" {
		return
	}
	if err := x.Out.Ephemeral(ctx, channel, cb.User.ID, "eph:"+cb.TriggerID, text); err != nil {
		x.Log.Error().Err(err).Msg("queue ephemeral reply")
	}
}

// What a Slack user reads when an error has no user-safe message of its
// own. An engine error's text is for the log: it may name other people,
// their cases or the database, so it is never shown.
const (
	msgNotYours  = "This action is not yours to take."
	msgConflict  = "This was already done, or the review has moved on since."
	msgNotFound  = "That campaign or item does not exist (any more)."
	msgInvalid   = "That request is not one attest can handle."
	msgTransient = "Slack or Okta did not answer in time; please try again in a minute."
	msgInternal  = "Something went wrong on attest's side; it has been logged for the IAM team. Please try again later."
	// msgBadButton answers a click whose action or value attest never emits.
	msgBadButton = "This button is not one attest can handle (it may belong to an old message). Open the latest message from attest, or the app's Home tab."
)

// sentence returns the plain sentence a Slack user reads for err: the
// *campaign.Error message for the user-facing kinds, a generic sentence
// otherwise. It suits surfaces that mark errors themselves (a modal's
// field error, a closed form's note). Internal errors are logged here,
// whole, so the person's generic answer has its story in the log.
func sentence(log zerolog.Logger, err error) string {
	code, msg := campaign.ErrorCode(err), campaign.ErrorMessage(err)
	switch code {
	case campaign.EInternal:
		log.Error().Err(err).Msg("internal error; the user was told something went wrong")
		return msgInternal
	case campaign.ETransient:
		log.Warn().Err(err).Msg("temporary failure shown to the user")
		return orElse(msg, msgTransient)
	case campaign.EForbidden:
		return orElse(msg, msgNotYours)
	case campaign.EConflict:
		return orElse(msg, msgConflict)
	case campaign.ENotFound:
		return orElse(msg, msgNotFound)
	}
	return orElse(msg, msgInvalid)
}

// emoji marks an answer by the kind of its error.
func emoji(code string) string {
	switch code {
	case campaign.EForbidden:
		return ":no_entry:"
	case campaign.EConflict:
		return ":lock:"
	case campaign.ETransient:
		return ":hourglass:"
	}
	return ":warning:"
}

// userMessage is the sentence with its kind's emoji, escaped for mrkdwn
// (replies, ephemerals, DMs).
func userMessage(log zerolog.Logger, err error) string {
	return emoji(campaign.ErrorCode(err)) + " " + blocks.Escape(sentence(log, err))
}

// refuse wraps an engine error with the sentence to show for its kind at
// one call site: msgs maps a code to the sentence. An error already
// carrying a user-safe message keeps it; other kinds keep the generic one.
func refuse(err error, msgs map[string]string) error {
	if err == nil || campaign.ErrorMessage(err) != "" {
		return err
	}
	if m, ok := msgs[campaign.ErrorCode(err)]; ok {
		return campaign.WithMessage(err, m)
	}
	return err
}

// approvalTally reads "1 of 2 approvals" from the engine's count of a
// plan (ApprovalCounter), never the definition's number, which critical
// access and the blast radius raise; when the engine cannot say, it reads
// "n approval(s) so far" from the count the decision returned.
func (x *Interactions) approvalTally(ctx context.Context, id int64, n int) string {
	if counter, ok := x.Engine.(ApprovalCounter); ok {
		st, err := counter.ApprovalStatus(ctx, id)
		if err == nil {
			return fmt.Sprintf("%d of %d approvals", st.Approved, st.Required)
		}
		x.Log.Warn().Err(err).Int64("campaign", id).Msg("approval status for the thread note")
	}
	return fmt.Sprintf("%d approval(s) so far", n)
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
