package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackrec"
	"github.com/attestbot/attest/internal/slacktest"
)

// posts lists the channel of every chat.postMessage the fake Slack
// accepted, in the order it accepted them.
func posts(srv *slacktest.Server) []string {
	var out []string
	for _, c := range srv.Calls("chat.postMessage") {
		if c.Error == "" && c.Status == 200 {
			ch := c.Form.Get("channel")
			if ch == "" {
				ch, _ = c.JSON["channel"].(string)
			}
			out = append(out, ch)
		}
	}
	return out
}

// runSender runs s until the test ends.
func runSender(t *testing.T, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// A manager's backlog of 340 forms, paced at one a second, does not hold
// up an alert to another channel queued after it started: the alert goes
// out after at most a couple of sends, by the fake Slack's recorded order.
func TestAlertOvertakesAChannelBacklog(t *testing.T) {
	ctx := context.Background()
	srv, st, s := senderRig(t, slacktest.WithChannelRate(1, 1))
	s.PerChannel = time.Second
	items := make([]slackrec.OutboxItem, 340)
	for i := range items {
		items[i] = slackrec.OutboxItem{Key: fmt.Sprintf("form:%d", i), Kind: slackrec.KindPost, Target: "okta:00u1",
			Payload: slackrec.Payload{Text: fmt.Sprintf("form %d", i)}}
	}
	if _, err := st.Enqueue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	runSender(t, s.Run)
	eventually(t, "the first form sent", func() bool { return len(posts(srv)) > 0 })
	before := len(posts(srv))
	if _, err := st.Enqueue(ctx, slackrec.OutboxItem{Key: "alert:1", Kind: slackrec.KindPost, Target: "C1",
		Payload: slackrec.Payload{Text: "HIGH risk: ann@x.com"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the alert sent", func() bool { return len(srv.Messages("C1")) == 1 })
	order := posts(srv)
	at := -1
	for i, ch := range order {
		if ch == "C1" {
			at = i
		}
	}
	if sendsBefore := at - before; sendsBefore > 2 {
		t.Fatalf("the alert went out after %d more forms (order %v); want at most 2", sendsBefore, order)
	}
	if n := srv.Counts()["429"]; n != 0 {
		t.Fatalf("the fake answered %d 429s: a channel got more than one message a second", n)
	}
}

// Queued behind a fan-out of forms to 100 people, an approval goes first.
func TestApprovalGoesBeforeTheFanOut(t *testing.T) {
	ctx := context.Background()
	srv, st, s := senderRig(t)
	s.Workers = 1 // one call at a time: the order of calls is the order of sends
	var users []slackrec.User
	var items []slackrec.OutboxItem
	for i := range 100 {
		id := fmt.Sprintf("U%03d", i)
		srv.AddUser(slacktest.User{ID: id, Name: id, Email: id + "@x.com"})
		users = append(users, slackrec.User{OktaUserID: "00u" + id, Email: id + "@x.com", SlackID: id})
		items = append(items, slackrec.OutboxItem{Key: "form:" + id, Kind: slackrec.KindPost, Target: "okta:00u" + id,
			Payload: slackrec.Payload{Text: "Please review your access"}})
	}
	if err := st.ReplaceSlackUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	items = append(items, slackrec.OutboxItem{Key: "approval:1", Kind: slackrec.KindPost, Target: "C1",
		Payload: slackrec.Payload{Text: "Plan of campaign 1: approve?"}})
	if _, err := st.Enqueue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	runSender(t, s.Run)
	eventually(t, "everything sent", func() bool { return len(posts(srv)) == 101 })
	if order := posts(srv); order[0] != "C1" {
		t.Fatalf("first post went to %s; want the approval first", order[0])
	}
}
