package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/store"
)

// lockStore takes the store's write lock with a transaction that writes
// and stays open, as a long launch does; every other writer waits for it.
// The returned function (also run at cleanup) rolls it back.
func lockStore(t testing.TB, st *store.Store) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO slack_handled (key, at) VALUES ('test:lock', '')`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(); _ = conn.Close() }) }
	t.Cleanup(release)
	return release
}

// buttonMessage posts a message with one button to channel and returns it.
func buttonMessage(t testing.TB, r *rig, channel, actionID string) slacktest.Message {
	t.Helper()
	ch, ts, err := r.bot.API.PostMessage(channel, slack.MsgOptionBlocks(slack.NewActionBlock("actions",
		slack.NewButtonBlockElement(actionID, "not-a-plan", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	return slacktest.Message{Channel: ch, TS: ts}
}

// viewUpdated reports whether views.update was called for viewID.
func viewUpdated(srv *slacktest.Server, viewID string) bool {
	for _, c := range srv.Calls("views.update") {
		if c.JSON["view_id"] == viewID || c.Form.Get("view_id") == viewID {
			return true
		}
	}
	return false
}

// With the store's write lock held by someone else, every envelope is
// still acknowledged within Slack's 3 s: a click at once, a modal
// submission with a "Working on it" notice that a views.update later
// replaces, a slash command with the promise of a DM.
func TestAcksWhileTheStoreIsLocked(t *testing.T) {
	r := newRig(t)
	if got := r.slash(r.admin, "start"); got != "" {
		t.Fatalf("start: %q", got)
	}
	view := r.slack.Views()[0]
	msg := buttonMessage(t, r, approvals, "plan_approve")
	release := lockStore(t, r.st)

	sub, err := r.slack.ViewSubmission(r.admin, view.ViewID, map[string]map[string]slacktest.StateValue{
		"definition": {"definition": {Type: "static_select", SelectedOption: &slacktest.SelectOption{Text: "Quarterly", Value: "Quarterly"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	subID := r.slack.SendInteraction(sub)
	click, err := r.slack.BlockActions(r.approver, msg.Channel, msg.TS, []slacktest.Action{{ActionID: "plan_approve"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	clickID := r.slack.SendInteraction(click)
	slashID := r.slack.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "status", UserID: r.admin.ID,
		UserName: r.admin.Name, ChannelID: approvals})

	acks := map[string]slacktest.Ack{}
	for name, id := range map[string]string{"click": clickID, "submission": subID, "slash": slashID} {
		ack, ok := r.slack.WaitAck(id, patience)
		if !ok || ack.Latency >= 3*time.Second {
			t.Fatalf("%s not acked within 3 s while the store is locked (latency %v)", name, ack.Latency)
		}
		acks[name] = ack
	}
	if l := acks["click"].Latency; l > time.Second {
		t.Errorf("the click waited %v for its ack", l)
	}
	if action, v := ackView(acks["submission"]); action != "update" || !strings.Contains(v, "Working on it") {
		t.Errorf("submission ack = %s, want the modal updated to a notice", acks["submission"].Payload)
	}
	if got := ackText(acks["slash"]); got != bot.SlowReply {
		t.Errorf("slash ack = %q, want %q", got, bot.SlowReply)
	}

	release()
	r.eventually("the late verdict shown in the modal", func() bool { return viewUpdated(r.slack, view.ViewID) })
	r.eventually("the submission launched the campaign", func() bool {
		list, _ := r.st.ListCampaigns(r.ctx)
		return len(list) == 1 && list[0].State == campaign.StateStage1
	})
	// The launch ends by telling the launcher; its forms are queued by then.
	r.eventually("launcher told", func() bool {
		for _, m := range r.dm(r.org.Users[1].ID) {
			if strings.Contains(m.Text, "Launched campaign") {
				return true
			}
		}
		return false
	})
}
