package oktatest

import (
	"net/http"
	"slices"
)

// addGroupMember serves PUT /api/v1/groups/{id}/users/{userId}: 204, also
// when the user already is a member; Okta refuses changes to built-in and
// directory-mastered groups.
func (s *Server) addGroupMember(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	gid, uid := params["id"], params["userId"]
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
		if !slices.Contains(o.Members[gid], uid) {
			return o.AddGroupMember(gid, uid)
		}
		return nil
	}, func(*index) *index { return nil }) // rare: rebuild
	s.writeDeleteResult(w, err)
}
