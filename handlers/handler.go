// Package handlers is attest's Slack side, in two halves that point in
// opposite directions:
//
//   - Interactions (inbound): slash commands, block actions, view
//     submissions and the App Home become domain commands, after the
//     acting user is resolved and checked (Access) on the server. A value
//     carried in a message only routes (blocks.ParseAction decodes it, in
//     the one dispatcher); it never authorises. Files: inbound.go (the
//     type, its interfaces, the dispatcher and what people read when
//     something is refused), form_actions.go, admin.go, home.go, slash.go.
//   - Notifier (outbound): the campaign.Notifier implementation, which
//     renders forms, reminders, status and approval messages and writes
//     them to the durable outbox; the bot's sender delivers them. Files:
//     outbound.go, outbound_forms.go, outbound_approval.go,
//     outbound_status.go.
//
// Each half declares the small interfaces it uses, so each is tested with
// function-field fakes; inbound reaches the outbox only through the
// Outbound interface, which Notifier implements. Handler (this file)
// assembles both halves, Access (access.go) and the jobs (jobs.go: user
// mapping, sweeps) from one set of dependencies, and keeps the API the
// bot and the app wire against.
package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// SlackAPI is the part of the Slack Web API the handlers call directly
// (views need the trigger within 3 s; membership is read at click time).
type SlackAPI interface {
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	UpdateViewContext(ctx context.Context, view slack.ModalViewRequest, externalID, hash, viewID string) (*slack.ViewResponse, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
	GetUsersPaginated(options ...slack.GetUsersOption) slack.UserPagination
	GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error)
}

// Settings are the handlers' configuration.
type Settings struct {
	Command          string   // e.g. /access-review
	ApprovalsChannel string   // where plans are posted for approval
	StatusChannel    string   // where live campaign status is kept (default: ApprovalsChannel)
	Admins           []string // Slack user ids, user group ids (S...) or handles
	Approvers        []string
	// Definitions lists the campaign definitions that may be launched.
	Definitions func() ([]campaign.DefinitionFile, error)
	// SignInWindowDays is the System Log window, for "no sign-in in N days".
	SignInWindowDays int
	// Grid is the Enterprise Grid org of an org-wide install (zero: one
	// workspace): slack.enterprise_id and slack.team_ids.
	Grid Grid
}

// statusChannel is where live status goes: StatusChannel, else the
// approvals channel.
func (s Settings) statusChannel() string {
	if s.StatusChannel != "" {
		return s.StatusChannel
	}
	return s.ApprovalsChannel
}

// Handler serves Slack for one workspace: it builds Interactions and
// Notifier from its fields on first use and forwards to them. Set the
// fields before the first call; they are not read again.
type Handler struct {
	Engine   *campaign.Engine
	Store    Store
	Campaign campaign.Store
	API      SlackAPI
	Settings Settings
	Log      zerolog.Logger
	Now      func() time.Time
	// Life, when set, ends background work (delivery watchers) at shutdown.
	Life context.Context

	once   sync.Once
	access *Access
	in     *Interactions
	out    *Notifier
}

var _ campaign.Notifier = (*Handler)(nil)

// build assembles the two halves once.
func (h *Handler) build() {
	h.once.Do(func() {
		h.access = &Access{Users: h.Store, Groups: h.API, Admins: h.Settings.Admins, Approvers: h.Settings.Approvers, Log: h.Log,
			Grid: h.Settings.Grid}
		h.out = &Notifier{Outbox: h.Store, Campaigns: h.Campaign, Reports: h.Engine, Settings: h.Settings, Log: h.Log, Now: h.Now}
		sweeps, _ := h.Store.(SweepStore)
		h.in = &Interactions{Engine: h.Engine, Campaigns: h.Campaign, Store: h.Store, Sweeps: sweeps, Views: h.API,
			Access: h.access, Out: h.out, Settings: h.Settings, Log: h.Log, Now: h.Now, Life: h.Life}
		if h.Engine != nil && h.Engine.SignOffs != nil {
			h.out.SignOffs = h.Engine
			h.in.SignOffs, h.in.SignOffOut = h.Engine, h.out
		}
	})
}

