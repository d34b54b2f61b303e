package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/syncbuf"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/slacktest"
)

// inbound is a function-field fake of the handlers the bot dispatches to;
// a nil field panics, as a handler bug would.
type inbound struct {
	slash  func(context.Context, slack.SlashCommand) handlers.Reply
	submit func(context.Context, slack.InteractionCallback) map[string]string
	click  func(context.Context, slack.InteractionCallback)
	home   func(context.Context, string) error
	dms    chan string
}

func (f *inbound) Slash(ctx context.Context, cmd slack.SlashCommand) handlers.Reply {
	return f.slash(ctx, cmd)
}
func (f *inbound) ViewSubmission(ctx context.Context, cb slack.InteractionCallback) map[string]string {
	return f.submit(ctx, cb)
}
func (f *inbound) BlockActions(ctx context.Context, cb slack.InteractionCallback, _ string) {
	f.click(ctx, cb)
}
func (f *inbound) PublishHome(ctx context.Context, user, _ string) error { return f.home(ctx, user) }
func (f *inbound) DM(_ context.Context, user, key, text string)          { f.dms <- user + ": " + text }

// botRig runs a bot over Socket Mode with the given handlers.
func botRig(t *testing.T, h bot.Inbound, replyWithin time.Duration) (*slacktest.Server, *syncbuf.Buffer) {
	t.Helper()
	return botRigOver(t, socketMode, h, replyWithin)
}

// botRigOver runs a bot over the fake Slack and transport tr with the
// given handlers; tweaks set the bot up further.
func botRigOver(t *testing.T, tr transport, h bot.Inbound, replyWithin time.Duration, tweaks ...func(*bot.Bot)) (*slacktest.Server, *syncbuf.Buffer) {
	t.Helper()
	manifest := loadManifest(t, tr)
	srv := slacktest.New(slacktest.WithManifest(manifest))
	srv.AddUser(slacktest.User{ID: "U1", Name: "ann", Email: "ann@x.com"})
	srv.AddChannel("C1", "iam")
	logs := &syncbuf.Buffer{}
	b := &bot.Bot{API: srv.Client(), Handler: h, Log: zerolog.New(logs), ReplyWithin: replyWithin}
	for _, tweak := range tweaks {
		tweak(b)
	}
	closeApp := serveBot(t, b, srv, tr, manifest)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close(); closeApp() })
	if tr == socketMode && !srv.WaitConnections(1, patience) {
		t.Fatal("the bot never connected")
	}
	return srv, logs
}

// A panic in any handler is recovered: logged with its stack, answered
// with an error where Slack lets the bot answer, and the bot serves on;
// over either transport, which share the dispatch.
func TestHandlerPanicsAreRecovered(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) { handlerPanicsAreRecovered(t, tr) })
	}
}

func handlerPanicsAreRecovered(t *testing.T, tr transport) {
	h := &inbound{dms: make(chan string, 4)} // every handler panics
	srv, logs := botRigOver(t, tr, h, 2*time.Second)
	user := slacktest.User{ID: "U1", Name: "ann"}
	wait := func(id string) slacktest.Ack {
		t.Helper()
		ack, ok := srv.WaitAck(id, patience)
		if !ok {
			t.Fatal("no ack")
		}
		return ack
	}

	if got := ackText(wait(srv.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "status", UserID: "U1", ChannelID: "C1"}))); got != bot.FailedText {
		t.Fatalf("slash ack = %q, want the failure answer", got)
	}
	view := map[string]any{"id": "V1", "type": "modal", "callback_id": "launch", "state": map[string]any{"values": map[string]any{}},
		"title": map[string]any{"type": "plain_text", "text": "Launch"}}
	sub := map[string]any{"type": "view_submission", "user": map[string]any{"id": "U1"}, "trigger_id": "1.2.x", "view": view}
	if action, v := ackView(wait(srv.SendInteraction(sub))); action != "update" || !strings.Contains(v, "Something went wrong") {
		t.Fatalf("view_submission ack = %s %s, want the modal replaced by the failure answer", action, v)
	}
	ch, ts, err := srv.Client().PostMessage("C1", slack.MsgOptionBlocks(slack.NewActionBlock("a",
		slack.NewButtonBlockElement("plan_approve", "x", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	click, err := srv.BlockActions(user, ch, ts, []slacktest.Action{{ActionID: "plan_approve"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wait(srv.SendInteraction(click))
	home := srv.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
	wait(home)
	// The click's failure reaches the user in the channel of the click.
	eventually(t, "the click's failure told", func() bool { return len(srv.Ephemerals()) > 0 })
	if e := srv.Ephemerals(); len(e) != 1 || e[0].User != "U1" || e[0].Text != bot.FailedText {
		t.Fatalf("ephemerals = %+v, want the failure answer to U1", e)
	}
	eventually(t, "the home panic logged", func() bool { return strings.Contains(logs.String(), `"work":"app_home_opened"`) })
	for _, what := range []string{"slash_command", "view_submission", "block_actions", "app_home_opened"} {
		if !strings.Contains(logs.String(), `"work":"`+what+`"`) {
			t.Errorf("no panic logged for %s", what)
		}
	}
	if !strings.Contains(logs.String(), "goroutine") || !strings.Contains(logs.String(), "handler panicked") {
		t.Error("panics logged without their stack")
	}

	// The loop serves on: a working handler answers.
	h.slash = func(context.Context, slack.SlashCommand) handlers.Reply { return handlers.Reply{Text: "fine"} }
	if got := ackText(wait(srv.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "help", UserID: "U1", ChannelID: "C1"}))); got != "fine" {
		t.Fatalf("slash after the panics = %q", got)
	}
}

// A slash command whose handler panics after its ack went out answers the
// failure by DM.
func TestLatePanicAnswersByDM(t *testing.T) {
	release := make(chan struct{})
	h := &inbound{dms: make(chan string, 1), slash: func(context.Context, slack.SlashCommand) handlers.Reply {
		<-release
		panic("late")
	}}
	srv, _ := botRig(t, h, 50*time.Millisecond)
	id := srv.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "status", UserID: "U1", ChannelID: "C1"})
	ack, ok := srv.WaitAck(id, patience)
	if !ok || ackText(ack) != bot.SlowReply {
		t.Fatalf("ack = %s", ack.Payload)
	}
	close(release)
	select {
	case dm := <-h.dms:
		if dm != "U1: "+bot.FailedText {
			t.Fatalf("DM = %q", dm)
		}
	case <-time.After(patience):
		t.Fatal("no DM after the late panic")
	}
}
