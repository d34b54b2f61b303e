package slacktest

// Messages: chat.postMessage, chat.update and chat.postEphemeral, with
// Slack's content rules and limits, and what tests read back.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is a message the bot posted, as it currently stands.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string // empty unless posted in a thread
	Text     string
	// Blocks is the blocks array as stored: Slack's block_ids and
	// action_ids filled in where the bot left them out; nil when none.
	Blocks      json.RawMessage
	Attachments json.RawMessage
	Metadata    json.RawMessage
	User        string // BotUserID
	BotID       string // BotID
	// Edited counts the chat.update calls applied.
	Edited int
	// UnfurlLinks and UnfurlMedia are the flags sent, nil when not sent.
	UnfurlLinks, UnfurlMedia *bool
}

// Ephemeral is a message posted with chat.postEphemeral.
type Ephemeral struct {
	Channel, User, TS, ThreadTS, Text string
	Blocks                            json.RawMessage
}

// wire renders m as Slack's message object.
func (m *Message) wire() map[string]any {
	out := map[string]any{
		"type": "message", "user": m.User, "bot_id": m.BotID, "app_id": AppID, "team": TeamID,
		"text": m.Text, "ts": m.TS,
		"bot_profile": map[string]any{"id": BotID, "app_id": AppID, "name": "attest", "deleted": false, "team_id": TeamID},
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.Attachments != nil {
		out["attachments"] = m.Attachments
	}
	if m.Edited > 0 {
		out["edited"] = map[string]any{"user": BotUserID, "ts": m.TS}
	}
	return out
}

// content is the text, blocks and attachments of a post or an update.
type content struct {
	text                  string
	blocks                json.RawMessage // nil for an empty array
	hasBlocks, hasAttach  bool
	attachments, metadata json.RawMessage
}

// empty reports whether there is nothing to show, Slack's "no_text".
func (c content) empty() bool { return c.text == "" && c.blocks == nil && c.attachments == nil }

// parseContent reads text, blocks, attachments and metadata, enforcing
// Slack's limits.
func parseContent(r *request) (content, *apiError) {
	c := content{text: r.str("text")}
	if utf8.RuneCountInString(c.text) > MaxMessageText {
		return c, fail("msg_too_long")
	}
	if raw := r.str("blocks"); raw != "" {
		var blocks []any
		if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
			return c, fail("invalid_blocks_format")
		}
		v := &validator{}
		v.checkBlocks("/blocks", blocks, MaxMessageBlocks)
		if len(v.probs) > 0 {
			return c, blocksError("invalid_blocks", v.probs)
		}
		if blocksTextLen(blocks) > MaxBlocksText {
			return c, fail("msg_blocks_too_long")
		}
		c.hasBlocks = true
		if len(blocks) > 0 {
			c.blocks, _ = json.Marshal(blocks)
		}
	}
	if raw := r.str("attachments"); raw != "" {
		var atts []any
		if err := json.Unmarshal([]byte(raw), &atts); err != nil {
			return c, fail("invalid_attachments")
		}
		c.hasAttach = true
		if len(atts) > 0 {
			c.attachments = json.RawMessage(raw)
		}
	}
	if raw := r.str("metadata"); raw != "" && json.Valid([]byte(raw)) {
		c.metadata = json.RawMessage(raw)
	}
	return c, nil
}

// blocksError is Slack's answer to invalid blocks: the problems both in
// "errors" and, prefixed with [ERROR], in response_metadata.messages.
func blocksError(code string, probs []string) *apiError {
	e := &apiError{code: code, errs: probs}
	for _, p := range probs {
		e.messages = append(e.messages, "[ERROR] "+p)
	}
	return e
}

// boolParam reads an optional boolean flag.
func boolParam(r *request, key string) *bool {
	if !r.has(key) {
		return nil
	}
	v := r.str(key)
	b := v == "true" || v == "1"
	return &b
}

