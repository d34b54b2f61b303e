package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/internal/slackrec"
	"github.com/attestbot/attest/internal/slacktest"
	"github.com/attestbot/attest/store"
)

// BenchmarkAckLatency sends 200 clicks at once while another writer holds
// the store's write lock (a transaction that writes and stays open, as a
// long launch does) and 10 modal submissions and slash commands, sent
// first, wait on that lock in their handlers. It reports the click acks'
// latency, from Slack writing each envelope to reading its ack, and the
// slowest ack of the submissions and commands (bounded by ReplyWithin).
//
//	go test -run '^$' -bench AckLatency -benchtime 1x ./bot/
func BenchmarkAckLatency(b *testing.B) {
	r := newRig(b)
	clicker := r.slackOf[r.org.Users[3].ID]
	msg := buttonMessage(b, r, approvals, "plan_approve")
	if got := r.slash(r.admin, "start"); got != "" {
		b.Fatalf("start: %q", got)
	}
	view := r.slack.Views()[0]
	// Warm up (first connections, caches) with a few clicks answered.
	for range 20 {
		payload, err := r.slack.BlockActions(clicker, msg.Channel, msg.TS, []slacktest.Action{{ActionID: "plan_approve"}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := r.slack.WaitAck(r.slack.SendInteraction(payload), patience); !ok {
			b.Fatal("warm-up click not acked")
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		release := lockStore(b, r.st)
		var slow []string
		for j := 0; j < 5; j++ {
			sub, err := r.slack.ViewSubmission(r.admin, view.ViewID, map[string]map[string]slacktest.StateValue{
				"definition": {"definition": {Type: "static_select", SelectedOption: &slacktest.SelectOption{Text: "Nope", Value: "Nope"}}}})
			if err != nil {
				b.Fatal(err)
			}
			slow = append(slow, r.slack.SendInteraction(sub), r.slack.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review",
				Text: "status", UserID: r.admin.ID, UserName: r.admin.Name, ChannelID: approvals}))
		}
		clicks := make([]map[string]any, 200)
		for j := range clicks {
			payload, err := r.slack.BlockActions(clicker, msg.Channel, msg.TS, []slacktest.Action{{ActionID: "plan_approve"}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			clicks[j] = payload
		}
		ids := make([]string, len(clicks))
		for j, payload := range clicks {
			ids[j] = r.slack.SendInteraction(payload)
		}
		lat := make([]time.Duration, 0, len(ids))
		for _, id := range ids {
			ack, ok := r.slack.WaitAck(id, patience)
			if !ok {
				b.Fatalf("envelope %s not acked", id)
			}
			lat = append(lat, ack.Latency)
		}
		var slowest time.Duration
		for _, id := range slow {
			ack, ok := r.slack.WaitAck(id, patience)
			if !ok {
				b.Fatalf("envelope %s not acked", id)
			}
			slowest = max(slowest, ack.Latency)
		}
		release()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
		b.ReportMetric(float64(slowest.Microseconds())/1000, "locked_reply_max_ms")
	}
}

// BenchmarkFanOut8000 delivers 8,000 member forms through the outbox to the
// fake Slack limited to `rate` chat.postMessage calls a second, stopping
// the sender halfway (as a kill would, mid-call) and starting a new one on
// the same store. It reports the wall time against the floor the limit
// allows, and counts lost and duplicated messages (both must be 0).
//
//	go test -run '^$' -bench FanOut8000 -benchtime 1x ./bot/
func BenchmarkFanOut8000(b *testing.B) {
	const n, limit = 8000, 400.0
	for i := 0; i < b.N; i++ {
		srv := slacktest.New(shippedManifest(b), slacktest.WithRateLimit("chat.postMessage", limit))
		ctx := context.Background()
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "attest.db"))
		if err != nil {
			b.Fatal(err)
		}
		users := make([]slackrec.User, n)
		items := make([]slackrec.OutboxItem, n)
		form := []byte(`[{"type":"section","text":{"type":"mrkdwn","text":"*Salesforce*: still needed?"}}]`)
		for j := range users {
			id := fmt.Sprintf("U%05d", j)
			srv.AddUser(slacktest.User{ID: id, Name: id, Email: id + "@x.com"})
			users[j] = slackrec.User{OktaUserID: fmt.Sprintf("00u%05d", j), Email: id + "@x.com", SlackID: id}
			items[j] = slackrec.OutboxItem{Key: fmt.Sprintf("form:%d", j), Kind: slackrec.KindPost, Target: "okta:" + users[j].OktaUserID,
				Ref: fmt.Sprintf("m:1:%s:1", users[j].OktaUserID), Payload: slackrec.Payload{Text: "Please review your access", Blocks: form}}
		}
		if err := st.ReplaceSlackUsers(ctx, users); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Enqueue(ctx, items...); err != nil {
			b.Fatal(err)
		}
		api := slack.New(slacktest.BotToken, slack.OptionAPIURL(srv.APIURL()))
		newSender := func() *bot.Sender {
			return &bot.Sender{API: api, Store: st, Log: zerolog.Nop(), Rate: limit, PerChannel: time.Second}
		}
		start := time.Now()
		run := func(s *bot.Sender, stopAfter int) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan struct{})
			go func() { _ = s.Run(ctx); close(done) }()
			// Polled every 5 ms so the kill lands mid-delivery.
			deadline := time.Now().Add(10 * time.Minute)
			for {
				counts, _ := st.OutboxCounts(ctx)
				if counts["sent"] >= stopAfter {
					cancel() // a kill: calls in flight are cut mid-way
					<-done
					return
				}
				if time.Now().After(deadline) {
					b.Fatalf("outbox stuck at %v", counts)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		run(newSender(), n/2)
		run(newSender(), n) // a new process: recovers what was in flight
		wall := time.Since(start)
		seen := map[string]int{}
		for _, m := range srv.AllMessages() {
			seen[m.Channel]++
		}
		lost, dup := 0, 0
		for j := 0; j < n; j++ {
			ch, ok := srv.DMChannel(fmt.Sprintf("U%05d", j))
			switch {
			case !ok || seen[ch] == 0:
				lost++
			case seen[ch] > 1:
				dup += seen[ch] - 1
			}
		}
		floor := float64(n) / limit
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(floor, "floor_s")
		b.ReportMetric(wall.Seconds()/floor, "x_floor")
		b.ReportMetric(float64(lost), "lost")
		b.ReportMetric(float64(dup), "duplicated")
		b.ReportMetric(float64(srv.Counts()["429"]), "429s")
		st.Close()
		srv.Close()
	}
}
