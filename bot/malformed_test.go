package bot_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/internal/slacktest"
)

// ackText is the "text" of an ack's payload.
func ackText(a slacktest.Ack) string {
	var p struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(a.Payload, &p)
	return p.Text
}

// ackView is the response_action of a view_submission ack and the text of
// the view it shows, if any.
func ackView(a slacktest.Ack) (action, text string) {
	var p struct {
		Action string          `json:"response_action"`
		View   json.RawMessage `json:"view"`
	}
	_ = json.Unmarshal(a.Payload, &p)
	return p.Action, string(p.View)
}

// Slack (or a proxy in front of it) may send what attest cannot read: an
// envelope of every type, shaped wrong in every way tried here, is
// acknowledged (so Slack does not redeliver it), answered with an error
// where Slack lets the bot answer, and the bot goes on serving.
func TestMalformedEnvelopesAreAnswered(t *testing.T) {
	r := newRig(t)
	user := r.admin
	userRef := map[string]any{"id": user.ID, "username": user.Name, "team_id": slacktest.TeamID}
	view := map[string]any{"id": "V0MALFORMED", "type": "modal", "callback_id": "launch",
		"title": map[string]any{"type": "plain_text", "text": "Launch a review"}}
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	const (
		bare     = iota // a plain ack is all Slack lets the bot say
		slashErr        // the ack's text is MalformedText
		viewErr         // the ack replaces the modal with MalformedText
		told            // plain ack, and the user gets MalformedText in the channel
	)
	tests := []struct {
		name    string
		typ     string
		payload json.RawMessage
		want    int
	}{
		{"events_api: not an event", "events_api", raw([]int{1}), bare},
		{"events_api: app_home_opened without a user", "events_api", raw(map[string]any{"type": "event_callback",
			"team_id": slacktest.TeamID, "event_id": "Ev1", "event": map[string]any{"type": "app_home_opened", "tab": "home"}}), bare},
		{"events_api: an event attest does not subscribe to", "events_api", raw(map[string]any{"type": "event_callback",
			"team_id": slacktest.TeamID, "event_id": "Ev2", "event": map[string]any{"type": "reaction_added", "user": user.ID}}), bare},
		{"events_api: no inner event", "events_api", raw(map[string]any{"type": "event_callback"}), bare},
		{"slash_commands: fields of the wrong type", "slash_commands", raw(map[string]any{"command": 5, "user_id": []int{1}}), slashErr},
		{"slash_commands: no user or trigger", "slash_commands", raw(map[string]any{"command": "/access-review", "text": "help"}), slashErr},
		{"interactive: view_submission without state", "interactive", raw(map[string]any{"type": "view_submission",
			"user": userRef, "trigger_id": "1.2.nostate", "view": view}), viewErr},
		{"interactive: view_submission without a view", "interactive", raw(map[string]any{"type": "view_submission", "user": userRef}), viewErr},
		{"interactive: view_submission without a user", "interactive", raw(map[string]any{"type": "view_submission",
			"view": map[string]any{"id": "V0X", "state": map[string]any{"values": map[string]any{}}}}), viewErr},
		{"interactive: view_submission of the wrong shape", "interactive", json.RawMessage(`{"type":"view_submission","user":5,"view":[]}`), viewErr},
		{"interactive: block_actions without actions", "interactive", raw(map[string]any{"type": "block_actions", "user": userRef,
			"trigger_id": "1.2.noactions", "container": map[string]any{"type": "message", "channel_id": approvals}}), told},
		{"interactive: block_actions with a null action", "interactive", raw(map[string]any{"type": "block_actions", "user": userRef,
			"trigger_id": "1.2.null", "channel": map[string]any{"id": approvals}, "actions": []any{nil}}), told},
		{"interactive: block_actions without a user", "interactive", raw(map[string]any{"type": "block_actions",
			"actions": []any{map[string]any{"action_id": "plan_approve", "value": "x"}}}), bare},
		{"interactive: view_closed without a view", "interactive", raw(map[string]any{"type": "view_closed", "user": userRef}), bare},
		{"interactive: shortcut", "interactive", raw(map[string]any{"type": "shortcut", "callback_id": "x", "user": userRef}), bare},
		{"interactive: message_action", "interactive", raw(map[string]any{"type": "message_action", "callback_id": "x", "user": userRef}), bare},
		{"interactive: block_suggestion", "interactive", raw(map[string]any{"type": "block_suggestion", "action_id": "x", "user": userRef}), bare},
		{"interactive: an unknown type", "interactive", raw(map[string]any{"type": "mystery"}), bare},
		{"interactive: not an object", "interactive", raw("junk"), bare},
		{"an unknown envelope type", "mystery", raw(map[string]any{}), bare},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(r.ephemeralTo(user.ID))
			id := r.slack.SendRaw(tt.typ, tt.payload)
			ack, ok := r.slack.WaitAck(id, patience)
			if !ok {
				t.Fatalf("no ack (the bot is connected: %v)", r.bot.Connected())
			}
			switch tt.want {
			case slashErr:
				if got := ackText(ack); got != bot.MalformedText {
					t.Fatalf("ack text = %q, want the malformed-request answer", got)
				}
			case viewErr:
				if action, v := ackView(ack); action != "update" || !strings.Contains(v, "could not read") {
					t.Fatalf("ack = %s, want the modal replaced by an error", ack.Payload)
				}
			case told:
				r.eventually("the user told", func() bool {
					got := r.ephemeralTo(user.ID)
					return len(got) > before && got[len(got)-1] == bot.MalformedText
				})
			default:
				if ack.Payload != nil && string(ack.Payload) != `{"options":[]}` {
					t.Fatalf("ack payload = %s, want none", ack.Payload)
				}
			}
		})
	}
	// Still serving.
	if got := r.slash(user, "help"); !strings.Contains(got, "How to use") {
		t.Fatalf("help after the malformed envelopes: %q", got)
	}
	// Every frame the bot wrote acknowledges an envelope Slack sent (none
	// answers the hello), each once.
	sent := map[string]bool{}
	for _, e := range r.slack.Envelopes() {
		sent[e.ID] = true
	}
	acked := map[string]bool{}
	for _, a := range r.slack.Acks() {
		if !sent[a.EnvelopeID] || acked[a.EnvelopeID] {
			t.Errorf("frame %s acknowledges no envelope, or one already acked", a.Raw)
		}
		acked[a.EnvelopeID] = true
	}
}
