package slacktest

// The short-lived handles a user's action grants the bot: a trigger_id,
// which opens one view within 3 seconds, and a response_url, which takes
// up to five messages within thirty minutes.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Limits of a response_url, as on Slack.
const (
	// ResponseURLUses is how many posts one response_url takes.
	ResponseURLUses = 5
	// ResponseURLTTL is how long a response_url stays usable.
	ResponseURLTTL = 30 * time.Minute
)

// trigger is an issued trigger_id: usable once, within the trigger TTL.
type trigger struct {
	issued time.Time
	used   bool
	viewID string // the view the action happened in, if any
}

// NewTriggerID issues a trigger_id as a user's action would: views.open
// and views.push accept it once, within 3s (WithTriggerTTL).
func (s *Server) NewTriggerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.newTrigger(s.now(), "")
}

// newTrigger issues a trigger_id, shaped like Slack's.
func (st *state) newTrigger(now time.Time, viewID string) string {
	st.seq++
	id := fmt.Sprintf("%d.%d.%s", 1700000000000+int64(st.seq), 1000000001, randomHex(16))
	st.triggers[id] = &trigger{issued: now, viewID: viewID}
	return id
}

// useTrigger spends a trigger_id.
func (st *state) useTrigger(cfg config, now time.Time, id string) (*trigger, *apiError) {
	t, ok := st.triggers[id]
	switch {
	case id == "":
		return nil, fail("invalid_arguments", "[ERROR] missing required field: trigger_id [json-pointer:/trigger_id]")
	case !ok:
		return nil, fail("invalid_trigger_id")
	case t.used || now.Sub(t.issued) > cfg.triggerTTL:
		return nil, fail("expired_trigger_id")
	}
	t.used = true
	return t, nil
}

// responseURL is one issued response_url.
type responseURL struct {
	channel, messageTS, user string
	issued                   time.Time
	uses                     int
}

// ResponsePost is one POST to a response_url.
type ResponsePost struct {
	Channel string
	// MessageTS is the message the URL came from (block actions), if any.
	MessageTS string
	// JSON is the body posted; Status the HTTP status answered.
	JSON   map[string]any
	Status int
	At     time.Time
}

// newResponseURLFor issues a response_url for user's slash command in
// channel, or action on the message at channel and ts; s.mu must be held.
func (s *Server) newResponseURLFor(channel, ts, user string) string {
	id := randomHex(12)
	s.st.responseURLs[id] = &responseURL{channel: channel, messageTS: ts, user: user, issued: s.now()}
	return s.URL() + "/response/" + id
}

// ResponsePosts returns every POST to a response_url, in order.
func (s *Server) ResponsePosts() []ResponsePost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.responses)
}

// serveResponseURL applies a response: replace_original updates the
// message the action came from, delete_original removes it,
// response_type "in_channel" posts a message, and anything else posts an
// ephemeral message to the user. Refused bodies get 400, used or expired
// URLs 404, as on Slack.
func (s *Server) serveResponseURL(w http.ResponseWriter, hr *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
	var body map[string]any
	s.mu.Lock()
	defer s.mu.Unlock()
	ru, ok := s.st.responseURLs[hr.PathValue("id")]
	post := ResponsePost{At: s.now()}
	status, answer := http.StatusOK, "ok"
	switch {
	case !ok:
		status, answer = http.StatusNotFound, "no_such_url"
	case ru.uses >= ResponseURLUses:
		status, answer = http.StatusNotFound, "used_url"
	case s.now().Sub(ru.issued) > ResponseURLTTL:
		status, answer = http.StatusNotFound, "expired_url"
	case json.Unmarshal(raw, &body) != nil:
		status, answer = http.StatusBadRequest, "invalid_payload"
	default:
		ru.uses++
		post.Channel, post.MessageTS, post.JSON = ru.channel, ru.messageTS, body
		if e := s.applyResponse(ru, &request{body: body}); e != nil {
			status, answer = http.StatusBadRequest, e.code
		}
	}
	post.Status = status
	s.st.responses = append(s.st.responses, post)
	s.ws.broadcast()
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
		return
	}
	writeJSON(w, status, map[string]any{"ok": true})
}

// applyResponse carries out one response_url body.
func (s *Server) applyResponse(ru *responseURL, r *request) *apiError {
	ch, ok := s.st.channels[ru.channel]
	if !ok {
		return fail("channel_not_found")
	}
	if r.str("delete_original") == "true" {
		ch.messages = slices.DeleteFunc(ch.messages, func(m *Message) bool { return m.TS == ru.messageTS })
		return nil
	}
	c, e := parseContent(r)
	if e != nil {
		return e
	}
	if c.empty() {
		return fail("no_text")
	}
	if r.str("replace_original") == "true" {
		m := s.st.message(ru.channel, ru.messageTS)
		if m == nil {
			return fail("message_not_found")
		}
		m.Text, m.Blocks, m.Attachments = c.text, c.blocks, c.attachments
		m.Edited++
		return nil
	}
	ts := s.st.nextTS(s.now())
	if r.str("response_type") == "in_channel" {
		ch.messages = append(ch.messages, &Message{
			Channel: ch.id, TS: ts, ThreadTS: r.str("thread_ts"), Text: c.text, Blocks: c.blocks,
			Attachments: c.attachments, User: BotUserID, BotID: BotID,
		})
		return nil
	}
	s.st.ephemerals = append(s.st.ephemerals, Ephemeral{
		Channel: ch.id, User: ru.user, TS: ts, ThreadTS: r.str("thread_ts"), Text: c.text, Blocks: c.blocks,
	})
	return nil
}
