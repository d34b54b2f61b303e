package bot_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/internal/slackrec"
)

// An update whose message was never posted (no message ref: its post
// failed, or it names the wrong form) cannot succeed: it fails for good
// after a few attempts, with a log line that says so, and the messages
// queued behind it to the same person go out.
func TestUpdateOfAMessageNeverPostedFails(t *testing.T) {
	ctx := context.Background()
	_, st, s := senderRig(t)
	var logs bytes.Buffer
	s.Log = zerolog.New(&logs)
	clk := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	s.Now = clk.Now
	var mu sync.Mutex
	calls := 0
	s.Observe = func(string) { mu.Lock(); calls++; mu.Unlock() }
	if _, err := st.Enqueue(ctx,
		slackrec.OutboxItem{Key: "update:r:1:00u1:00uX:1:trig", Kind: slackrec.KindUpdate, Target: "okta:00u1", Ref: "r:1:00u1:00uX:1",
			Payload: slackrec.Payload{Text: "answers", Blocks: []byte(`[{"type":"section","text":{"type":"mrkdwn","text":"x"}}]`)}},
		slackrec.OutboxItem{Key: "after", Kind: slackrec.KindPost, Target: "okta:00u1", Payload: slackrec.Payload{Text: "after"}},
	); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 20; round++ {
		drain(t, s)
		if c, _ := st.OutboxCounts(ctx); c["failed"] == 1 && c["sent"] == 1 {
			break
		}
		clk.Advance(10 * time.Minute) // past any backoff
	}
	c, _ := st.OutboxCounts(ctx)
	if c["failed"] != 1 || c["sent"] != 1 {
		t.Fatalf("outbox = %v; want the update failed and the post behind it sent", c)
	}
	if calls-1 > 3 {
		t.Fatalf("the update was tried %d times; want at most 3", calls-1)
	}
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"error"`) {
			line = l
		}
	}
	if !strings.Contains(line, "never posted") || !strings.Contains(line, `"ref":"r:1:00u1:00uX:1"`) {
		t.Fatalf("log line %q; want one that says the message to update was never posted, with its ref\n%s", line, logs.String())
	}
}