// Wait blocks until background work spawned by interactions has finished
// (see Interactions.Wait).
func (h *Handler) Wait() { h.Inbound().Wait() }

// Inbound returns the inbound half.
func (h *Handler) Inbound() *Interactions { h.build(); return h.in }

// Outbound returns the outbound half.
func (h *Handler) Outbound() *Notifier { h.build(); return h.out }

// Slash handles a slash command (see Interactions.Slash).
func (h *Handler) Slash(ctx context.Context, cmd slack.SlashCommand) Reply {
	return h.Inbound().Slash(ctx, cmd)
}

// BlockActions handles a click (see Interactions.BlockActions).
func (h *Handler) BlockActions(ctx context.Context, cb slack.InteractionCallback, payloadSHA string) {
	h.Inbound().BlockActions(ctx, cb, payloadSHA)
}

// ViewSubmission handles a modal's submit (see Interactions.ViewSubmission).
func (h *Handler) ViewSubmission(ctx context.Context, cb slack.InteractionCallback) map[string]string {
	return h.Inbound().ViewSubmission(ctx, cb)
}

// PublishHome renders a user's App Home (see Interactions.PublishHome).
func (h *Handler) PublishHome(ctx context.Context, slackID, teamID string) error {
	return h.Inbound().PublishHome(ctx, slackID, teamID)
}

// Notify queues the Slack messages of an engine notification.
func (h *Handler) Notify(ctx context.Context, n campaign.Notification) error {
	return h.Outbound().Notify(ctx, n)
}

// RefreshStatus updates a campaign's live status message.
func (h *Handler) RefreshStatus(ctx context.Context, cid int64) error {
	return h.Outbound().RefreshStatus(ctx, cid)
}

// PostTo queues plain text to a channel ("" = the approvals channel); the
// text is shown literally (see Notifier.PostTo).
func (h *Handler) PostTo(ctx context.Context, channel, key, text string) error {
	return h.Outbound().PostTo(ctx, channel, key, text)
}

// NotifyIAM queues plain text for the IAM team, shown literally.
func (h *Handler) NotifyIAM(ctx context.Context, key, text string) error {
	return h.Outbound().NotifyIAM(ctx, key, text)
}

// DM queues a direct message of mrkdwn to a Slack user.
func (h *Handler) DM(ctx context.Context, slackID, key, text string) {
	h.Outbound().DM(ctx, slackID, key, text)
}

// IsAdmin reports whether a Slack user may launch, close and remind.
func (h *Handler) IsAdmin(ctx context.Context, slackID string) (bool, error) {
	h.build()
	return h.access.IsAdmin(ctx, slackID)
}

// EngineChecks lets the engine accept the Slack-configured admins and
// approvers: it asks Slack at the moment of the decision.
func (h *Handler) EngineChecks() (admin, approver func(ctx context.Context, a campaign.Actor) bool) {
	h.build()
	return h.access.EngineChecks()
}

// Store is what the handlers keep besides campaigns: who is who in Slack,
// the outbox, and which interactions were already handled.
type Store interface {
	slackrec.OutboxStore
	// ReplaceSlackUsers makes users the whole mapping (a refresh).
	ReplaceSlackUsers(ctx context.Context, users []slackrec.User) error
	// SlackUserBySlack and SlackUserByOkta look a mapping up, or return
	// campaign.ErrNotFound.
	SlackUserBySlack(ctx context.Context, slackID string) (slackrec.User, error)
	SlackUserByOkta(ctx context.Context, oktaUserID string) (slackrec.User, error)
	// MarkHandled records an interaction key; false if it was seen before.
	MarkHandled(ctx context.Context, key string, at time.Time) (bool, error)
	// SnapshotApps and SnapshotGroupNames give a snapshot's apps and group
	// names; UserUsage a user's last sign-in per app id.
	SnapshotApps(ctx context.Context, snapshotID int64) ([]campaign.App, error)
	SnapshotGroupNames(ctx context.Context, snapshotID int64) (map[string]string, error)
	UserUsage(ctx context.Context, snapshotID int64, userID string) (map[string]time.Time, error)
}
