package oktatest

import (
	"net/http"
	"strings"
)

// userGetter exposes a user's attributes to filter and search
// expressions.
func (x *index) userGetter(u *User) getter {
	return func(attr string) ([]string, bool) {
		switch attr {
		case "id":
			return one(u.ID)
		case "status":
			return one(u.Status)
		case "created":
			return one(formatTime(u.Created))
		case "activated":
			return one(formatTime(u.Activated))
		case "statusChanged":
			return one(formatTime(u.StatusChanged))
		case "lastLogin":
			return one(formatTime(u.LastLogin))
		case "lastUpdated":
			return one(formatTime(u.LastUpdated))
		case "passwordChanged":
			return one(formatTime(u.PasswordChanged))
		case "type.id":
			return one(x.typ)
		case "profile.login":
			return one(u.Login)
		case "profile.email":
			return one(u.Email)
		case "profile.firstName":
			return one(u.FirstName)
		case "profile.lastName":
			return one(u.LastName)
		case "profile.department":
			return one(u.Department)
		case "profile.title":
			return one(u.Title)
		case "profile.employeeNumber":
			return one(u.EmployeeNumber)
		case "profile." + x.attr:
			return one(u.ManagerRef)
		}
		return nil, false
	}
}

// userMatcher builds the selection of GET /api/v1/users: filter and
// search expressions select among all users, DEPROVISIONED included; q is
// a prefix of a name, login or email; with neither, DEPROVISIONED users are
// left out, as Okta does.
func (x *index) userMatcher(r *http.Request) (func(i int) bool, *apiError) {
	q := r.URL.Query()
	var preds []predicate
	for _, param := range []string{"filter", "search"} {
		if v := q.Get(param); v != "" {
			p, err := parseFilter(v, x.userGetter(&User{}))
			if err != nil {
				return nil, badSearch()
			}
			preds = append(preds, p)
		}
	}
	prefix := strings.ToLower(q.Get("q"))
	return func(i int) bool {
		u := &x.users[i]
		if len(preds) == 0 && u.Status == StatusDeprovisioned {
			return false
		}
		if prefix != "" && !hasAnyPrefix(prefix, u.FirstName, u.LastName, u.Login, u.Email) {
			return false
		}
		for _, p := range preds {
			if !p(x.userGetter(u)) {
				return false
			}
		}
		return true
	}, nil
}

func hasAnyPrefix(prefix string, vals ...string) bool {
	for _, v := range vals {
		if strings.HasPrefix(strings.ToLower(v), prefix) {
			return true
		}
	}
	return false
}

// listUsers serves GET /api/v1/users.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	x := s.view()
	p, aerr := s.parsePage(r, ListUsers)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	match, aerr := x.userMatcher(r)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	idx, more := window(len(x.users), func(i int) string { return x.users[i].ID }, match, p)
	body := listBody(idx, 1024, func(b []byte, i int) []byte { return append(b, x.userJSON(i)...) })
	next := ""
	if more {
		next = encodeCursor(x.users[idx[len(idx)-1]].ID)
	}
	s.writePage(w, r, body, next)
}

// getUser serves GET /api/v1/users/{id}; the id may also be a login.
func (s *Server) getUser(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	x := s.view()
	p, ok := x.findUser(params["id"])
	if !ok {
		s.writeError(w, *notFound(params["id"], "User"))
		return
	}
	writeJSON(w, x.userJSON(p))
}

// listUserGroups serves GET /api/v1/users/{id}/groups: every group of the
// user, in one page as Okta does.
func (s *Server) listUserGroups(w http.ResponseWriter, r *http.Request, params map[string]string) {
	x := s.view()
	p, ok := x.findUser(params["id"])
	if !ok {
		s.writeError(w, *notFound(params["id"], "User"))
		return
	}
	var idx []int
	for gi, ms := range x.members {
		if containsSorted(ms, p) {
			idx = append(idx, gi)
		}
	}
	s.writePage(w, r, listBody(idx, 600, func(b []byte, i int) []byte { return x.appendGroup(b, &x.groups[i]) }), "")
}

// containsSorted reports whether the ascending slice s holds v.
func containsSorted(s []int, v int) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case s[m] == v:
			return true
		case s[m] < v:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}
