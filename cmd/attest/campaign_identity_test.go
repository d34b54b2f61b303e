package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// --as must name an active Okta user of the directory (the CLI accepted
// anyone), and a CLI action's audit entry records the operating-system
// user and host beside --as.
func TestCLIActorIsResolvedAndRecorded(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	c.ok("sync")
	org := srv.Org()
	owner := org.Users[1].Email
	def := c.write("q.yaml", "name: CLI identity\nowner: "+owner+"\nstages: {self_attestation: {enabled: false}}\n")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"start as a stranger", []string{"campaign", "start", def, "--as", "nobody@nowhere.invalid"}},
		{"start as nobody: the definition's owner is checked too", []string{"campaign", "start",
			c.write("stranger.yaml", "name: X\nowner: ghost@nowhere.invalid\n")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := c.run(tc.args...)
			if code != 1 || !strings.Contains(errs, "not a user in the directory") {
				t.Fatalf("exit %d %q", code, errs)
			}
		})
	}
	var started campaignView
	c.json(&started, "campaign", "start", def, "--as", owner)
	id := strconv.FormatInt(started.ID, 10)
	for _, verb := range []string{"close", "cancel", "approve", "retry"} {
		code, _, errs := c.run("campaign", verb, id, "--as", "nobody@nowhere.invalid")
		if code != 1 || !strings.Contains(errs, "not a user in the directory") {
			t.Fatalf("%s as a stranger: exit %d %q", verb, code, errs)
		}
	}
	c.ok("campaign", "close", id, "--as", strings.ToUpper(owner))
	st, err := store.Open(context.Background(), c.env["ATTEST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.Events(context.Background(), started.ID)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	var seen []string
	for _, ev := range events {
		if ev.Type != "campaign.closed" && ev.Type != "campaign.launched" {
			continue
		}
		seen = append(seen, ev.Type)
		if ev.Actor.UserID != org.Users[1].ID || ev.Detail["host"] != host || ev.Detail["os_user"] == nil || ev.Detail["as"] == nil {
			t.Errorf("%s by %+v, detail %v", ev.Type, ev.Actor, ev.Detail)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("events seen: %v", seen)
	}
	if got, _ := st.GetCampaign(context.Background(), started.ID); got.OwnerID != org.Users[1].ID || got.State == campaign.StateStage2 {
		t.Fatalf("campaign %+v", got)
	}
}
