package oktatest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// sdkClient is the v2 SDK configured as the project uses it: no cache, no
// retries of its own, http allowed for the test server.
func sdkClient(t *testing.T, srv *Server, token string) (context.Context, *okta.Client) {
	t.Helper()
	ctx, c, err := okta.NewClient(context.Background(),
		okta.WithOrgUrl(srv.URL), okta.WithToken(token), okta.WithCache(false),
		okta.WithTestingDisableHttpsCheck(true), okta.WithRateLimitMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return ctx, c
}

// pageAll reads a list to the end through the SDK's Link parsing.
func pageAll[T any](ctx context.Context, first func() ([]T, *okta.Response, error)) (items []T, pages int, err error) {
	items, resp, err := first()
	pages = 1
	for err == nil && resp.HasNextPage() {
		var next []T
		resp, err = resp.Next(ctx, &next)
		items = append(items, next...)
		pages++
	}
	return items, pages, err
}

// distinct counts ids and fails on repeats.
func distinct(t *testing.T, ids []string) int {
	t.Helper()
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		t.Error("an item came twice")
	}
	return len(ids)
}

// The SDK pages through every list by our Link headers and decodes every
// kind of item.
func TestSDKPagesEveryList(t *testing.T) {
	srv, org := serve(t, small(31), WithLimits(map[Bucket]int{BucketApps: 0, BucketLogs: 0}))
	ctx, c := sdkClient(t, srv, srv.Token)
	everyone, app := org.Everyone(), org.Apps[0]
	for _, a := range org.Apps {
		if len(org.AppGroups[a.ID]) > len(org.AppGroups[app.ID]) {
			app = a
		}
	}
	notDeprov := 0
	for _, u := range org.Users {
		if u.Status != StatusDeprovisioned {
			notDeprov++
		}
	}
	since, until := org.Now.AddDate(0, 0, -90), org.Now
	qp := func(limit int64, opts ...query.ParamOptions) *query.Params {
		return query.NewQueryParams(append(opts, query.WithLimit(limit))...)
	}
	tests := []struct {
		name  string
		limit int
		want  int
		read  func() ([]string, int, error)
	}{
		{"users", 50, notDeprov, func() ([]string, int, error) {
			us, pages, err := pageAll(ctx, func() ([]*okta.User, *okta.Response, error) { return c.User.ListUsers(ctx, qp(50)) })
			out := []string{}
			for _, u := range us {
				if u.Status == StatusDeprovisioned || (*u.Profile)["login"] == nil || u.Created == nil {
					t.Errorf("user %s: status %s, profile %v", u.Id, u.Status, *u.Profile)
				}
				out = append(out, u.Id)
			}
			return out, pages, err
		}},
		{"groups", 7, len(org.Groups), func() ([]string, int, error) {
			gs, pages, err := pageAll(ctx, func() ([]*okta.Group, *okta.Response, error) { return c.Group.ListGroups(ctx, qp(7)) })
			return mapIDs(gs, func(g *okta.Group) string {
				need(t, g.Profile != nil && g.Profile.Name != "" && g.Type != "", "group profile and type")
				return g.Id
			}), pages, err
		}},
		{"group rules", 3, len(org.GroupRules), func() ([]string, int, error) {
			rs, pages, err := pageAll(ctx, func() ([]*okta.GroupRule, *okta.Response, error) { return c.Group.ListGroupRules(ctx, qp(3)) })
			return mapIDs(rs, func(r *okta.GroupRule) string {
				need(t, r.Actions != nil && r.Actions.AssignUserToGroups != nil && len(r.Actions.AssignUserToGroups.GroupIds) > 0 &&
					r.Conditions != nil && r.Conditions.Expression != nil && r.Conditions.Expression.Value != "", "rule target and expression")
				return r.Id
			}), pages, err
		}},
		{"group members", 100, len(org.Members[everyone]), func() ([]string, int, error) {
			us, pages, err := pageAll(ctx, func() ([]*okta.User, *okta.Response, error) {
				return c.Group.ListGroupUsers(ctx, everyone, qp(100))
			})
			return mapIDs(us, func(u *okta.User) string { return u.Id }), pages, err
		}},
		{"apps", 4, len(org.Apps), func() ([]string, int, error) {
			as, pages, err := pageAll(ctx, func() ([]*okta.Application, *okta.Response, error) {
				apps, resp, err := c.Application.ListApplications(ctx, qp(4))
				return mapIDs(apps, func(a okta.App) *okta.Application { return a.(*okta.Application) }), resp, err
			})
			return mapIDs(as, func(a *okta.Application) string {
				links, _ := a.Links.(map[string]any)
				need(t, a.Label != "" && a.SignOnMode != "" && links["appLinks"] != nil, "app label, mode and links")
				return a.Id
			}), pages, err
		}},
		{"app users", 60, len(org.AppUsers(app.ID)), func() ([]string, int, error) {
			aus, pages, err := pageAll(ctx, func() ([]*okta.AppUser, *okta.Response, error) {
				return c.Application.ListApplicationUsers(ctx, app.ID, qp(60))
			})
			return mapIDs(aus, func(au *okta.AppUser) string {
				need(t, au.Scope == ScopeUser || au.Scope == ScopeGroup, "app user scope")
				return au.Id
			}), pages, err
		}},
		{"app groups", 1, len(org.AppGroups[app.ID]), func() ([]string, int, error) {
			gas, pages, err := pageAll(ctx, func() ([]*okta.ApplicationGroupAssignment, *okta.Response, error) {
				return c.Application.ListApplicationGroupAssignments(ctx, app.ID, qp(1))
			})
			return mapIDs(gas, func(ga *okta.ApplicationGroupAssignment) string {
				need(t, ga.PriorityPtr != nil, "app group priority")
				return ga.Id
			}), pages, err
		}},
		{"sso events", 300, org.SSOEvents(since, until), func() ([]string, int, error) {
			evs, pages, err := pageAll(ctx, func() ([]*okta.LogEvent, *okta.Response, error) {
				return c.LogEvent.GetLogs(ctx, qp(300, query.WithFilter(`eventType eq "user.authentication.sso"`),
					query.WithSince(since.Format(time.RFC3339)), query.WithUntil(until.Format(time.RFC3339))))
			})
			return mapIDs(evs, func(e *okta.LogEvent) string {
				need(t, e.Published != nil && e.Actor != nil && e.Actor.Type == "User" && len(e.Target) == 2, "event time, actor and targets")
				return e.Uuid
			}), pages, err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids, pages, err := tc.read()
			if err != nil {
				t.Fatal(err)
			}
			if got := distinct(t, ids); got != tc.want || tc.want < 2 {
				t.Errorf("items = %d, want %d (and several)", got, tc.want)
			}
			if want := (tc.want + tc.limit - 1) / tc.limit; pages != max(want, 1) {
				t.Errorf("pages = %d, want %d", pages, want)
			}
		})
	}
}

