package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackdrive"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
)

// A redelivered slash command (new envelope id, same payload) launches
// once; so does a double-delivered modal submission.
func TestRedeliveryChangesNothingTwice(t *testing.T) {
	r := newRig(t)
	id := r.slack.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "start quarterly",
		UserID: r.admin.ID, UserName: r.admin.Name, ChannelID: approvals})
	if _, ok := r.slack.WaitAck(id, patience); !ok {
		t.Fatal("no ack")
	}
	again := r.slack.Redeliver(id)
	if again == id {
		t.Fatal("redelivery must carry a new envelope id")
	}
	if _, ok := r.slack.WaitAck(again, patience); !ok {
		t.Fatal("redelivery not acked")
	}
	list, err := r.st.ListCampaigns(r.ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("campaigns after a redelivered start = %d, %v; want 1", len(list), err)
	}
}

// `start` alone opens the launch modal; submitting it launches the chosen
// definition and DMs the launcher.
func TestLaunchModal(t *testing.T) {
	r := newRig(t)
	if got := r.slash(r.admin, "start"); got != "" {
		t.Fatalf("start should answer with the modal, not text: %q", got)
	}
	views := r.slack.Views()
	if len(views) != 1 || views[0].Kind != "modal" || !strings.Contains(string(views[0].JSON), "Quarterly") {
		t.Fatalf("views = %+v", views)
	}
	// Picking a definition updates the modal with a preview of the counts.
	viewJSON, _ := r.slack.ViewJSON(views[0].ViewID)
	var view map[string]any
	_ = json.Unmarshal(viewJSON, &view)
	pick := map[string]any{"type": "block_actions", "trigger_id": "1.2.preview",
		"user":      map[string]any{"id": r.admin.ID, "username": r.admin.Name, "team_id": "T0FAKE"},
		"team":      map[string]any{"id": "T0FAKE"},
		"container": map[string]any{"type": "view", "view_id": views[0].ViewID},
		"view":      view,
		"actions": []map[string]any{{"action_id": "definition", "block_id": "definition", "type": "static_select",
			"selected_option": map[string]any{"text": map[string]any{"type": "plain_text", "text": "Quarterly"}, "value": "Quarterly"},
			"action_ts":       "1700000000.000200"}}}
	if _, ok := r.slack.WaitAck(r.slack.SendInteraction(pick), patience); !ok {
		t.Fatal("pick not acked")
	}
	r.eventually("preview shown", func() bool {
		v, _ := r.slack.ViewJSON(views[0].ViewID)
		return strings.Contains(string(v), "Preview:")
	})
	payload, err := r.slack.ViewSubmission(r.admin, views[0].ViewID, map[string]map[string]slacktest.StateValue{
		"definition": {"definition": {Type: "static_select", SelectedOption: &slacktest.SelectOption{Text: "Quarterly", Value: "Quarterly"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.slack.WaitAck(r.slack.SendInteraction(payload), patience); !ok {
		t.Fatal("submission not acked")
	}
	r.eventually("campaign launched", func() bool {
		list, _ := r.st.ListCampaigns(r.ctx)
		return len(list) == 1 && list[0].State == campaign.StateStage1 && list[0].Trigger == "slack"
	})
	r.eventually("launcher told", func() bool {
		for _, m := range r.dm(r.org.Users[1].ID) {
			if strings.Contains(m.Text, "Launched campaign") {
				return true
			}
		}
		return false
	})
	// A submission by someone who is not an admin is refused in the modal.
	payload, _ = r.slack.ViewSubmission(r.approver, views[0].ViewID, map[string]map[string]slacktest.StateValue{
		"definition": {"definition": {Type: "static_select", SelectedOption: &slacktest.SelectOption{Text: "Quarterly", Value: "Quarterly"}}},
	})
	ack, ok := r.slack.WaitAck(r.slack.SendInteraction(payload), patience)
	if !ok || !strings.Contains(string(ack.Payload), "errors") {
		t.Fatalf("non-admin submission ack = %s", ack.Payload)
	}
}

// App Home: a member with open cases sees them; an admin also sees the
// campaigns with their progress.
func TestAppHome(t *testing.T) {
	r := newRig(t)
	r.slash(r.admin, "start quarterly")
	cases, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	member := r.slackOf[cases[0].UserID]
	for _, u := range []slacktest.User{member, r.admin} {
		id := r.slack.SendEvent(map[string]any{"type": "app_home_opened", "user": u.ID, "channel": "D0", "tab": "home",
			"event_ts": "1700000000.000100"})
		if _, ok := r.slack.WaitAck(id, patience); !ok {
			t.Fatal("event not acked")
		}
	}
	r.eventually("both homes published", func() bool { return homes(r, member.ID) > 0 && homes(r, r.admin.ID) > 0 })
	for _, v := range r.slack.Views() {
		body := string(v.JSON)
		switch v.UserID {
		case member.ID:
			if !strings.Contains(body, "open_review") || !strings.Contains(body, "Quarterly") {
				t.Errorf("member home lacks the pending review: %s", body)
			}
		case r.admin.ID:
			if !strings.Contains(body, "campaign_close") {
				t.Errorf("admin home lacks the campaign controls: %s", body)
			}
		}
	}
}

func homes(r *rig, user string) int {
	n := 0
	for _, v := range r.slack.Views() {
		if v.Kind == "home" && v.UserID == user {
			n++
		}
	}
	return n
}

// A click on a form after its stage closed answers with a note and marks
// the form closed.
func TestClosedFormAnswersClearly(t *testing.T) {
	r := newRig(t)
	r.slash(r.admin, "start quarterly")
	cases, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	m := cases[0].UserID
	r.eventually("form delivered", func() bool { return len(r.dm(m)) > 0 })
	form := r.dm(m)[0]
	if got := r.slash(r.admin, "close 1"); !strings.Contains(got, "Campaign 1 is") {
		t.Fatalf("close: %q", got)
	}
	ids := slackdrive.CaseBlocks(form)
	r.click(r.slackOf[m], form, "member_submit", map[string]string{ids[0]: "keep"})
	r.eventually("closed note", func() bool { return len(r.ephemeralTo(r.slackOf[m].ID)) > 0 })
	r.eventually("form marked closed", func() bool {
		for _, msg := range r.dm(m) {
			if msg.TS == form.TS && msg.Edited > 0 {
				var blocks []map[string]any
				_ = json.Unmarshal(msg.Blocks, &blocks)
				return !strings.Contains(string(msg.Blocks), "member_submit")
			}
		}
		return false
	})
	if c, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{ID: cases[0].ID}); c[0].MemberDecision != "" {
		t.Fatal("an answer after close was recorded")
	}
}

// Credentials Slack refuses stop the bot with a clear error instead of a
// reconnect loop.
func TestFatalCredentialsStopTheBot(t *testing.T) {
	srv := slacktest.New()
	defer srv.Close()
	api := slack.New(slacktest.BotToken, slack.OptionAppLevelToken("xapp-wrong"), slack.OptionAPIURL(srv.APIURL()))
	b := &bot.Bot{API: api, Client: socketmode.New(api), Log: zerolog.Nop()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := b.Run(ctx)
	if !errors.Is(err, bot.ErrFatal) || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
		t.Fatalf("Run = %v, want ErrFatal naming the tokens", err)
	}
}

// A manager hands a member's review to a peer through the Delegate modal;
// the peer gets the form and the manager no longer decides those cases.
func TestDelegateThroughModal(t *testing.T) {
	r := newRig(t)
	r.slash(r.admin, "start quarterly")
	r.clock.Advance(7*24*time.Hour + time.Minute)
	if err := r.eng.Tick(r.ctx); err != nil {
		t.Fatal(err)
	}
	cases, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	var cs campaign.CaseRecord
	for _, c := range cases {
		if c.ReviewerID != "" {
			cs = c
			break
		}
	}
	mgr := cs.ReviewerID
	var form slacktest.Message
	r.eventually("reviewer form", func() bool {
		for _, f := range reviewerForms(r.dm(mgr), "delegate") {
			for _, id := range slackdrive.CaseBlocks(f) {
				if id == "case:"+itoa(cs.ID) {
					form = f
					return true
				}
			}
		}
		return false
	})
	r.click(r.slackOf[mgr], form, "delegate", nil)
	r.eventually("delegate modal", func() bool { return len(r.slack.Views()) > 0 })
	view := r.slack.Views()[0]
	// The peer: any other mapped user who is neither the manager nor the member.
	var peer string
	for _, u := range r.org.Users {
		if u.ID != mgr && u.ID != cs.UserID && u.Status == "ACTIVE" {
			peer = u.ID
			break
		}
	}
	payload, err := r.slack.ViewSubmission(r.slackOf[mgr], view.ViewID, map[string]map[string]slacktest.StateValue{
		"delegate_to": {"user": {Type: "users_select", SelectedUser: r.slackOf[peer].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	ack, ok := r.slack.WaitAck(r.slack.SendInteraction(payload), patience)
	if !ok || strings.Contains(string(ack.Payload), "errors") {
		t.Fatalf("delegate submission ack = %s", ack.Payload)
	}
	got, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{ID: cs.ID})
	if got[0].ReviewerID != peer || got[0].DelegatedBy != mgr {
		t.Fatalf("case after delegation = reviewer %s delegated by %s", got[0].ReviewerID, got[0].DelegatedBy)
	}
	r.eventually("peer gets the form", func() bool { return len(reviewerForms(r.dm(peer), "reviewer_submit")) > 0 })
}

// The weekly sweep posts its findings with a CSV and a button; an admin's
// click launches a review of exactly those cases, an outsider's is refused.
func TestSweepThroughSlack(t *testing.T) {
	r := newRig(t)
	findings, err := r.h.RunSweep(r.ctx, r.st, campaign.SweepOptions{})
	if err != nil || len(findings) == 0 {
		t.Fatalf("sweep: %d findings, %v", len(findings), err)
	}
	var msg slacktest.Message
	r.eventually("sweep posted", func() bool {
		for _, m := range r.slack.Messages(approvals) {
			if strings.Contains(string(m.Blocks), "sweep_review") {
				msg = m
				return true
			}
		}
		return false
	})
	r.eventually("csv uploaded", func() bool { return len(r.slack.Uploads()) > 0 })
	outsider := r.slackOf[r.org.Users[len(r.org.Users)-1].ID]
	r.click(outsider, msg, "sweep_review", nil)
	r.eventually("outsider refused", func() bool { return len(r.ephemeralTo(outsider.ID)) > 0 })
	r.click(r.admin, msg, "sweep_review", nil)
	r.eventually("review launched", func() bool {
		list, _ := r.st.ListCampaigns(r.ctx)
		return len(list) == 1 && list[0].Trigger == "sweep" && list[0].State == campaign.StateStage1
	})
	cases, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{})
	covered := campaign.Covered(findings)
	if len(cases) != len(covered) {
		t.Fatalf("review has %d cases, the sweep found %d", len(cases), len(covered))
	}
}
