package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// start returns a fake with alice and bob, channel C1, and a slack-go
// client for it; both are closed with the test.
func start(t *testing.T, opts ...Option) (*Server, *slack.Client) {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	s.AddUser(User{ID: "U1", Name: "alice", RealName: "Alice Archer", Email: "alice@example.com"})
	s.AddUser(User{ID: "U2", Name: "bob", RealName: "Bob Baker", Email: "bob@example.com"})
	s.AddChannel("C1", "access-reviews")
	return s, s.Client()
}

// ctx returns a context that ends with the test or after ten seconds.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// slackErr returns the Slack error code of err, or "" for nil.
func slackErr(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a Slack error answer", err, err)
	}
	return se.Err
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func TestPostAndUpdate(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	ch, ts, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("fallback", false),
		slack.MsgOptionBlocks(section("*review*")), slack.MsgOptionDisableLinkUnfurl())
	if err != nil || ch != "C1" {
		t.Fatalf("post: %q %v", ch, err)
	}
	_, ts2, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts))
	if err != nil || compareTS(ts2, ts) <= 0 {
		t.Fatalf("reply ts %q after %q: %v", ts2, ts, err)
	}
	msgs := s.Messages("C1")
	if len(msgs) != 2 || msgs[1].ThreadTS != ts || msgs[0].User != BotUserID {
		t.Fatalf("messages: %+v", msgs)
	}
	if msgs[0].UnfurlLinks == nil || *msgs[0].UnfurlLinks || msgs[0].UnfurlMedia != nil {
		t.Errorf("unfurl flags: %v %v", msgs[0].UnfurlLinks, msgs[0].UnfurlMedia)
	}
	var blocks []map[string]any
	if err := json.Unmarshal(msgs[0].Blocks, &blocks); err != nil || len(blocks) != 1 || blocks[0]["block_id"] == "" {
		t.Fatalf("stored blocks %s: %v", msgs[0].Blocks, err)
	}

	tests := []struct {
		name       string
		opts       []slack.MsgOption
		wantText   string
		wantBlocks bool
	}{
		{"blocks only keep the text empty", []slack.MsgOption{slack.MsgOptionBlocks(section("new"))}, "", true},
		{"text without blocks wipes the blocks", []slack.MsgOption{slack.MsgOptionText("plain", false)}, "plain", false},
		{"blocks again", []slack.MsgOption{slack.MsgOptionText("fb", false), slack.MsgOptionBlocks(section("x"))}, "fb", true},
		{"empty blocks remove them", []slack.MsgOption{slack.MsgOptionText("fb", false), slack.MsgOptionBlocks()}, "fb", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, uts, _, err := api.UpdateMessageContext(c, "C1", ts, tt.opts...)
			if err != nil || uts != ts {
				t.Fatalf("update: %q %v", uts, err)
			}
			m, _ := s.Message("C1", ts)
			if m.Text != tt.wantText || (m.Blocks != nil) != tt.wantBlocks || m.Edited != i+1 {
				t.Errorf("after update: text %q blocks %s edited %d", m.Text, m.Blocks, m.Edited)
			}
		})
	}
}

func TestChatErrors(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	_, ts, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("hi", false))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"post to unknown channel", func() error {
			_, _, err := api.PostMessageContext(c, "C404", slack.MsgOptionText("x", false))
			return err
		}, "channel_not_found"},
		{"post nothing", func() error { _, _, err := api.PostMessageContext(c, "C1"); return err }, "no_text"},
		{"update unknown ts", func() error {
			_, _, _, err := api.UpdateMessageContext(c, "C1", "1.000001", slack.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		{"update by user id", func() error {
			_, _, _, err := api.UpdateMessageContext(c, "U1", ts, slack.MsgOptionText("x", false))
			return err
		}, "channel_not_found"},
		{"ephemeral to unknown user", func() error {
			_, err := api.PostEphemeralContext(c, "C1", "U404", slack.MsgOptionText("x", false))
			return err
		}, "user_not_found"},
		{"open DM with unknown user", func() error {
			_, _, _, err := api.OpenConversationContext(c, &slack.OpenConversationParameters{Users: []string{"U404"}})
			return err
		}, "user_not_found"},
		{"open DM with the bot", func() error {
			_, _, _, err := api.OpenConversationContext(c, &slack.OpenConversationParameters{Users: []string{BotUserID}})
			return err
		}, "cannot_dm_bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slackErr(t, tt.call()); got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
		})
	}
	if got := s.Calls("chat.update"); len(got) != 2 || got[0].Error != "message_not_found" || got[0].Token != BotToken {
		t.Errorf("recorded update calls: %+v", got)
	}
}

func TestDirectMessagesAndEphemerals(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	dm, noOp, _, err := api.OpenConversationContext(c, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || !strings.HasPrefix(dm.ID, "D") || noOp {
		t.Fatalf("open: %+v %v %v", dm, noOp, err)
	}
	again, noOp, _, err := api.OpenConversationContext(c, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || again.ID != dm.ID || !noOp {
		t.Fatalf("reopen: %q (want %q) no_op %v: %v", again.ID, dm.ID, noOp, err)
	}
	ch, ts, err := api.PostMessageContext(c, "U1", slack.MsgOptionText("to the user id", false))
	if err != nil || ch != dm.ID {
		t.Fatalf("post to user id answered channel %q, want %q: %v", ch, dm.ID, err)
	}
	if _, _, _, err := api.UpdateMessageContext(c, dm.ID, ts, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if msgs := s.Messages(dm.ID); len(msgs) != 1 || msgs[0].Text != "edited" {
		t.Errorf("DM messages: %+v", msgs)
	}
	ets, err := api.PostEphemeralContext(c, "C1", "U2", slack.MsgOptionText("only you", false), slack.MsgOptionBlocks(section("b")))
	if err != nil || ets == "" {
		t.Fatalf("ephemeral: %q %v", ets, err)
	}
	eph := s.Ephemerals()
	if len(eph) != 1 || eph[0].User != "U2" || eph[0].TS != ets || eph[0].Blocks == nil {
		t.Errorf("ephemerals: %+v", eph)
	}
	if all := s.AllMessages(); len(all) != 1 {
		t.Errorf("ephemerals must not be messages: %+v", all)
	}
}

func TestMessagesTabDisabled(t *testing.T) {
	_, api := start(t, WithMessagesTabDisabled())
	_, _, err := api.PostMessageContext(ctx(t), "U1", slack.MsgOptionText("hi", false))
	if got := slackErr(t, err); got != "messages_tab_disabled" {
		t.Errorf("error %q", got)
	}
}

func TestJSONBodyPost(t *testing.T) {
	s, _ := start(t)
	body := `{"channel":"C1","text":"json","blocks":[{"type":"divider"}]}`
	resp, err := s.ts.Client().Post(s.APIURL()+"chat.postMessage?token="+BotToken, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	// A JSON body needs the token in the Authorization header.
	if out.OK || out.Error != "not_authed" {
		t.Errorf("without a bearer token: %+v", out)
	}
	req, _ := newJSONRequest(s.APIURL()+"chat.postMessage", body)
	resp2, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if msgs := s.Messages("C1"); len(msgs) != 1 || msgs[0].Text != "json" || msgs[0].Blocks == nil {
		t.Errorf("messages: %+v", msgs)
	}
}

// newJSONRequest builds a JSON Web API call with the bot token.
func newJSONRequest(url, body string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+BotToken)
	return req, nil
}
