package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/syncbuf"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/internal/slackrec"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/store"
)

// Two replicas share the outbox. Replica A claims two messages and sends
// one; the other waits for A's workspace pace. Meanwhile replica B
// takes the waiting one over (its lease passed, as it does when A's queue
// is held up by pacing or a 429 pause for longer than the lease) and sends
// it. A must then leave it alone: it was posted twice before A checked,
// just before the call, that its claim was still its own.
func TestClaimTakenOverIsNotSentTwice(t *testing.T) {
	ctx := context.Background()
	srv := slacktest.New(shippedManifest(t))
	t.Cleanup(srv.Close)
	srv.AddChannel("C1", "iam")
	srv.AddChannel("C2", "security")
	path := filepath.Join(t.TempDir(), "attest.db")
	stA, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stA.Close() })
	stB, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stB.Close() })
	api := slack.New(slacktest.BotToken, slack.OptionAPIURL(srv.APIURL()))
	var logA syncbuf.Buffer
	// A sends one message every 2 s; its claims hold for an hour.
	a := &bot.Sender{API: api, Store: stA, Log: zerolog.New(&logA), PerChannel: time.Millisecond, Rate: 0.5, Lease: time.Hour}
	// B takes over any claim: as if A's lease had long passed.
	b := &bot.Sender{API: api, Store: stB, Log: zerolog.Nop(), PerChannel: time.Millisecond, Rate: 1000, Lease: time.Nanosecond}
	if _, err := stA.Enqueue(ctx,
		slackrec.OutboxItem{Key: "post:first", Kind: slackrec.KindPost, Target: "C1", Payload: slackrec.Payload{Text: "first"}},
		slackrec.OutboxItem{Key: "post:second", Kind: slackrec.KindPost, Target: "C2", Payload: slackrec.Payload{Text: "second"}},
	); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := a.Tick(ctx); err != nil {
			t.Error(err)
		}
	}()
	eventually(t, "A sent the first message, the second still claimed", func() bool {
		c, _ := stA.OutboxCounts(ctx)
		return c["sent"] == 1 && c["sending"] == 1
	})
	if err := b.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	postedOnce := func(when string) {
		t.Helper()
		byKey := map[string]int{}
		for _, m := range srv.AllMessages() {
			byKey[outboxKey(m)]++
		}
		if len(byKey) != 2 || byKey["post:first"] != 1 || byKey["post:second"] != 1 {
			t.Fatalf("%s: messages posted by outbox key: %v; want each of the two once", when, byKey)
		}
	}
	postedOnce("after B took over A's waiting message")
	<-done // A reached the waiting message's turn
	postedOnce("after A's turn")
	if !strings.Contains(logA.String(), "claim not confirmed") {
		t.Fatalf("A did not say why it left the message alone; its log:\n%s", logA.String())
	}
	if c, _ := stA.OutboxCounts(ctx); c["sent"] != 2 {
		t.Fatalf("outbox = %v, want both sent", c)
	}
}
