package main

import (
	"strings"
	"testing"
)

// TestCampaignCommandsSayWhatIsDelivered: without Slack a command that
// notifies says plainly that nothing reaches people; with Slack it says
// the messages wait in the outbox for serve.
func TestCampaignCommandsSayWhatIsDelivered(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	c.ok("sync")
	owner := srv.Org().Users[1].Email
	def := c.write("q.yaml", "name: Delivery\nowner: "+owner+"\n")
	code, _, errs := c.run("campaign", "start", def, "--as", owner)
	if code != 0 || !strings.Contains(errs, "nothing will be delivered") {
		t.Errorf("start without Slack: exit %d, stderr %q; want a plain warning", code, errs)
	}
	c.env["SLACK_APP_TOKEN"], c.env["SLACK_BOT_TOKEN"] = "xapp-1-test", "xoxb-test"
	code, _, errs = c.run("campaign", "start", def, "--as", owner)
	if code != 0 || !strings.Contains(errs, "`attest serve` delivers them") {
		t.Errorf("start with Slack: exit %d, stderr %q; want the outbox note", code, errs)
	}
	if code, _, errs := c.run("campaign", "list"); code != 0 || strings.Contains(errs, "delivered") {
		t.Errorf("list: exit %d, stderr %q; a read-only command should not talk about delivery", code, errs)
	}
}

// TestErrorsReadAsOneSentence: a campaign that does not exist is one clean
// sentence, not "not found: store: …: not found".
func TestErrorsReadAsOneSentence(t *testing.T) {
	c, _ := withOkta(t, smallOrg("managerId"))
	c.ok("sync")
	code, _, errs := c.run("campaign", "show", "999")
	line := strings.TrimSpace(errs)
	if code != 1 || strings.Count(line, "not found") != 1 || strings.Contains(line, "store:") || strings.Contains(line, "\n") {
		t.Errorf("campaign show 999: exit %d, stderr %q; want one sentence saying it is not found", code, errs)
	}
}
