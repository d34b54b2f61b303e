package okta

import (
	"context"
	"fmt"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/attestbot/attest/campaign"
)

// Largest page sizes Okta accepts per endpoint: fewer pages, fewer calls
// against the rate limits.
const (
	pageUsers        = 200
	pageGroups       = 10000
	pageGroupRules   = 200
	pageGroupMembers = 1000
	pageApps         = 200
	pageAppUsers     = 500
	pageAppGroups    = 200
	pageLogs         = 1000
)

// eachPage follows Okta's Link rel="next" cursor from a first page, handing
// every page to fn. l names the list in errors and in the read log of a
// directory read (see readLog), which counts each page and records the page
// a failure happened on.
func eachPage[T any](ctx context.Context, l list, first func() ([]T, *sdk.Response, error), fn func([]T)) error {
	rl := readLogOf(ctx)
	page := l.path
	items, resp, err := first()
	for {
		if err != nil {
			err = translate("list "+l.what(), err)
			rl.fail(ctx, l, requestPath(resp, page), err)
			return err
		}
		rl.page(l.object)
		fn(items)
		if resp == nil || !resp.HasNextPage() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			rl.fail(ctx, l, pagePath(resp.NextPage), err)
			return err
		}
		page = pagePath(resp.NextPage)
		var next []T
		resp, err = resp.Next(ctx, &next)
		items = next
	}
}

