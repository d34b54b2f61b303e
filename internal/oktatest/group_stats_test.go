package oktatest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// GET /api/v1/groups?expand=stats embeds each group's stats as Okta does:
// usersCount is its member count (or the lagging count a test set),
// appsCount the apps it is assigned to; without expand there is no
// _embedded.
func TestGroupsExpandStats(t *testing.T) {
	srv, org := serve(t, Params{Seed: 3, Users: 80, Apps: 10, Groups: 12})
	apps := map[string]int{}
	for _, a := range org.Apps {
		for _, ga := range org.AppGroups[a.ID] {
			apps[ga.GroupID]++
		}
	}
	type group struct {
		ID       string `json:"id"`
		Embedded *struct {
			Stats struct {
				UsersCount int `json:"usersCount"`
				AppsCount  int `json:"appsCount"`
			} `json:"stats"`
		} `json:"_embedded"`
	}
	list := func(target string) []group {
		t.Helper()
		resp, body := get(t, srv, target)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", target, resp.StatusCode, body)
		}
		var gs []group
		if err := json.Unmarshal(body, &gs); err != nil {
			t.Fatal(err)
		}
		return gs
	}
	for _, g := range list("/api/v1/groups?limit=200") {
		if g.Embedded != nil {
			t.Fatalf("group %s has _embedded without expand", g.ID)
		}
	}
	withApps := 0
	for _, g := range list("/api/v1/groups?limit=200&expand=stats") {
		if g.Embedded == nil {
			t.Fatalf("group %s has no _embedded.stats", g.ID)
		}
		if got, want := g.Embedded.Stats.UsersCount, len(org.Members[g.ID]); got != want {
			t.Errorf("group %s usersCount %d, want %d", g.ID, got, want)
		}
		if got, want := g.Embedded.Stats.AppsCount, apps[g.ID]; got != want {
			t.Errorf("group %s appsCount %d, want %d", g.ID, got, want)
		}
		if apps[g.ID] > 0 {
			withApps++
		}
	}
	if withApps == 0 {
		t.Fatal("no group is assigned to an app: the test proves nothing about appsCount")
	}
	lag := 999
	if err := srv.Update(func(o *Org) error { o.Groups[0].StatsUsersCount = &lag; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, g := range list("/api/v1/groups?limit=200&expand=stats") {
		if g.ID == org.Groups[0].ID && g.Embedded.Stats.UsersCount != lag {
			t.Fatalf("lagging count not served: %d", g.Embedded.Stats.UsersCount)
		}
	}
}
