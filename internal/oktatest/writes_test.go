package oktatest

import (
	"net/http"
	"slices"
	"testing"
)

// groupGrant finds an OKTA_GROUP assigned to an app and one of its members.
func groupGrant(t *testing.T, o *Org) (app, group, user string) {
	t.Helper()
	for _, a := range o.Apps {
		for _, ga := range o.AppGroups[a.ID] {
			if g := o.Group(ga.GroupID); g != nil && g.Type == GroupOkta && len(o.Members[ga.GroupID]) > 0 {
				return a.ID, ga.GroupID, o.Members[ga.GroupID][0]
			}
		}
	}
	t.Fatal("no group-granted app in the org")
	return "", "", ""
}

// Okta refuses to unassign an app while a group membership grants it,
// whether or not the user also holds it directly: 403 E0000046 with the
// cause. Once the membership is gone, the direct assignment goes.
func TestUnassignGroupGrantedApp(t *testing.T) {
	srv, org := serve(t, small(2))
	app, group, user := groupGrant(t, org)
	for _, g := range org.GroupsOf(user) {
		if g != group {
			_ = srv.RemoveGroupMember(g, user) // only one group grants the app now
		}
	}
	if err := srv.AddAssignment(app, user); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/apps/" + app + "/users/" + user
	resp, body := call(t, srv, http.MethodDelete, path, "")
	e := decodeError(t, body)
	if resp.StatusCode != http.StatusForbidden || e.ErrorCode != CodeGroupGranted || len(e.ErrorCauses) != 1 {
		t.Fatalf("unassign with a group grant: %d %s", resp.StatusCode, body)
	}
	if !slices.Contains(srv.Org().AppDirect[app], user) {
		t.Fatal("a refused unassignment changed the org")
	}
	if resp, body := call(t, srv, http.MethodDelete, "/api/v1/groups/"+group+"/users/"+user, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("remove membership: %d %s", resp.StatusCode, body)
	}
	if resp, body := call(t, srv, http.MethodDelete, path, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("unassign after the membership went: %d %s", resp.StatusCode, body)
	}
	resp, body = call(t, srv, http.MethodDelete, path, "")
	if e := decodeError(t, body); resp.StatusCode != http.StatusNotFound || e.ErrorCode != CodeNotFound {
		t.Fatalf("unassign of nothing: %d %s", resp.StatusCode, body)
	}
}

// A scoped admin's writes on a user outside its scope answer 404, while
// reads still show the user and their access.
func TestRestrictWrites(t *testing.T) {
	srv, org := serve(t, small(2))
	app, group, user := groupGrant(t, org)
	srv.RestrictWrites(user)
	for _, tc := range []struct{ name, method, path string }{
		{"remove membership", http.MethodDelete, "/api/v1/groups/" + group + "/users/" + user},
		{"add membership", http.MethodPut, "/api/v1/groups/" + group + "/users/" + user},
		{"unassign", http.MethodDelete, "/api/v1/apps/" + app + "/users/" + user},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, srv, tc.method, tc.path, "")
			if e := decodeError(t, body); resp.StatusCode != http.StatusNotFound || e.ErrorCode != CodeNotFound {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
	if resp, body := get(t, srv, "/api/v1/users/"+user+"/groups"); resp.StatusCode != http.StatusOK {
		t.Fatalf("read of a restricted user: %d %s", resp.StatusCode, body)
	}
	if !slices.Contains(srv.Org().Members[group], user) {
		t.Fatal("a refused write changed the org")
	}
	srv.RestrictWrites()
	if resp, body := call(t, srv, http.MethodDelete, "/api/v1/groups/"+group+"/users/"+user, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("after lifting the restriction: %d %s", resp.StatusCode, body)
	}
}