// readUsers lists users of every status. Okta's plain list omits
// DEPROVISIONED users, so they are asked for in a second, filtered list.
func (c *Client) readUsers(ctx context.Context) ([]campaign.User, error) {
	var out []campaign.User
	seen := map[string]bool{}
	add := func(page []*sdk.User) {
		for _, u := range page {
			if u == nil || seen[u.Id] {
				continue
			}
			seen[u.Id] = true
			out = append(out, c.user(u))
		}
	}
	lists := []*query.Params{
		query.NewQueryParams(query.WithLimit(pageUsers)),
		query.NewQueryParams(query.WithLimit(pageUsers), query.WithFilter(`status eq "DEPROVISIONED"`)),
	}
	for _, qp := range lists {
		err := eachPage(ctx, list{campaign.ReadUsers, "", "/api/v1/users" + qp.String()}, func() ([]*sdk.User, *sdk.Response, error) {
			return c.sdk.User.ListUsers(ctx, qp)
		}, add)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// user converts an SDK user, keeping only what reviews need.
func (c *Client) user(u *sdk.User) campaign.User {
	p := map[string]any{}
	if u.Profile != nil {
		p = *u.Profile
	}
	out := campaign.User{
		ID:         u.Id,
		Status:     u.Status,
		Login:      str(p["login"]),
		Email:      str(p["email"]),
		FirstName:  str(p["firstName"]),
		LastName:   str(p["lastName"]),
		Department: str(p["department"]),
		Title:      str(p["title"]),
		ManagerRef: strings.TrimSpace(str(p[c.mgrAttr])),
	}
	if u.Created != nil {
		out.Created = u.Created.UTC()
	}
	if u.LastLogin != nil {
		out.LastLogin = u.LastLogin.UTC()
	}
	return out
}

// str renders a profile value; Okta profiles are free-form JSON.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprint(v)
}

// readGroups lists every group with Okta's stats (expand=stats), whose
// _embedded.stats usersCount and appsCount the members and app
// assignments read are reconciled with.
func (c *Client) readGroups(ctx context.Context) ([]campaign.Group, error) {
	var out []campaign.Group
	qp := query.NewQueryParams(query.WithLimit(pageGroups), query.WithExpand("stats"))
	err := eachPage(ctx, list{campaign.ReadGroups, "", "/api/v1/groups" + qp.String()}, func() ([]*sdk.Group, *sdk.Response, error) {
		return c.sdk.Group.ListGroups(ctx, qp)
	}, func(page []*sdk.Group) {
		rl := readLogOf(ctx)
		for _, g := range page {
			if g == nil {
				continue
			}
			if st, ok := statsOf(g.Embedded); ok && rl != nil {
				rl.groupStats(g.Id, st)
			}
			cg := campaign.Group{ID: g.Id, Type: g.Type}
			if g.Profile != nil {
				cg.Name, cg.Description = g.Profile.Name, g.Profile.Description
			}
			out = append(out, cg)
		}
	})
	return out, err
}

// readRules lists group rules, so that memberships a rule manages are
// known: removing one silently excludes the user from the rule.
func (c *Client) readRules(ctx context.Context) ([]campaign.GroupRule, error) {
	var out []campaign.GroupRule
	qp := query.NewQueryParams(query.WithLimit(pageGroupRules))
	err := eachPage(ctx, list{campaign.ReadGroupRules, "", "/api/v1/groups/rules" + qp.String()}, func() ([]*sdk.GroupRule, *sdk.Response, error) {
		return c.sdk.Group.ListGroupRules(ctx, qp)
	}, func(page []*sdk.GroupRule) {
		for _, r := range page {
			if r == nil {
				continue
			}
			gr := campaign.GroupRule{ID: r.Id, Name: r.Name, Status: r.Status}
			if r.Actions != nil && r.Actions.AssignUserToGroups != nil {
				gr.GroupIDs = append(gr.GroupIDs, r.Actions.AssignUserToGroups.GroupIds...)
			}
			out = append(out, gr)
		}
	})
	return out, err
}

// readGroupMembers lists the user ids in one group.
func (c *Client) readGroupMembers(ctx context.Context, groupID string) ([]string, error) {
	var ids []string
	qp := query.NewQueryParams(query.WithLimit(pageGroupMembers))
	err := eachPage(ctx, list{campaign.ReadGroupMembers, groupID, "/api/v1/groups/" + groupID + "/users" + qp.String()}, func() ([]*sdk.User, *sdk.Response, error) {
		return c.sdk.Group.ListGroupUsers(ctx, groupID, qp)
	}, func(page []*sdk.User) {
		for _, u := range page {
			if u != nil {
				ids = append(ids, u.Id)
			}
		}
	})
	return ids, err
}

// readApps lists every app, ACTIVE and INACTIVE.
func (c *Client) readApps(ctx context.Context) ([]campaign.App, error) {
	var out []campaign.App
	// The SDK returns the first page as []App (an interface type) but a
	// next page must decode into concrete values.
	qp := query.NewQueryParams(query.WithLimit(pageApps))
	err := eachPage(ctx, list{campaign.ReadApps, "", "/api/v1/apps" + qp.String()}, func() ([]*sdk.Application, *sdk.Response, error) {
		list, resp, err := c.sdk.Application.ListApplications(ctx, qp)
		apps := make([]*sdk.Application, 0, len(list))
		for _, a := range list {
			if app, ok := a.(*sdk.Application); ok {
				apps = append(apps, app)
			}
		}
		return apps, resp, err
	}, func(page []*sdk.Application) {
		for _, app := range page {
			if app == nil {
				continue
			}
			out = append(out, campaign.App{
				ID: app.Id, Name: app.Name, Label: app.Label, Status: app.Status,
				SignOnMode: app.SignOnMode, LinkURL: appLink(app.Links), Owners: profileValue(app.Profile, c.ownerAttr),
			})
		}
	})
	return out, err
}

// profileValue is the value of an app profile attribute as text: a
// string as is, a list of strings joined with ", ", anything else
// (numbers, objects) "". "" when attr is "" or the app has no profile.
func profileValue(profile any, attr string) string {
	m, ok := profile.(map[string]any)
	if attr == "" || !ok {
		return ""
	}
	switch v := m[attr].(type) {
	case string:
		return strings.TrimSpace(v)
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				parts = append(parts, strings.TrimSpace(s))
			}
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// appLink digs the first sign-on link out of an app's _links.appLinks.
func appLink(links any) string {
	m, ok := links.(map[string]any)
	if !ok {
		return ""
	}
	list, ok := m["appLinks"].([]any)
	if !ok || len(list) == 0 {
		return ""
	}
	first, ok := list[0].(map[string]any)
	if !ok {
		return ""
	}
	return str(first["href"])
}

// readAppUsers lists an app's users with their scope (USER: direct;
// GROUP: only through groups).
func (c *Client) readAppUsers(ctx context.Context, appID string) ([]campaign.AppAssignment, error) {
	var out []campaign.AppAssignment
	qp := query.NewQueryParams(query.WithLimit(pageAppUsers))
	err := eachPage(ctx, list{campaign.ReadAppUsers, appID, "/api/v1/apps/" + appID + "/users" + qp.String()}, func() ([]*sdk.AppUser, *sdk.Response, error) {
		return c.sdk.Application.ListApplicationUsers(ctx, appID, qp)
	}, func(page []*sdk.AppUser) {
		for _, au := range page {
			if au != nil {
				a := campaign.AppAssignment{AppID: appID, UserID: au.Id, Scope: strings.ToUpper(au.Scope)}
				if au.Created != nil {
					a.Created = au.Created.UTC()
				}
				out = append(out, a)
			}
		}
	})
	return out, err
}

// readAppGroups lists the groups assigned to an app.
func (c *Client) readAppGroups(ctx context.Context, appID string) ([]campaign.GroupAssignment, error) {
	var out []campaign.GroupAssignment
	qp := query.NewQueryParams(query.WithLimit(pageAppGroups))
	err := eachPage(ctx, list{campaign.ReadAppGroups, appID, "/api/v1/apps/" + appID + "/groups" + qp.String()}, func() ([]*sdk.ApplicationGroupAssignment, *sdk.Response, error) {
		return c.sdk.Application.ListApplicationGroupAssignments(ctx, appID, qp)
	}, func(page []*sdk.ApplicationGroupAssignment) {
		for _, ga := range page {
			if ga == nil {
				continue
			}
			prio := ga.Priority
			if ga.PriorityPtr != nil {
				prio = *ga.PriorityPtr
			}
			out = append(out, campaign.GroupAssignment{AppID: appID, GroupID: ga.Id, Priority: int(prio)})
		}
	})
	return out, err
}

// readSignIns reads user.authentication.sso events in [since, until) and
// keeps the latest sign-in per (user, app). until is always sent: without
// it Okta treats the query as a poll that never ends.
func (c *Client) readSignIns(ctx context.Context, since, until time.Time, progress func(int)) ([]campaign.AppUsage, error) {
	type key struct{ user, app string }
	last := map[key]time.Time{}
	events := 0
	qp := query.NewQueryParams(
		query.WithFilter(`eventType eq "user.authentication.sso"`),
		query.WithSince(since.UTC().Format(time.RFC3339)),
		query.WithUntil(until.UTC().Format(time.RFC3339)),
		query.WithLimit(pageLogs),
		query.WithSortOrder("ASCENDING"),
	)
	err := eachPage(ctx, list{campaign.ReadSystemLog, "", "/api/v1/logs" + qp.String()}, func() ([]*sdk.LogEvent, *sdk.Response, error) {
		return c.sdk.LogEvent.GetLogs(ctx, qp)
	}, func(page []*sdk.LogEvent) {
		for _, ev := range page {
			userID, appID, at, ok := signIn(ev)
			if !ok {
				continue
			}
			k := key{userID, appID}
			if at.After(last[k]) {
				last[k] = at
			}
		}
		events += len(page)
		if progress != nil {
			progress(events)
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]campaign.AppUsage, 0, len(last))
	for k, t := range last {
		out = append(out, campaign.AppUsage{UserID: k.user, AppID: k.app, LastUsed: t})
	}
	return out, nil
}

// signIn extracts who signed in to which app, matching targets by type
// rather than position.
func signIn(ev *sdk.LogEvent) (userID, appID string, at time.Time, ok bool) {
	if ev == nil || ev.EventType != "user.authentication.sso" || ev.Published == nil || ev.Actor == nil {
		return "", "", time.Time{}, false
	}
	if ev.Outcome != nil && ev.Outcome.Result != "" && ev.Outcome.Result != "SUCCESS" {
		return "", "", time.Time{}, false
	}
	if ev.Actor.Type != "User" || ev.Actor.Id == "" {
		return "", "", time.Time{}, false
	}
	for _, t := range ev.Target {
		if t != nil && t.Type == "AppInstance" && t.Id != "" {
			return ev.Actor.Id, t.Id, ev.Published.UTC(), true
		}
	}
	return "", "", time.Time{}, false
}
