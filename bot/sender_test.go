package bot_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/internal/slackrec"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/store"
)

func senderRig(t *testing.T, opts ...slacktest.Option) (*slacktest.Server, *store.Store, *bot.Sender) {
	t.Helper()
	srv := slacktest.New(append([]slacktest.Option{shippedManifest(t)}, opts...)...)
	t.Cleanup(srv.Close)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv.AddUser(slacktest.User{ID: "U1", Name: "ann", Email: "ann@x.com"})
	srv.AddChannel("C1", "iam")
	if err := st.ReplaceSlackUsers(context.Background(), []slackrec.User{{OktaUserID: "00u1", Email: "ann@x.com", SlackID: "U1"}}); err != nil {
		t.Fatal(err)
	}
	api := slack.New(slacktest.BotToken, slack.OptionAPIURL(srv.APIURL()))
	return srv, st, &bot.Sender{API: api, Store: st, Log: zerolog.Nop(), PerChannel: time.Millisecond, Rate: 1000}
}

// drain runs Tick until nothing is due.
func drain(t *testing.T, s *bot.Sender) {
	t.Helper()
	for i := 0; i < 50; i++ {
		n, err := s.Tick(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// A message Slack accepted just before a crash (its outcome never
// recorded) is found by its key in the channel history, not sent again; one
// that never reached Slack is sent.
func TestRecoverSendsNothingTwice(t *testing.T) {
	ctx := context.Background()
	srv, st, s := senderRig(t)
	items := []slackrec.OutboxItem{
		{Key: "form:delivered", Kind: slackrec.KindPost, Target: "okta:00u1", Ref: "m:1", Payload: slackrec.Payload{Text: "first"}},
		{Key: "form:lost", Kind: slackrec.KindPost, Target: "okta:00u1", Ref: "m:2", Payload: slackrec.Payload{Text: "second"}},
	}
	if _, err := st.Enqueue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimOutbox(ctx, time.Now(), 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	// The crashed process got the first message to Slack, with its key.
	if _, _, err := s.API.PostMessage("U1", slack.MsgOptionText("first", false), slack.MsgOptionMetadata(slack.SlackMetadata{
		EventType: "attest_outbox", EventPayload: map[string]any{"key": "form:delivered"}})); err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	dm, _ := srv.DMChannel("U1")
	msgs := srv.Messages(dm)
	if len(msgs) != 2 {
		t.Fatalf("messages in the DM = %d, want 2 (one each)", len(msgs))
	}
	if ch, ts, err := st.MessageRef(ctx, "m:1"); err != nil || ch != dm || ts != msgs[0].TS {
		t.Fatalf("recovered ref = %s %s %v; want %s %s", ch, ts, err, dm, msgs[0].TS)
	}
}

// Rate limits pause and retry; 5xx answers are retried with backoff;
// permanent errors fail that message only.
func TestSenderRetriesAndFailures(t *testing.T) {
	ctx := context.Background()
	srv, st, s := senderRig(t)
	srv.FailHTTP("chat.postMessage", http.StatusTooManyRequests, 1)
	srv.FailHTTP("chat.update", http.StatusServiceUnavailable, 1)
	if _, err := st.Enqueue(ctx,
		slackrec.OutboxItem{Key: "a", Kind: slackrec.KindPost, Target: "C1", Ref: "r:a", Payload: slackrec.Payload{Text: "a"}},
		slackrec.OutboxItem{Key: "bad", Kind: slackrec.KindPost, Target: "okta:00u-unknown", Payload: slackrec.Payload{Text: "x"}},
	); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a sent after a 429, bad failed", func() bool {
		drain(t, s)
		c, _ := st.OutboxCounts(ctx)
		return c["sent"] == 1 && c["failed"] == 1
	})
	if _, err := st.Enqueue(ctx, slackrec.OutboxItem{Key: "u", Kind: slackrec.KindUpdate, Target: "C1", Ref: "r:a",
		Payload: slackrec.Payload{Text: "a2", Blocks: []byte(`[{"type":"section","text":{"type":"mrkdwn","text":"updated"}}]`)}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the update sent after a 503", func() bool {
		drain(t, s)
		c, _ := st.OutboxCounts(ctx)
		return c["sent"] == 2
	})
	counts, _ := st.OutboxCounts(ctx)
	if counts["sent"] != 2 || counts["failed"] != 1 {
		t.Fatalf("outbox = %v; want 2 sent (after a 429 and a 503) and 1 failed", counts)
	}
	msgs := srv.Messages("C1")
	if len(msgs) != 1 || msgs[0].Edited != 1 || string(msgs[0].Blocks) == "" {
		t.Fatalf("channel = %+v", msgs)
	}
	if srv.Counts()["429"] != 1 || srv.Counts()["5xx"] != 1 {
		t.Fatalf("fake saw %v", srv.Counts())
	}
}

// panickyStore is the store with MessageRef panicking, as a bug would.
type panickyStore struct{ *store.Store }

func (panickyStore) MessageRef(context.Context, string) (string, string, error) { panic("boom") }

// A delivery that panics fails its one message; the sender goes on.
func TestSenderSurvivesAPanic(t *testing.T) {
	ctx := context.Background()
	srv, st, s := senderRig(t)
	s.Store = panickyStore{st}
	if _, err := st.Enqueue(ctx,
		slackrec.OutboxItem{Key: "u", Kind: slackrec.KindUpdate, Target: "C1", Ref: "r:x", Payload: slackrec.Payload{Text: "x"}},
		slackrec.OutboxItem{Key: "p", Kind: slackrec.KindPost, Target: "C2", Payload: slackrec.Payload{Text: "after"}},
	); err != nil {
		t.Fatal(err)
	}
	srv.AddChannel("C2", "other")
	drain(t, s)
	if c, _ := st.OutboxCounts(ctx); c["failed"] != 1 || c["sent"] != 1 {
		t.Fatalf("outbox = %v; want the panicking update failed and the post sent", c)
	}
	if msgs := srv.Messages("C2"); len(msgs) != 1 {
		t.Fatalf("C2 = %+v", msgs)
	}
}
