package handlers

// The admins' and approvers' lists: each entry is a Slack user id, a user
// group id or a handle (@iam-team), resolved to user and group ids; group
// membership is read through the cache in access_cache.go. One entry that
// cannot be resolved or read is logged once and skipped: it never voids
// the entries after it.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// UserGroupDirectory lists a workspace's user groups (usergroups.list),
// to resolve a handle such as @iam-team to its S... id. A GroupMembers
// that also implements it (slack.Client does) resolves handles.
type UserGroupDirectory interface {
	GetUserGroupsContext(ctx context.Context, options ...slack.GetUserGroupsOption) ([]slack.UserGroup, error)
}

// handlesFresh is how long the handle -> user group id table read from
// usergroups.list (Tier 2) is used before it is read again; a failed
// read keeps the last table.
const handlesFresh = 10 * time.Minute

// entry is one resolved list entry: a user id, a group id, or neither
// (skipped, with the reason logged once).
type entry struct {
	raw          string
	user, group  string
	unresolved   error // a handle that names nothing (permanent until the lists change)
	unknownToday error // a handle that could not be resolved now (transient)
}

// isSlackID reports whether s has the shape of a Slack id: capitals and
// digits only, as U0123ABCD, W0123ABCD (Enterprise Grid) or S0123ABCD.
func isSlackID(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// handles caches what handles resolve to: user groups (usergroups.list)
// and users (user names seen by the last user map, SetUserHandles).
type handles struct {
	mu     sync.Mutex
	groups map[string]string // handle -> S... id
	read   time.Time         // when groups was read
	// failed is the last 429 of usergroups.list, not retried before retryAt.
	failed  error
	retryAt time.Time
	users   map[string]string // user name -> U... id
	logged  map[string]bool   // entries whose problem was logged
}

// SetUserHandles gives Access the user names (the @handles of people)
// seen by the last users.list, so an entry such as @alice resolves to
// her user id; RefreshUsers calls it.
func (a *Access) SetUserHandles(byName map[string]string) {
	a.handles.mu.Lock()
	defer a.handles.mu.Unlock()
	a.handles.users = byName
}

// resolve turns the raw entries of a list into user and group ids. A
// handle is first a user group's (usergroups.list, cached), then a
// user's; one that names neither is unresolved, one whose table could not
// be read is unknown for now.
func (a *Access) resolve(ctx context.Context, list []string) []entry {
	out := make([]entry, 0, len(list))
	for _, raw := range list {
		x := strings.TrimSpace(raw)
		e := entry{raw: x}
		switch {
		case x == "":
			continue
		case isSlackID(x) && x[0] == 'S':
			e.group = x
		case isSlackID(x):
			e.user = x
		default:
			e.group, e.user, e.unresolved, e.unknownToday = a.resolveHandle(ctx, strings.ToLower(strings.TrimPrefix(x, "@")))
		}
		out = append(out, e)
	}
	return out
}

// resolveHandle finds a handle's user group id or user id.
func (a *Access) resolveHandle(ctx context.Context, h string) (group, user string, unresolved, unknown error) {
	groups, err := a.groupHandles(ctx)
	if id, ok := groups[h]; ok {
		return id, "", nil, nil
	}
	a.handles.mu.Lock()
	id, ok := a.handles.users[h]
	a.handles.mu.Unlock()
	switch {
	case ok:
		return "", id, nil, nil
	case err != nil && groups == nil && transient(err):
		return "", "", nil, fmt.Errorf("resolve @%s: read user groups: %w", h, err)
	case err != nil && groups == nil:
		return "", "", fmt.Errorf("@%s cannot be resolved: %w", h, err), nil
	}
	return "", "", fmt.Errorf("@%s is neither a user group's nor a user's handle in this workspace", h), nil
}

// groupHandles returns the handle -> id table of the workspace's user
// groups, read again when older than handlesFresh; a failed read returns
// the last table (nil if there is none) with the error.
func (a *Access) groupHandles(ctx context.Context) (map[string]string, error) {
	a.handles.mu.Lock()
	table, read, failed, retryAt := a.handles.groups, a.handles.read, a.handles.failed, a.handles.retryAt
	a.handles.mu.Unlock()
	now := a.now()
	if table != nil && now.Sub(read) < handlesFresh {
		return table, nil
	}
	if failed != nil && now.Before(retryAt) {
		return table, failed // Slack is not asked again before its Retry-After
	}
	dir, ok := a.Groups.(UserGroupDirectory)
	if !ok {
		return table, errors.New("this Slack client cannot list user groups (usergroups.list)")
	}
	var opts []slack.GetUserGroupsOption
	team := a.groupTeam()
	if team != "" {
		opts = append(opts, slack.GetUserGroupsOptionTeamID(team))
	}
	if a.Grid.OrgWide() && team == "" {
		return table, fmt.Errorf("slack usergroups.list: %w", errOrgUnlisted)
	}
	groups, err := dir.GetUserGroupsContext(ctx, opts...)
	if err != nil {
		err = fmt.Errorf("slack usergroups.list: %w", err)
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			a.handles.mu.Lock()
			a.handles.failed, a.handles.retryAt = err, now.Add(rl.RetryAfter)
			a.handles.mu.Unlock()
		}
		return table, err
	}
	next := make(map[string]string, len(groups))
	for _, g := range groups {
		if g.DateDelete == 0 {
			next[strings.ToLower(g.Handle)] = g.ID
		}
	}
	a.handles.mu.Lock()
	a.handles.groups, a.handles.read, a.handles.failed = next, now, nil
	a.handles.mu.Unlock()
	return next, nil
}

