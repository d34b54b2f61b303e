package oktatest

import (
	"net/http"
	"sort"
	"strings"
)

// appGetter exposes app a's attributes to filter expressions; group.id
// holds the ids of the groups assigned to it. a < 0 stands for no app, to
// check the attributes an expression names.
func (x *index) appGetter(a int) getter {
	var app App
	if a >= 0 {
		app = x.apps[a]
	}
	return func(attr string) ([]string, bool) {
		switch attr {
		case "id":
			return one(app.ID)
		case "status":
			return one(app.Status)
		case "name":
			return one(app.Name)
		case "label":
			return one(app.Label)
		case "signOnMode":
			return one(app.SignOnMode)
		case "group.id":
			var ids []string
			if a >= 0 {
				for _, ga := range x.appGroups[a] {
					ids = append(ids, ga.GroupID)
				}
			}
			return ids, true
		}
		return nil, false
	}
}

// listApps serves GET /api/v1/apps: ACTIVE and INACTIVE apps, with filter
// (status, name, id, label, signOnMode, group.id) and q (a label or name
// prefix).
func (s *Server) listApps(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	x := s.view()
	p, aerr := s.parsePage(r, ListApps)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	q := r.URL.Query()
	pred, err := parseFilter(q.Get("filter"), x.appGetter(-1))
	if err != nil {
		s.writeError(w, *badSearch())
		return
	}
	prefix := strings.ToLower(q.Get("q"))
	match := func(i int) bool {
		a := &x.apps[i]
		if prefix != "" && !hasAnyPrefix(prefix, a.Label, a.Name) {
			return false
		}
		return pred(x.appGetter(i))
	}
	idx, more := window(len(x.apps), func(i int) string { return x.apps[i].ID }, match, p)
	body := listBody(idx, 1200, func(b []byte, i int) []byte { return x.appendApp(b, &x.apps[i]) })
	next := ""
	if more {
		next = encodeCursor(x.apps[idx[len(idx)-1]].ID)
	}
	s.writePage(w, r, body, next)
}

// app resolves the {id} of an app path, answering 404 itself when unknown.
func (s *Server) app(w http.ResponseWriter, x *index, id string) (int, bool) {
	a, ok := x.appAt[id]
	if !ok {
		s.writeError(w, *notFound(id, "AppInstance"))
	}
	return a, ok
}

// getApp serves GET /api/v1/apps/{id}.
func (s *Server) getApp(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	x := s.view()
	if a, ok := s.app(w, x, params["id"]); ok {
		writeJSON(w, x.appendApp(nil, &x.apps[a]))
	}
}

// listAppUsers serves GET /api/v1/apps/{id}/users: one entry per user,
// scope USER when assigned directly, GROUP when only through groups.
func (s *Server) listAppUsers(w http.ResponseWriter, r *http.Request, params map[string]string) {
	x := s.view()
	a, ok := s.app(w, x, params["id"])
	if !ok {
		return
	}
	p, aerr := s.parsePage(r, ListAppUsers)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	aus := x.effective(a)
	idx, more := window(len(aus), func(k int) string { return x.users[aus[k].user].ID }, nil, p)
	body := listBody(idx, 600, func(b []byte, k int) []byte { return x.appendAppUser(b, a, aus[k]) })
	next := ""
	if more {
		next = encodeCursor(x.users[aus[idx[len(idx)-1]].user].ID)
	}
	s.writePage(w, r, body, next)
}

// getAppUser serves GET /api/v1/apps/{id}/users/{userId}.
func (s *Server) getAppUser(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	x := s.view()
	a, ok := s.app(w, x, params["id"])
	if !ok {
		return
	}
	aus := x.effective(a)
	if u, ok := x.userAt[params["userId"]]; ok {
		k := sort.Search(len(aus), func(k int) bool { return aus[k].user >= u })
		if k < len(aus) && aus[k].user == u {
			writeJSON(w, x.appendAppUser(nil, a, aus[k]))
			return
		}
	}
	s.writeError(w, *notFound(params["userId"], "AppUser"))
}

// listAppGroups serves GET /api/v1/apps/{id}/groups.
func (s *Server) listAppGroups(w http.ResponseWriter, r *http.Request, params map[string]string) {
	x := s.view()
	a, ok := s.app(w, x, params["id"])
	if !ok {
		return
	}
	p, aerr := s.parsePage(r, ListAppGroups)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	gas := x.appGroups[a]
	idx, more := window(len(gas), func(k int) string { return gas[k].GroupID }, nil, p)
	body := listBody(idx, 300, func(b []byte, k int) []byte { return x.appendAppGroup(b, &x.apps[a], &gas[k]) })
	next := ""
	if more {
		next = encodeCursor(gas[idx[len(idx)-1]].GroupID)
	}
	s.writePage(w, r, body, next)
}