// postChannel resolves the channel of a post: a known channel, or a user
// id, which Slack maps to the app's DM with that user.
func (st *state) postChannel(cfg config, id string) (*channel, *apiError) {
	ch, ok := st.channels[id]
	if !ok && (strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W")) {
		if _, known := st.findUser(cfg, id); known {
			dm, e := st.openDM(cfg, id)
			if e != nil {
				return nil, e
			}
			ch, ok = st.channels[dm], true
		}
	}
	if !ok {
		return nil, fail("channel_not_found")
	}
	if ch.user != "" && cfg.noMessagesTab {
		return nil, fail("messages_tab_disabled")
	}
	return ch, nil
}

// nextTS returns a message timestamp after every one given before.
func (st *state) nextTS(now time.Time) string {
	us := max(now.UnixMicro(), st.lastTS+1)
	st.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// chatPostMessage answers chat.postMessage.
func (s *Server) chatPostMessage(r *request) (map[string]any, *apiError) {
	ch, e := s.st.postChannel(s.cfg, r.str("channel"))
	if e != nil {
		return nil, e
	}
	c, e := parseContent(r)
	if e != nil {
		return nil, e
	}
	if c.empty() {
		return nil, fail("no_text")
	}
	m := &Message{
		Channel: ch.id, TS: s.st.nextTS(s.now()), ThreadTS: r.str("thread_ts"), Text: c.text,
		Blocks: c.blocks, Attachments: c.attachments, Metadata: c.metadata,
		User: BotUserID, BotID: BotID,
		UnfurlLinks: boolParam(r, "unfurl_links"), UnfurlMedia: boolParam(r, "unfurl_media"),
	}
	ch.messages = append(ch.messages, m)
	return map[string]any{"channel": ch.id, "ts": m.TS, "message": m.wire()}, nil
}

// chatUpdate answers chat.update. As on Slack, text without blocks
// removes the blocks; blocks "[]" removes them too; attachments are kept
// unless sent.
func (s *Server) chatUpdate(r *request) (map[string]any, *apiError) {
	ch, ok := s.st.channels[r.str("channel")]
	if !ok {
		return nil, fail("channel_not_found")
	}
	ts := r.str("ts")
	i := slices.IndexFunc(ch.messages, func(m *Message) bool { return m.TS == ts })
	if i < 0 {
		return nil, fail("message_not_found")
	}
	c, e := parseContent(r)
	if e != nil {
		return nil, e
	}
	if c.text == "" && !c.hasBlocks && !c.hasAttach {
		return nil, fail("no_text")
	}
	m := ch.messages[i]
	switch {
	case c.hasBlocks:
		m.Blocks = c.blocks
	case c.text != "":
		m.Blocks = nil
	}
	if c.hasAttach {
		m.Attachments = c.attachments
	}
	if c.metadata != nil {
		m.Metadata = c.metadata
	}
	m.Text = c.text
	m.Edited++
	return map[string]any{"channel": ch.id, "ts": m.TS, "text": m.Text, "message": m.wire()}, nil
}

// chatPostEphemeral answers chat.postEphemeral.
func (s *Server) chatPostEphemeral(r *request) (map[string]any, *apiError) {
	ch, ok := s.st.channels[r.str("channel")]
	if !ok {
		return nil, fail("channel_not_found")
	}
	user := r.str("user")
	if _, ok := s.st.findUser(s.cfg, user); !ok {
		return nil, fail("user_not_found")
	}
	c, e := parseContent(r)
	if e != nil {
		return nil, e
	}
	if c.empty() {
		return nil, fail("no_text")
	}
	ts := s.st.nextTS(s.now())
	s.st.ephemerals = append(s.st.ephemerals, Ephemeral{
		Channel: ch.id, User: user, TS: ts, ThreadTS: r.str("thread_ts"), Text: c.text, Blocks: c.blocks,
	})
	return map[string]any{"message_ts": ts}, nil
}
