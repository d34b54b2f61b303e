package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/internal/slacktest"
)

// TestServeOnGrid: with slack.enterprise_id (here from
// ATTEST_SLACK_ENTERPRISE_ID) serve runs as an org-wide Enterprise Grid
// install: its user map reads users.list in each workspace of the org
// with its team_id, never without one (the org token would be refused).
func TestServeOnGrid(t *testing.T) {
	noLeaks(t)
	r := newRig(t)
	r.slack = slacktest.New(slacktest.WithGrid())
	t.Cleanup(r.slack.Close)
	r.slack.AddChannel(approvals, "iam-approvals")
	for i, u := range r.org.Users {
		teams := [][]string{{slacktest.TeamID}, {slacktest.SecondTeamID}, {slacktest.TeamID, slacktest.SecondTeamID}}[i%3]
		r.slack.AddUser(slacktest.User{ID: fmt.Sprintf("U%05d", i), Name: strings.Split(u.Login, "@")[0], Email: u.Email, Teams: teams})
	}
	r.env["SLACK_API_URL"] = r.slack.APIURL()
	r.env["ATTEST_SLACK_ENTERPRISE_ID"] = slacktest.EnterpriseID
	a, err := app.New(context.Background(), r.config(""), r.log())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
		if err := a.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	}()
	teams := func() []string {
		var out []string
		for _, c := range r.slack.Calls("users.list") {
			out = append(out, c.Form.Get("team_id"))
		}
		return out
	}
	eventually(t, "users.list read in both workspaces", func() bool {
		got := teams()
		return slices.Contains(got, slacktest.TeamID) && slices.Contains(got, slacktest.SecondTeamID)
	})
	for _, c := range r.slack.Calls("users.list") {
		if c.Error != "" {
			t.Errorf("users.list team_id %q answered %s", c.Form.Get("team_id"), c.Error)
		}
	}
}
