// Package handlers turns Slack slash commands, block actions and view
// submissions into campaign engine calls, and engine notifications into
// queued Slack messages. Who clicked is always resolved and checked on the
// server: a value carried in a message only routes, it never authorises.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
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
}

// Handler serves Slack interactions for one workspace.
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

	mu     sync.Mutex
	lookup map[int64]*snapLookup // per snapshot: app links, group names
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now().UTC()
	}
	return h.Now().UTC()
}

// actor resolves the Slack user who clicked to the Okta user they are.
// Someone attest cannot map is refused.
func (h *Handler) actor(ctx context.Context, slackID, teamID string) (campaign.Actor, error) {
	u, err := h.Store.SlackUserBySlack(ctx, slackID)
	if errors.Is(err, campaign.ErrNotFound) {
		return campaign.Actor{}, fmt.Errorf("your Slack account is not linked to an Okta user (no Okta user has your email): %w", campaign.ErrForbidden)
	}
	if err != nil {
		return campaign.Actor{}, err
	}
	return campaign.Actor{UserID: u.OktaUserID, Email: u.Email, Via: "slack", SlackUserID: slackID, SlackTeamID: teamID}, nil
}

// inSlackList reports whether a Slack user is named in a list of user ids,
// user group ids or @handles; group membership is read from Slack now, at
// click time, never cached.
func (h *Handler) inSlackList(ctx context.Context, slackID string, list []string) (bool, error) {
	for _, x := range list {
		x = strings.TrimSpace(x)
		switch {
		case x == slackID:
			return true, nil
		case strings.HasPrefix(x, "S") || strings.HasPrefix(x, "@"):
			group := strings.TrimPrefix(x, "@")
			members, err := h.API.GetUserGroupMembersContext(ctx, group)
			if err != nil {
				return false, fmt.Errorf("read members of Slack user group %s: %w", x, err)
			}
			for _, m := range members {
				if m == slackID {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// IsAdmin reports whether a Slack user may launch, close and remind.
func (h *Handler) IsAdmin(ctx context.Context, slackID string) (bool, error) {
	return h.inSlackList(ctx, slackID, h.Settings.Admins)
}

// EngineChecks lets the engine accept the Slack-configured admins and
// approvers: it asks Slack at the moment of the decision.
func (h *Handler) EngineChecks() (admin, approver func(ctx context.Context, a campaign.Actor) bool) {
	check := func(list []string) func(context.Context, campaign.Actor) bool {
		return func(ctx context.Context, a campaign.Actor) bool {
			if a.SlackUserID == "" {
				return false
			}
			ok, err := h.inSlackList(ctx, a.SlackUserID, list)
			if err != nil {
				h.Log.Warn().Err(err).Msg("authorization check failed; refusing")
			}
			return ok && err == nil
		}
	}
	return check(h.Settings.Admins), check(h.Settings.Approvers)
}

// snapLookup caches what forms show about a snapshot's apps and groups.
type snapLookup struct {
	apps   map[string]campaign.App
	groups map[string]string
}

func (h *Handler) snapshot(ctx context.Context, id int64) (*snapLookup, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l, ok := h.lookup[id]; ok {
		return l, nil
	}
	apps, err := h.Store.SnapshotApps(ctx, id)
	if err != nil {
		return nil, err
	}
	groups, err := h.Store.SnapshotGroupNames(ctx, id)
	if err != nil {
		return nil, err
	}
	l := &snapLookup{apps: map[string]campaign.App{}, groups: groups}
	for _, a := range apps {
		l.apps[a.ID] = a
	}
	if h.lookup == nil {
		h.lookup = map[int64]*snapLookup{}
	}
	h.lookup[id] = l
	return l, nil
}

// userMessage turns an engine error into a sentence for the person.
func userMessage(err error) string {
	msg := err.Error()
	for _, kind := range []error{campaign.ErrForbidden, campaign.ErrConflict, campaign.ErrNotFound, campaign.ErrInvalid} {
		msg = strings.TrimSuffix(msg, ": "+kind.Error())
	}
	if i := strings.LastIndex(msg, "store: "); i >= 0 {
		msg = msg[i+len("store: "):]
	}
	switch {
	case errors.Is(err, campaign.ErrForbidden):
		return ":no_entry: " + msg
	case errors.Is(err, campaign.ErrConflict):
		return ":lock: " + msg
	}
	return ":warning: " + msg
}
