package slacktest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// wait is how long tests wait for something to come over a socket.
const wait = 5 * time.Second

// runClient runs a slack-go Socket Mode client against s, calling handle
// for every event, until the test ends; it waits for the connection.
func runClient(t *testing.T, s *Server, handle func(*socketmode.Client, socketmode.Event), opts ...socketmode.Option) *socketmode.Client {
	t.Helper()
	client := socketmode.New(s.Client(), opts...)
	c, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = client.RunContext(c) })
	wg.Go(func() {
		for {
			select {
			case evt := <-client.Events:
				handle(client, evt)
			case <-c.Done():
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	if !s.WaitConnections(1, wait) {
		t.Fatal("the client did not connect")
	}
	return client
}

func TestSlashCommandAck(t *testing.T) {
	s, _ := start(t)
	got := make(chan slack.SlashCommand, 1)
	runClient(t, s, func(client *socketmode.Client, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeSlashCommand {
			return
		}
		cmd := evt.Data.(slack.SlashCommand)
		_ = client.Ack(*evt.Request, map[string]any{"text": "Starting review " + cmd.Text})
		got <- cmd
		_, _, _ = client.PostMessage(cmd.ChannelID, slack.MsgOptionText("Review "+cmd.Text+" started", false))
	})

	id := s.SendSlashCommand(SlashCommand{Command: "/attest", Text: "q3", UserID: "U1", UserName: "alice", ChannelID: "C1"})
	ack, ok := s.WaitAck(id, wait)
	if !ok {
		t.Fatalf("no ack for %s: %+v", id, s.Acks())
	}
	var payload struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(ack.Payload, &payload); err != nil || payload.Text != "Starting review q3" {
		t.Errorf("ack payload %s: %v", ack.Payload, err)
	}
	if ack.Latency <= 0 || ack.Latency > wait || ack.Dropped || ack.Conn != 1 {
		t.Errorf("ack %+v", ack)
	}
	cmd := <-got
	if cmd.Command != "/attest" || cmd.UserID != "U1" || cmd.TeamID != TeamID || cmd.APIAppID != AppID ||
		cmd.TriggerID == "" || !strings.HasPrefix(cmd.ResponseURL, s.URL()) {
		t.Errorf("command as parsed by slack-go: %+v", cmd)
	}
	if msgs, ok := s.WaitMessages("C1", 1, wait); !ok || msgs[0].Text != "Review q3 started" {
		t.Errorf("messages after the command: %+v", msgs)
	}
	// The trigger_id of the command opens a modal.
	if _, err := s.Client().OpenViewContext(ctx(t), cmd.TriggerID, reviewModal("From command")); err != nil {
		t.Errorf("views.open with the command's trigger: %v", err)
	}
	if env := s.Envelopes(); len(env) != 1 || env[0].Type != "slash_commands" || !env[0].AcceptsResponsePayload {
		t.Errorf("envelopes: %+v", env)
	}
}

func TestSlackGoRefusesLargeAck(t *testing.T) {
	s, _ := start(t)
	errs := make(chan error, 1)
	runClient(t, s, func(client *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			errs <- client.Ack(*evt.Request, map[string]any{"text": strings.Repeat("x", MaxAckSize)})
		}
	})
	id := s.SendSlashCommand(SlashCommand{Command: "/attest", UserID: "U1", ChannelID: "C1"})
	if err := <-errs; err == nil {
		t.Error("slack-go sent an ack of 20 KB")
	}
	if _, ok := s.WaitAck(id, 50*time.Millisecond); ok {
		t.Error("an ack arrived")
	}
}

func TestRedelivery(t *testing.T) {
	s, _ := start(t)
	attempts := make(chan int, 2)
	runClient(t, s, func(client *socketmode.Client, evt socketmode.Event) {
		if evt.Request == nil || evt.Type != socketmode.EventTypeEventsAPI {
			return
		}
		attempts <- evt.Request.RetryAttempt
		if evt.Request.RetryAttempt > 0 { // too slow the first time
			_ = client.Ack(*evt.Request)
		}
	})
	first := s.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
	if a := <-attempts; a != 0 {
		t.Fatalf("first delivery has retry_attempt %d", a)
	}
	second := s.Redeliver(first)
	if second == "" || second == first {
		t.Fatalf("redelivery envelope id %q", second)
	}
	if a := <-attempts; a != 1 {
		t.Errorf("redelivery has retry_attempt %d", a)
	}
	if _, ok := s.WaitAck(second, wait); !ok {
		t.Fatal("redelivery not acked")
	}
	if _, ok := s.WaitAck(first, 0); ok {
		t.Error("first delivery acked")
	}
	env := s.Envelopes()
	var p1, p2 slackevents.EventsAPICallbackEvent
	_ = json.Unmarshal(env[0].Payload, &p1)
	_ = json.Unmarshal(env[1].Payload, &p2)
	if len(env) != 2 || env[1].RetryAttempt != 1 || env[1].RetryReason != "timeout" || p1.EventID == "" || p1.EventID != p2.EventID {
		t.Errorf("envelopes %+v, event ids %q %q", env, p1.EventID, p2.EventID)
	}
	if s.Redeliver("nope") != "" {
		t.Error("redelivered an unknown envelope")
	}
}

func TestDisconnectReconnect(t *testing.T) {
	s, _ := start(t)
	acked := make(chan string, 4)
	runClient(t, s, func(client *socketmode.Client, evt socketmode.Event) {
		if evt.Request != nil && evt.Type == socketmode.EventTypeEventsAPI {
			_ = client.Ack(*evt.Request)
			acked <- evt.Request.EnvelopeID
		}
	})
	if n := len(s.Calls("apps.connections.open")); n != 1 {
		t.Fatalf("%d apps.connections.open calls", n)
	}
	if n := s.Disconnect("refresh_requested"); n != 1 {
		t.Fatalf("disconnected %d", n)
	}
	if !s.waitFor(wait, func() bool { return s.ws.opened == 2 && len(s.ws.conns) == 1 }) {
		t.Fatalf("no reconnection: %d opened, %d live", s.ConnectionsOpened(), s.Connections())
	}
	if n := len(s.Calls("apps.connections.open")); n != 2 {
		t.Errorf("%d apps.connections.open calls after the reconnection, want 2", n)
	}
	id := s.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"})
	ack, ok := s.WaitAck(id, wait)
	if !ok || ack.Conn != 2 {
		t.Errorf("ack on the new connection: %+v %v", ack, ok)
	}
	if got := <-acked; got != id {
		t.Errorf("acked %s, want %s", got, id)
	}
}

func TestInteractionsRoundTrip(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	_, ts, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("Keep access?", false), slack.MsgOptionBlocks(
		section("Does *alice* still need *prod-db*?"),
		slack.NewActionBlock("case:1", slack.NewButtonBlockElement("keep", "case-1", plain("Keep")),
			slack.NewButtonBlockElement("revoke", "case-1", plain("Revoke"))),
	))
	if err != nil {
		t.Fatal(err)
	}
	callbacks := make(chan slack.InteractionCallback, 2)
	runClient(t, s, func(client *socketmode.Client, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeInteractive {
			return
		}
		cb := evt.Data.(slack.InteractionCallback)
		if cb.Type == slack.InteractionTypeViewSubmission {
			_ = client.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"reason": "too short"}))
		} else {
			_ = client.Ack(*evt.Request)
		}
		callbacks <- cb
	})

	alice := User{ID: "U1", Name: "alice"}
	payload, err := s.BlockActions(alice, "C1", ts, []Action{{ActionID: "revoke"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := s.SendInteraction(payload)
	if _, ok := s.WaitAck(id, wait); !ok {
		t.Fatal("block_actions not acked")
	}
	cb := <-callbacks
	acts := cb.ActionCallback.BlockActions
	if cb.Type != slack.InteractionTypeBlockActions || len(acts) != 1 || acts[0].ActionID != "revoke" ||
		acts[0].BlockID != "case:1" || acts[0].Value != "case-1" || acts[0].Text.Text != "Revoke" ||
		cb.Container.MessageTs != ts || cb.Container.ChannelID != "C1" || cb.User.ID != "U1" ||
		cb.Channel.Name != "access-reviews" || len(cb.Message.Blocks.BlockSet) != 2 || cb.Message.Timestamp != ts {
		t.Fatalf("callback as parsed by slack-go: %+v", cb)
	}

	opened, err := api.OpenViewContext(c, cb.TriggerID, reviewModal("Why revoke"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.ViewSubmission(alice, opened.View.ID, map[string]map[string]StateValue{"reason": {"reason_input": {Value: "no"}}})
	if err != nil {
		t.Fatal(err)
	}
	id = s.SendInteraction(sub)
	ack, ok := s.WaitAck(id, wait)
	if !ok || !strings.Contains(string(ack.Payload), `"response_action":"errors"`) {
		t.Fatalf("view_submission ack %s %v", ack.Payload, ok)
	}
	cb = <-callbacks
	if v := cb.View.State.Values["reason"]["reason_input"]; v.Value != "no" || v.Type != "plain_text_input" ||
		cb.View.ID != opened.View.ID || cb.View.CallbackID != "review" || cb.View.PrivateMetadata != "case-1" {
		t.Errorf("submission as parsed by slack-go: %+v", cb.View)
	}
}

// slack-go drops a connection the server stops pinging, and reconnects.
func TestNoPingsMeansReconnect(t *testing.T) {
	s, _ := start(t, WithPingInterval(0))
	runClient(t, s, func(*socketmode.Client, socketmode.Event) {}, socketmode.OptionPingInterval(100*time.Millisecond))
	if !s.waitFor(wait, func() bool { return s.ws.opened >= 2 }) {
		t.Errorf("no reconnection without pings: %d connections opened", s.ConnectionsOpened())
	}
}