// logOnce logs a list entry's problem the first time it is seen, so a bad
// entry is named clearly without filling the log on every click.
func (a *Access) logOnce(e entry, err error, what string) {
	key := e.raw + "\x00" + err.Error()
	a.handles.mu.Lock()
	if a.handles.logged == nil {
		a.handles.logged = map[string]bool{}
	}
	seen := a.handles.logged[key]
	a.handles.logged[key] = true
	a.handles.mu.Unlock()
	if !seen {
		a.Log.Error().Err(err).Str("entry", e.raw).Msg(what + "; this entry is skipped, the rest of the list still counts")
	}
}

// inList reports whether a Slack user is named in a list, directly or
// through a user group. Entries that cannot be resolved or read are
// skipped (logged once); when the user is in no entry that could be read
// and some entry could not be read for a passing reason (rate limits,
// Slack not answering) beyond the cache's bounded staleness, the answer
// is unknown: errCheckFailed wrapping the cause.
func (a *Access) inList(ctx context.Context, slackID string, list []string) (bool, error) {
	if slackID == "" {
		return false, nil
	}
	a.knowTeams(ctx) // the team, for Enterprise Grid's team_id (a failure shows at CheckTeam)
	entries := a.resolve(ctx, list)
	for _, e := range entries {
		if e.user == slackID {
			return true, nil
		}
	}
	var unknown error
	for _, e := range entries {
		switch {
		case e.unresolved != nil:
			a.logOnce(e, e.unresolved, "an admins/approvers entry names no Slack user group or user")
		case e.unknownToday != nil:
			unknown = errors.Join(unknown, e.unknownToday)
		case e.group != "":
			members, err := a.members(ctx, e.group)
			if err != nil && !transient(err) {
				a.logOnce(e, err, "the members of an admins/approvers user group cannot be read")
				continue
			}
			if err != nil {
				unknown = errors.Join(unknown, err)
				continue
			}
			if members[slackID] {
				return true, nil
			}
		}
	}
	if unknown != nil {
		return false, fmt.Errorf("%w: %w", errCheckFailed, unknown)
	}
	return false, nil
}