// need reports a decoding failure once per test.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if !ok && !t.Failed() {
		t.Errorf("decoded item lacks %s", what)
	}
}

func mapIDs[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

// The SDK reads our error bodies as Okta's. On a 429 with its retries off
// it gives up with a bare error, after parsing Date and X-Rate-Limit-Reset
// (a missing or malformed header would fail with "date header ..." or
// "X-Rate-Limit-Reset header ..." instead).
func TestSDKReadsErrors(t *testing.T) {
	srv, _ := serve(t, small(32))
	tests := []struct {
		name, token, code string
		fail              int
	}{
		{"bad token", "wrong", "E0000011", 0},
		{"forbidden", srv.Token, "E0000006", http.StatusForbidden},
		{"rate limited", srv.Token, "", http.StatusTooManyRequests},
		{"server error", srv.Token, "E0000009", http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail != 0 {
				srv.FailNext("/api/v1/users", tc.fail, 1)
			}
			ctx, c := sdkClient(t, srv, tc.token)
			_, _, err := c.User.ListUsers(ctx, query.NewQueryParams(query.WithLimit(10)))
			if tc.code == "" {
				if err == nil || err.Error() != "too many requests" {
					t.Fatalf("err = %v, want the SDK's give-up error", err)
				}
				return
			}
			var oe *okta.Error
			if !errors.As(err, &oe) || oe.ErrorCode != tc.code {
				t.Fatalf("err = %v, want an okta.Error %s", err, tc.code)
			}
		})
	}
}
