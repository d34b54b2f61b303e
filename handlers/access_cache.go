package handlers

// Group membership with bounded staleness. usergroups.users.list is Tier 2
// (about 20 calls a minute) and was read on every click and every App Home
// open, so a busy minute answered 429 and a real approver was told they
// were not one. Membership is now kept briefly, and under rate limiting or
// a passing failure the last membership read is used up to a bound; past
// it, the check fails closed saying it could not be made.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
)

// membersFresh is how long a user group's membership is used without
// asking Slack again: removing someone from the IAM group takes effect
// within it.
const membersFresh = 60 * time.Second

// MaxMembershipStaleness bounds how old a user group's membership may be
// when Slack cannot be asked (HTTP 429, 5xx, a timeout): up to it, the
// last membership read decides, so a rate-limited minute does not refuse
// real approvers; beyond it, the check fails closed with a message that
// says it could not be made. It is also the longest a person removed from
// the group keeps their rights while Slack does not answer.
const MaxMembershipStaleness = 15 * time.Minute

// errCheckFailed is a membership check that could not be made: Slack did
// not answer and what attest knew was older than MaxMembershipStaleness.
var errCheckFailed = errors.New("the admins/approvers check could not be made")

// msgCheckFailed is what a person reads when their rights could not be
// checked: never "you are not an approver".
const msgCheckFailed = "attest could not check your rights with Slack just now (Slack is rate-limiting or not answering), " +
	"so nothing was done. Please try again in a minute."

// checkFailed is the error users see for a check that could not be made.
func checkFailed(err error) error {
	return &campaign.Error{Code: campaign.ETransient, Message: msgCheckFailed, Err: err}
}

// membership is one user group's members as read at a time; Slack is
// not asked again before retryAt (a 429's Retry-After).
type membership struct {
	members map[string]bool
	read    time.Time
	retryAt time.Time
}

// memberCache keeps user groups' membership by group id.
type memberCache struct {
	mu     sync.Mutex
	groups map[string]membership
}

func (a *Access) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// members returns a user group's members: from the cache while fresh,
// else from Slack; when Slack fails for a passing reason, the last
// membership read if it is at most MaxMembershipStaleness old (logged).
// It returns Slack's error otherwise; transient(err) tells which kind.
func (a *Access) members(ctx context.Context, group string) (map[string]bool, error) {
	a.cache.mu.Lock()
	last, ok := a.cache.groups[group]
	a.cache.mu.Unlock()
	now := a.now()
	if ok && now.Sub(last.read) < membersFresh {
		return last.members, nil
	}
	if ok && now.Before(last.retryAt) {
		if now.Sub(last.read) <= MaxMembershipStaleness {
			return last.members, nil
		}
		return nil, fmt.Errorf("read members of Slack user group %s: %w", group, &slack.RateLimitedError{RetryAfter: last.retryAt.Sub(now)})
	}
	var opts []slack.GetUserGroupMembersOption
	team := a.groupTeam()
	if team != "" && (a.Grid.OrgWide() || a.enterprise() != "") {
		opts = append(opts, slack.GetUserGroupMembersOptionTeamID(team)) // org tokens need the team
	}
	var ids []string
	var err error
	if a.Grid.OrgWide() && team == "" {
		err = errOrgUnlisted // no team_id to send: the org token would be refused
	} else {
		ids, err = a.Groups.GetUserGroupMembersContext(ctx, group, opts...)
	}
	if err != nil {
		err = fmt.Errorf("read members of Slack user group %s: %w", group, err)
		var rl *slack.RateLimitedError
		if ok && errors.As(err, &rl) {
			a.cache.mu.Lock()
			last.retryAt = now.Add(rl.RetryAfter)
			a.cache.groups[group] = last
			a.cache.mu.Unlock()
		}
		if transient(err) && ok && now.Sub(last.read) <= MaxMembershipStaleness {
			a.Log.Warn().Err(err).Str("group", group).Dur("age", now.Sub(last.read)).
				Msg("Slack did not answer; using the group's last known membership")
			return last.members, nil
		}
		return nil, err
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	a.cache.mu.Lock()
	if a.cache.groups == nil {
		a.cache.groups = map[string]membership{}
	}
	a.cache.groups[group] = membership{members: m, read: now}
	a.cache.mu.Unlock()
	return m, nil
}

// transientSlackErrors are Slack error codes that pass with time.
var transientSlackErrors = map[string]bool{
	"ratelimited": true, "rate_limited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

// transient reports whether a Slack call failed for a passing reason:
// rate limiting (slack.RateLimitedError, or the "ratelimited" code), a
// 5xx, a timeout or a network error. Anything else (no_such_subteam,
// missing_scope, invalid_auth) is permanent.
func transient(err error) bool {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	var ne net.Error
	switch {
	case errors.As(err, &rl), errors.Is(err, errOrgUnlisted):
		return true
	case errors.As(err, &sc):
		return sc.Code == 429 || sc.Code >= 500
	case errors.As(err, &se):
		return transientSlackErrors[se.Err]
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return true
	}
	return false
}

// checkNote collects, for one interaction, the checks the engine asked for
// that could not be made, so a refusal says "could not check" rather than
// "you are not an approver".
type checkNote struct {
	mu  sync.Mutex
	err error
}

type checkNoteKey struct{}

// withCheckNote returns a context whose failed checks are noted.
func withCheckNote(ctx context.Context) (context.Context, *checkNote) {
	n := &checkNote{}
	return context.WithValue(ctx, checkNoteKey{}, n), n
}

// noteCheckFailed notes err in ctx's checkNote, if it has one.
func noteCheckFailed(ctx context.Context, err error) {
	if n, ok := ctx.Value(checkNoteKey{}).(*checkNote); ok {
		n.mu.Lock()
		n.err = errors.Join(n.err, err)
		n.mu.Unlock()
	}
}

// explain turns a forbidden refusal that followed a check that could not
// be made into checkFailed; any other error is returned as it is.
func (n *checkNote) explain(err error) error {
	n.mu.Lock()
	failed := n.err
	n.mu.Unlock()
	if err == nil || failed == nil || campaign.ErrorCode(err) != campaign.EForbidden {
		return err
	}
	return checkFailed(fmt.Errorf("%w (refused: %w)", failed, err))
}
