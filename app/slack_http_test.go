package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/internal/slacktest"
)

// TestServeOverHTTP: with slack.mode http (and no app token), serve opens
// no Socket Mode connection, turns ready naming the mode, and answers
// Slack's signed requests on http.listen at the HTTP manifest's request
// URLs; an unsigned one is refused.
func TestServeOverHTTP(t *testing.T) {
	noLeaks(t)
	const secret = "0b9f8e7d6c5b4a39281706f5e4d3c2b1"
	r := newRig(t)
	delete(r.env, "SLACK_APP_TOKEN")
	r.env["ATTEST_SLACK_MODE"] = "http"
	r.env["SLACK_SIGNING_SECRET"] = secret
	a, err := app.New(context.Background(), r.config(""), r.log())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
		if err := a.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	}()
	var ready string
	eventually(t, "ready", func() bool { ready, err = a.Ready(ctx); return err == nil })
	if !strings.Contains(ready, "slack http") {
		t.Errorf("ready = %q, want it to name the Slack mode", ready)
	}

	m, err := slacktest.LoadManifest(filepath.Join("..", "deploy", "slack-app-manifest-http.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := slacktest.HTTPDeliveryFor(m, "http://"+a.Addr().String(), secret)
	if err != nil {
		t.Fatal(err)
	}
	r.slack.DeliverOverHTTP(d)
	if _, err := r.slack.VerifyEventsURL(); err != nil {
		t.Fatalf("url_verification: %v", err)
	}
	ack, ok := r.slack.WaitAck(r.slack.SendSlashCommand(slacktest.SlashCommand{Command: "/access-review", Text: "help",
		UserID: "U00001", ChannelID: approvals}), 20*time.Second)
	var reply struct {
		Text string `json:"text"`
	}
	if _ = json.Unmarshal(ack.Payload, &reply); !ok || !strings.Contains(reply.Text, "/access-review") {
		t.Fatalf("help over HTTP: %s", ack.Payload)
	}
	resp, err := http.Post("http://"+a.Addr().String()+"/slack/commands", "application/x-www-form-urlencoded",
		strings.NewReader("command=%2Faccess-review&text=help&user_id=U00001"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned command answered %d, want 401", resp.StatusCode)
	}
	if n := r.slack.ConnectionsOpened(); n != 0 || r.slack.Counts()["apps.connections.open"] != 0 {
		t.Errorf("http mode opened %d Socket Mode connections", n)
	}
}
