package oktatest

import (
	"strconv"
	"strings"
)

// expandStats reports whether a groups list's expand parameter asks for
// stats (Okta accepts expand=stats and expand=app, comma-separated).
func expandStats(expand string) bool {
	for _, e := range strings.Split(expand, ",") {
		if strings.TrimSpace(e) == "stats" {
			return true
		}
	}
	return false
}

// groupAppCounts counts, per group position, the apps the group is
// assigned to.
func (x *index) groupAppCounts() []int {
	out := make([]int, len(x.groups))
	for _, gas := range x.appGroups {
		for _, ga := range gas {
			if gi, ok := x.groupAt[ga.GroupID]; ok {
				out[gi]++
			}
		}
	}
	return out
}

// appendGroupWithStats appends a group as GET /api/v1/groups?expand=stats
// lists it: the group with "_embedded":{"stats":{...}}, whose usersCount
// is the group's member count (or Group.StatsUsersCount, a lagging
// count) and appsCount the apps it is assigned to.
func (x *index) appendGroupWithStats(b []byte, gi int, apps []int) []byte {
	g := &x.groups[gi]
	b = x.appendGroup(b, g)
	b = b[:len(b)-1] // reopen the group object
	users := len(x.members[gi])
	if g.StatsUsersCount != nil {
		users = *g.StatsUsersCount
	}
	b = append(b, `,"_embedded":{"stats":{"usersCount":`...)
	b = strconv.AppendInt(b, int64(users), 10)
	b = append(b, `,"appsCount":`...)
	b = strconv.AppendInt(b, int64(apps[gi]), 10)
	b = append(b, `,"groupPushMappingsCount":0,"hasAdminPrivilege":false,"_links":{"self":`...)
	b = appendHref(b, x.base, "/api/v1/groups/", g.ID, "/stats")
	return append(b, "}}}}"...)
}
