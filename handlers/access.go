package handlers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

// GroupMembers reads a Slack user group's members. A value that also
// implements UserGroupDirectory resolves @handles of user groups, and one
// that implements AuthTester verifies the installed team (slack.Client
// does both).
type GroupMembers interface {
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
}

// Access answers who a Slack user is and what they may do. Group
// membership is read from Slack and kept for membersFresh, so removing
// someone from the IAM group takes effect within a minute; when Slack
// cannot be asked, the last membership read decides for up to
// MaxMembershipStaleness (access_cache.go). Lists are resolved entry by
// entry, and one bad entry never voids the rest (access_lists.go).
// Interactions from another workspace or org are refused
// (access_team.go); before the first user map they wait for it
// (access_ready.go).
type Access struct {
	Users  UserMap
	Groups GroupMembers
	// Auth verifies the installed team (auth.test); nil uses Groups when
	// it implements AuthTester, else no team is checked (test doubles).
	Auth AuthTester
	// Grid is the Enterprise Grid org of an org-wide install, zero for
	// one workspace; Teams lists the org's workspaces (nil: Groups when it
	// implements TeamLister). See access_team_grid.go.
	Grid  Grid
	Teams TeamLister
	// Admins may launch, close, remind and report; Approvers may approve
	// plans and retry removals. Each lists Slack user ids (U..., W...),
	// user group ids (S...) or handles: @iam-team (a user group) or
	// @alice (a user).
	Admins, Approvers []string
	Log               zerolog.Logger
	// Now is the clock of the membership cache (default time.Now).
	Now func() time.Time
	// MapWait bounds how long an interaction that arrives before the
	// first user map waits for it (default DefaultMapWait).
	MapWait time.Duration

	cache   memberCache
	handles handles
	team    struct {
		mu    sync.Mutex
		known bool
		in    Installed
	}
	ready readiness
	org   orgWorkspaces
}

// errNotLinked refuses someone attest cannot map to an Okta user. Slack
// admins and approvers are no exception: attest acts on Okta identities,
// so each of them needs an Okta user with their Slack account's email.
var errNotLinked = campaign.Errorf(campaign.EForbidden,
	"Your Slack account is not linked to an Okta user: your Slack account's email matches no Okta user; attest acts on Okta identities, "+
		"so it cannot act for you, even as a configured admin or approver. Ask the IAM team to give your Okta user your Slack account's email.")

// errAmbiguous refuses a Slack user whose email more than one active Okta
// user carries: attest never guesses which of them acts.
var errAmbiguous = campaign.Errorf(campaign.EForbidden,
	"More than one Okta user has your Slack account's email, so attest cannot tell which of them you are and does nothing; "+
		"ask the IAM team to make the email unique in Okta.")

// Actor resolves the Slack user who acted to the Okta user they are,
// after checking the team (CheckTeam) and, before the first user map,
// waiting for it. The actor's SlackTeamID is the verified installed team,
// never the payload's. An unmapped or ambiguous user gets a forbidden
// *campaign.Error; a store failure is returned wrapped.
func (a *Access) Actor(ctx context.Context, slackID, teamID string) (campaign.Actor, error) {
	return a.ActorIn(ctx, slackID, teamID, "")
}

// ActorIn is Actor for a payload that names its Enterprise Grid org
// (enterprise_id), so that on Grid the org is checked too (CheckTeam).
func (a *Access) ActorIn(ctx context.Context, slackID, teamID, enterpriseID string) (campaign.Actor, error) {
	team, err := a.CheckTeam(ctx, teamID, enterpriseID)
	if err != nil {
		return campaign.Actor{}, err
	}
	if err := a.waitMapped(ctx); err != nil {
		return campaign.Actor{}, err
	}
	u, err := a.Users.SlackUserBySlack(ctx, slackID)
	if errors.Is(err, campaign.ErrNotFound) {
		if a.isAmbiguous(slackID) {
			return campaign.Actor{}, errAmbiguous
		}
		return campaign.Actor{}, errNotLinked
	}
	if err != nil {
		return campaign.Actor{}, fmt.Errorf("look up Slack user %s: %w", slackID, err)
	}
	return campaign.Actor{UserID: u.OktaUserID, Email: u.Email, Via: "slack", SlackUserID: slackID, SlackTeamID: team}, nil
}

// IsAdmin reports whether a Slack user is an IAM admin. The error (wrapping
// errCheckFailed) says the check could not be made: Slack did not answer
// and no membership within MaxMembershipStaleness was known.
func (a *Access) IsAdmin(ctx context.Context, slackID string) (bool, error) {
	return a.inList(ctx, slackID, a.Admins)
}

// IsApprover reports whether a Slack user may approve removals (errors as
// IsAdmin's).
func (a *Access) IsApprover(ctx context.Context, slackID string) (bool, error) {
	return a.inList(ctx, slackID, a.Approvers)
}

// EngineChecks lets the engine accept the Slack-configured admins and
// approvers. A check that could not be made refuses, is logged, and is
// noted in the context (WithCheckNote) so the refusal can say so.
func (a *Access) EngineChecks() (admin, approver func(ctx context.Context, actor campaign.Actor) bool) {
	check := func(list []string) func(context.Context, campaign.Actor) bool {
		return func(ctx context.Context, actor campaign.Actor) bool {
			ok, err := a.inList(ctx, actor.SlackUserID, list)
			if err != nil {
				a.Log.Warn().Err(err).Str("slack_user", actor.SlackUserID).Msg("authorization check failed; refusing")
				noteCheckFailed(ctx, err)
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
		return checkFailed(err)
	}
	if !ok {
		return campaign.Errorf(campaign.EForbidden, "Only IAM admins may %s.", what)
	}
	return nil
}
