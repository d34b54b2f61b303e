// Package slackdrive drives attest through the fake Slack as people do:
// a slash command whose answer may come later by DM, a click on a form's
// button with radio choices, and the outbox key attest puts in the
// metadata of every message it posts. Tests and `attest demo` share it.
package slackdrive

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/bot"
	"github.com/attestbot/attest/internal/slacktest"
)

// OutboxKey is the outbox key attest put in a message's metadata ("" for
// a message without one).
func OutboxKey(m slacktest.Message) string {
	var meta struct {
		Payload struct {
			Key string `json:"key"`
		} `json:"event_payload"`
	}
	_ = json.Unmarshal(m.Metadata, &meta)
	return meta.Payload.Key
}

// CaseBlocks lists the block ids of a message's case blocks, one per case
// a form shows, in order.
func CaseBlocks(m slacktest.Message) []string {
	var blks []struct {
		BlockID string `json:"block_id"`
	}
	_ = json.Unmarshal(m.Blocks, &blks)
	var out []string
	for _, b := range blks {
		if strings.HasPrefix(b.BlockID, blocks.BlockCasePrefix) {
			out = append(out, b.BlockID)
		}
	}
	return out
}

// Slash sends cmd (a TriggerID is made when it has none) and returns
// attest's answer: the ack's text or, when the work took longer than an
// ack may wait (bot.SlowReply), the text of the DM that brings it, keyed
// "reply:" and the trigger. It waits up to wait for each.
func Slash(srv *slacktest.Server, cmd slacktest.SlashCommand, wait time.Duration) (string, error) {
	if cmd.TriggerID == "" {
		cmd.TriggerID = srv.NewTriggerID()
	}
	ack, ok := srv.WaitAck(srv.SendSlashCommand(cmd), wait)
	if !ok {
		return "", fmt.Errorf("slash command %q was not acknowledged within %s", cmd.Text, wait)
	}
	var p struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(ack.Payload, &p)
	if p.Text != bot.SlowReply {
		return p.Text, nil
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if ch, ok := srv.DMChannel(cmd.UserID); ok {
			for _, m := range srv.Messages(ch) {
				if OutboxKey(m) == "reply:"+cmd.TriggerID {
					return m.Text, nil
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", fmt.Errorf("the slow answer to %q was not DMed within %s", cmd.Text, wait)
}

// ClickPayload builds the block_actions payload of user pressing the
// button actionID on message m, with a radio choice ("decision") per
// block id in choices (blocks.CaseBlockID for a case row).
func ClickPayload(srv *slacktest.Server, user slacktest.User, m slacktest.Message, actionID string, choices map[string]string) (map[string]any, error) {
	state := map[string]map[string]slacktest.StateValue{}
	for blockID, v := range choices {
		state[blockID] = map[string]slacktest.StateValue{blocks.ActionDecision: {Type: "radio_buttons",
			SelectedOption: &slacktest.SelectOption{Text: v, Value: v}}}
	}
	return srv.BlockActions(user, m.Channel, m.TS, []slacktest.Action{{ActionID: actionID}}, state)
}

// Click sends that click and waits up to wait for its ack.
func Click(srv *slacktest.Server, user slacktest.User, m slacktest.Message, actionID string, choices map[string]string, wait time.Duration) error {
	payload, err := ClickPayload(srv, user, m, actionID, choices)
	if err != nil {
		return err
	}
	if _, ok := srv.WaitAck(srv.SendInteraction(payload), wait); !ok {
		return fmt.Errorf("no ack for %s within %s", actionID, wait)
	}
	return nil
}
