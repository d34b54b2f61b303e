package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// UserMap finds the Okta user a Slack user is.
type UserMap interface {
	// SlackUserBySlack returns the mapping of a Slack user, or
	// campaign.ErrNotFound.
	SlackUserBySlack(ctx context.Context, slackID string) (slackrec.User, error)
}

// GroupMembers reads a Slack user group's members.
type GroupMembers interface {
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
}

// Access answers who a Slack user is and what they may do. Lists are read
// at the moment of the question (group membership from Slack, never
// cached), so removing someone from the IAM group takes effect at once.
type Access struct {
	Users  UserMap
	Groups GroupMembers
	// Admins may launch, close, remind and report; Approvers may approve
	// plans and retry removals. Each lists Slack user ids, user group ids
	// (S...) or @handles of user groups.
	Admins, Approvers []string
	Log               zerolog.Logger
}

// errNotLinked refuses someone attest cannot map to an Okta user.
var errNotLinked = campaign.Errorf(campaign.EForbidden,
	"Your Slack account is not linked to an Okta user (no Okta user has your email); ask the IAM team.")

// Actor resolves the Slack user who acted to the Okta user they are. An
// unmapped user gets a forbidden *campaign.Error; a store failure is
// returned wrapped.
func (a *Access) Actor(ctx context.Context, slackID, teamID string) (campaign.Actor, error) {
	u, err := a.Users.SlackUserBySlack(ctx, slackID)
	if errors.Is(err, campaign.ErrNotFound) {
		return campaign.Actor{}, errNotLinked
	}
	if err != nil {
		return campaign.Actor{}, fmt.Errorf("look up Slack user %s: %w", slackID, err)
	}
	return campaign.Actor{UserID: u.OktaUserID, Email: u.Email, Via: "slack", SlackUserID: slackID, SlackTeamID: teamID}, nil
}

// IsAdmin reports whether a Slack user is an IAM admin; the error is
// Slack's, when group membership could not be read.
func (a *Access) IsAdmin(ctx context.Context, slackID string) (bool, error) {
	return a.inList(ctx, slackID, a.Admins)
}

// IsApprover reports whether a Slack user may approve removals.
func (a *Access) IsApprover(ctx context.Context, slackID string) (bool, error) {
	return a.inList(ctx, slackID, a.Approvers)
}

// inList reports whether a Slack user is named in a list of user ids,
// user group ids or @handles.
func (a *Access) inList(ctx context.Context, slackID string, list []string) (bool, error) {
	if slackID == "" {
		return false, nil
	}
	for _, x := range list {
		x = strings.TrimSpace(x)
		switch {
		case x == slackID:
			return true, nil
		case strings.HasPrefix(x, "S") || strings.HasPrefix(x, "@"):
			group := strings.TrimPrefix(x, "@")
			members, err := a.Groups.GetUserGroupMembersContext(ctx, group)
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

// EngineChecks lets the engine accept the Slack-configured admins and
// approvers. A failed check refuses (and is logged).
func (a *Access) EngineChecks() (admin, approver func(ctx context.Context, actor campaign.Actor) bool) {
	check := func(list []string) func(context.Context, campaign.Actor) bool {
		return func(ctx context.Context, actor campaign.Actor) bool {
			ok, err := a.inList(ctx, actor.SlackUserID, list)
			if err != nil {
				a.Log.Warn().Err(err).Str("slack_user", actor.SlackUserID).Msg("authorization check failed; refusing")
			}
			return ok && err == nil
		}
	}
	return check(a.Admins), check(a.Approvers)
}

// requireAdmin returns nil for an IAM admin, else a forbidden error whose
// message says what only admins may do.
func (a *Access) requireAdmin(ctx context.Context, slackID, what string) error {
	ok, err := a.IsAdmin(ctx, slackID)
	if err != nil {
		return &campaign.Error{Code: campaign.ETransient, Message: "Could not check your permissions with Slack; try again.", Err: err}
	}
	if !ok {
		return campaign.Errorf(campaign.EForbidden, "Only IAM admins may %s.", what)
	}
	return nil
}
