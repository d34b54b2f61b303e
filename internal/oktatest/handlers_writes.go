package oktatest

import (
	"errors"
	"net/http"
	"slices"
)

// The write endpoints the remediation executor calls. Like Okta, a
// removal answers 204 with no body; a membership Okta cannot change by hand
// (the built-in Everyone group, a group mastered in AD) answers 403
// E0000006; unassigning an app while a group membership grants it to the
// user answers 403 E0000046, whether or not the user also holds a direct
// assignment; a write on a user outside the admin's scope (RestrictWrites)
// answers 404 E0000007.

// removeGroupMember serves DELETE /api/v1/groups/{id}/users/{userId}.
func (s *Server) removeGroupMember(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	gid, uid := params["id"], params["userId"]
	x := s.view()
	g, okG := x.groupAt[gid]
	p, okU := x.userAt[uid]
	err := s.mutate(func(o *Org) error {
		g := o.Group(gid)
		if g == nil {
			return errNotFound(gid, "UserGroup")
		}
		if o.User(uid) == nil {
			return errNotFound(uid, "User")
		}
		if e := s.outOfScope(uid); e != nil {
			return e
		}
		if g.Type == "BUILT_IN" || g.Type == "APP_GROUP" {
			return &apiError{status: http.StatusForbidden, code: CodeForbidden, summary: "You do not have permission to perform the requested action"}
		}
		// Okta answers 204 whether or not the user was a member.
		_ = o.RemoveGroupMember(gid, uid)
		return nil
	}, func(x *index) *index {
		if !okG || !okU {
			return nil
		}
		return x.withoutMember(g, p)
	})
	s.writeDeleteResult(w, err)
}

// unassignAppUser serves DELETE /api/v1/apps/{id}/users/{userId}.
func (s *Server) unassignAppUser(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	aid, uid := params["id"], params["userId"]
	x := s.view()
	a, okA := x.appAt[aid]
	p, okU := x.userAt[uid]
	err := s.mutate(func(o *Org) error {
		if o.App(aid) == nil {
			return errNotFound(aid, "AppInstance")
		}
		if e := s.outOfScope(uid); e != nil {
			return e
		}
		for _, ga := range o.AppGroups[aid] {
			if slices.Contains(o.Members[ga.GroupID], uid) {
				return groupGranted()
			}
		}
		if slices.Contains(o.AppDirect[aid], uid) {
			return o.RemoveAssignment(aid, uid)
		}
		return errNotFound(uid, "AppUser")
	}, func(x *index) *index {
		if !okA || !okU {
			return nil
		}
		return x.withoutDirect(a, p)
	})
	s.writeDeleteResult(w, err)
}

// mutate changes the org and patches the index to match; a patch that
// returns nil drops the index to be rebuilt. A failed fn changed nothing.
func (s *Server) mutate(fn func(o *Org) error, patch func(x *index) *index) error {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	err := fn(s.org)
	if s.idx != nil && err == nil {
		s.idx = patch(s.idx) // nil: rebuilt on the next request
	}
	return err
}

func errNotFound(id, kind string) error { return notFound(id, kind) }

// groupGranted is Okta's answer to unassigning an app that a group
// membership grants the user.
func groupGranted() *apiError {
	return &apiError{status: http.StatusForbidden, code: CodeGroupGranted, summary: "Deactivate application for user forbidden.",
		causes: []string{"The application cannot be unassigned from the user while their group memberships grant them access"}}
}

// Error makes apiError usable as an error inside Update.
func (e *apiError) Error() string { return e.code + ": " + e.summary }

func (s *Server) writeDeleteResult(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.As(err, &ae):
		s.writeError(w, *ae)
	default:
		s.writeError(w, errorFor(http.StatusInternalServerError))
	}
}

// Deletes counts the DELETE requests that changed something (answered
// 204); tests prove exactly-once removal with it.
func (s *Server) Deletes() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == http.MethodDelete && r.Status == http.StatusNoContent {
			n++
		}
	}
	return n
}
