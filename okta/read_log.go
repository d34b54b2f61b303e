package okta

import (
	"context"
	"net/url"
	"sync"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/attestbot/attest/campaign"
)

// list names one list read: its object type (a campaign.Read* name), the
// group or app it belongs to, and the path and query of its first page
// (named when a request gets no answer to take them from).
type list struct {
	object, id, path string
}

// what names the list in errors ("members of group 00g1").
func (l list) what() string {
	switch l.object {
	case campaign.ReadGroupMembers:
		return "members of group " + l.id
	case campaign.ReadAppUsers:
		return "users of app " + l.id
	case campaign.ReadAppGroups:
		return "groups of app " + l.id
	case campaign.ReadGroupRules:
		return "group rules"
	case campaign.ReadSystemLog:
		return "system log"
	case "user_groups":
		return "groups of user " + l.id
	}
	return l.object
}

// readLog records, for one ReadDirectory, the pages read per object type,
// the reads that failed (with the page they failed on) and Okta's own
// member count per group.
type readLog struct {
	mu       sync.Mutex
	pages    map[string]int
	failed   []campaign.FailedRead
	members  map[string]int
	apps     map[string]int
	canceled int
}

type readLogKey struct{}

func withReadLog(ctx context.Context, rl *readLog) context.Context {
	return context.WithValue(ctx, readLogKey{}, rl)
}

func readLogOf(ctx context.Context) *readLog {
	rl, _ := ctx.Value(readLogKey{}).(*readLog)
	return rl
}

func (rl *readLog) page(object string) {
	if rl == nil {
		return
	}
	rl.mu.Lock()
	rl.pages[object]++
	rl.mu.Unlock()
}

// fail records a failed read. A read stopped only because another one had
// failed (its context canceled) is counted, not listed: the list names the
// reads that broke, not the ones stopped with them. Its error need not say
// "canceled": the HTTP client reports the context's cause, which is the
// other read's error, so a canceled context is what tells.
func (rl *readLog) fail(ctx context.Context, l list, page string, err error) {
	if rl == nil {
		return
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if ctx.Err() != nil {
		rl.canceled++
		return
	}
	rl.failed = append(rl.failed, campaign.FailedRead{Object: l.object, ID: l.id, Page: page, Error: err.Error()})
}

// groupStats records Okta's member and app counts of a group.
func (rl *readLog) groupStats(groupID string, st groupStats) {
	rl.mu.Lock()
	if st.users >= 0 {
		rl.members[groupID] = st.users
	}
	if st.apps >= 0 {
		rl.apps[groupID] = st.apps
	}
	rl.mu.Unlock()
}

// record returns what was logged as a campaign.ReadRecord.
func (rl *readLog) record() *campaign.ReadRecord {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	r := &campaign.ReadRecord{Complete: len(rl.failed) == 0, Pages: map[string]int{}, Failed: append([]campaign.FailedRead{}, rl.failed...),
		GroupMemberCounts: map[string]int{}, GroupAppCounts: map[string]int{}}
	for k, v := range rl.pages {
		r.Pages[k] = v
	}
	for k, v := range rl.members {
		r.GroupMemberCounts[k] = v
	}
	for k, v := range rl.apps {
		r.GroupAppCounts[k] = v
	}
	return r
}

// pagePath is a next-page link as path and query, without scheme and host,
// so the record names the cursor but not the org's address twice.
func pagePath(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Path == "" {
		return link
	}
	return u.RequestURI()
}

// requestPath is the path and query of the request a response answers, or
// fallback when the response has none.
func requestPath(resp *sdk.Response, fallback string) string {
	if resp != nil && resp.Response != nil && resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL.RequestURI()
	}
	return fallback
}

// groupStats are a group's _embedded.stats counts; -1 when absent.
type groupStats struct{ users, apps int }

// statsOf reads _embedded.stats.usersCount and appsCount from a group
// listed with expand=stats: Okta's own counts of the group.
func statsOf(embedded any) (groupStats, bool) {
	out := groupStats{users: -1, apps: -1}
	m, ok := embedded.(map[string]any)
	if !ok {
		return out, false
	}
	stats, ok := m["stats"].(map[string]any)
	if !ok {
		return out, false
	}
	if n, ok := stats["usersCount"].(float64); ok && n >= 0 {
		out.users = int(n)
	}
	if n, ok := stats["appsCount"].(float64); ok && n >= 0 {
		out.apps = int(n)
	}
	return out, out.users >= 0 || out.apps >= 0
}
