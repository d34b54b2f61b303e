package oktatest

import (
	"net/http"
	"slices"
	"strings"
)

// groupGetter exposes a group's attributes to filter expressions.
func groupGetter(g *Group) getter {
	return func(attr string) ([]string, bool) {
		switch attr {
		case "id":
			return one(g.ID)
		case "type":
			return one(g.Type)
		case "profile.name":
			return one(g.Name)
		case "profile.description":
			return one(g.Description)
		case "created":
			return one(formatTime(g.Created))
		case "lastUpdated":
			return one(formatTime(g.LastUpdated))
		case "lastMembershipUpdated":
			return one(formatTime(g.LastMembershipUpdated))
		}
		return nil, false
	}
}

// listGroups serves GET /api/v1/groups with filter (type, id, profile
// and timestamps), search (the same grammar) and q (a name prefix).
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	x := s.view()
	p, aerr := s.parsePage(r, ListGroups)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	q := r.URL.Query()
	var preds []predicate
	for _, param := range []string{"filter", "search"} {
		if v := q.Get(param); v != "" {
			pred, err := parseFilter(v, groupGetter(&Group{}))
			if err != nil {
				s.writeError(w, *badSearch())
				return
			}
			preds = append(preds, pred)
		}
	}
	prefix := strings.ToLower(q.Get("q"))
	match := func(i int) bool {
		g := &x.groups[i]
		if prefix != "" && !strings.HasPrefix(strings.ToLower(g.Name), prefix) {
			return false
		}
		for _, pred := range preds {
			if !pred(groupGetter(g)) {
				return false
			}
		}
		return true
	}
	idx, more := window(len(x.groups), func(i int) string { return x.groups[i].ID }, match, p)
	render := func(b []byte, i int) []byte { return x.appendGroup(b, &x.groups[i]) }
	if expandStats(q.Get("expand")) {
		apps := x.groupAppCounts()
		render = func(b []byte, i int) []byte { return x.appendGroupWithStats(b, i, apps) }
	}
	body := listBody(idx, 800, render)
	next := ""
	if more {
		next = encodeCursor(x.groups[idx[len(idx)-1]].ID)
	}
	s.writePage(w, r, body, next)
}

// getGroup serves GET /api/v1/groups/{id}.
func (s *Server) getGroup(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	x := s.view()
	gi, ok := x.groupAt[params["id"]]
	if !ok {
		s.writeError(w, *notFound(params["id"], "UserGroup"))
		return
	}
	writeJSON(w, x.appendGroup(nil, &x.groups[gi]))
}

// listGroupMembers serves GET /api/v1/groups/{id}/users: every member,
// whatever their status.
func (s *Server) listGroupMembers(w http.ResponseWriter, r *http.Request, params map[string]string) {
	x := s.view()
	gi, ok := x.groupAt[params["id"]]
	if !ok {
		s.writeError(w, *notFound(params["id"], "UserGroup"))
		return
	}
	p, aerr := s.parsePage(r, ListGroupMembers)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	ms := x.members[gi]
	idx, more := window(len(ms), func(k int) string { return x.users[ms[k]].ID }, nil, p)
	body := listBody(idx, 1024, func(b []byte, k int) []byte { return append(b, x.userJSON(ms[k])...) })
	next := ""
	if more {
		next = encodeCursor(x.users[ms[idx[len(idx)-1]]].ID)
	}
	s.writePage(w, r, body, next)
}

// listRules serves GET /api/v1/groups/rules; search is a name prefix.
func (s *Server) listRules(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	x := s.view()
	p, aerr := s.parsePage(r, ListGroupRules)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	prefix := strings.ToLower(r.URL.Query().Get("search"))
	match := func(i int) bool { return strings.HasPrefix(strings.ToLower(x.rules[i].Name), prefix) }
	idx, more := window(len(x.rules), func(i int) string { return x.rules[i].ID }, match, p)
	body := listBody(idx, 400, func(b []byte, i int) []byte { return x.appendRule(b, &x.rules[i]) })
	next := ""
	if more {
		next = encodeCursor(x.rules[idx[len(idx)-1]].ID)
	}
	s.writePage(w, r, body, next)
}

// getRule serves GET /api/v1/groups/rules/{id}.
func (s *Server) getRule(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	x := s.view()
	for i := range x.rules {
		if x.rules[i].ID == params["id"] {
			writeJSON(w, x.appendRule(nil, &x.rules[i]))
			return
		}
	}
	s.writeError(w, *notFound(params["id"], "GroupRule"))
}

// listGroupApps serves GET /api/v1/groups/{id}/apps: the apps assigned to
// a group, paged like the app list.
func (s *Server) listGroupApps(w http.ResponseWriter, r *http.Request, params map[string]string) {
	x := s.view()
	gid := params["id"]
	if _, ok := x.groupAt[gid]; !ok {
		s.writeError(w, *notFound(gid, "UserGroup"))
		return
	}
	p, aerr := s.parsePage(r, ListApps)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	match := func(a int) bool {
		return slices.ContainsFunc(x.appGroups[a], func(ga GroupAssignment) bool { return ga.GroupID == gid })
	}
	idx, more := window(len(x.apps), func(a int) string { return x.apps[a].ID }, match, p)
	body := listBody(idx, 1200, func(b []byte, a int) []byte { return x.appendApp(b, &x.apps[a]) })
	next := ""
	if more {
		next = encodeCursor(x.apps[idx[len(idx)-1]].ID)
	}
	s.writePage(w, r, body, next)
}
