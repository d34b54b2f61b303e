package slacktest

// Envelopes: what tests push to Socket Mode clients (slash commands,
// interactions, events), redelivery, and waiting for acks. After
// DeliverOverHTTP the same envelopes go to the app's request URLs
// instead (http_delivery.go), and its responses are the acks.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SlashCommand is a slash command invocation. Empty TeamID, TeamDomain,
// TriggerID and ResponseURL are filled in; the trigger_id is issued as
// NewTriggerID does. On Grid (WithGrid) TeamID is the workspace the
// command was typed in, and an empty EnterpriseID is the org's.
type SlashCommand struct {
	Command, Text      string
	UserID, UserName   string
	ChannelID          string
	ChannelName        string
	TeamID, TeamDomain string
	TriggerID          string
	ResponseURL        string
	// EnterpriseID and EnterpriseName name the Grid org (WithGrid only).
	EnterpriseID, EnterpriseName string
}

// VerificationToken is the legacy "token" field payloads carry.
const VerificationToken = "fake-verification-token"

// MaxRetries is how many times Slack redelivers an unacked event.
const MaxRetries = 3

// envelope is one Socket Mode request sent (or waiting) to a client.
type envelope struct {
	id, typ      string
	payload      json.RawMessage
	accepts      bool
	retryAttempt int
	retryReason  string
	sentAt       time.Time // real clock; zero until written
	conn         int
}

// Envelope is an envelope the server sent or queued.
type Envelope struct {
	ID                     string
	Type                   string // "slash_commands", "interactive" or "events_api"
	Payload                json.RawMessage
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
	// SentAt is when it was written (zero while queued) and Conn on which
	// connection, from 1.
	SentAt time.Time
	Conn   int
}

// EnvelopeOption sets an envelope's delivery fields.
type EnvelopeOption func(*envelope)

// WithRetry sets retry_attempt and retry_reason, as on a redelivery.
func WithRetry(attempt int, reason string) EnvelopeOption {
	return func(e *envelope) { e.retryAttempt, e.retryReason = attempt, reason }
}

// WithAcceptsResponsePayload sets accepts_response_payload.
func WithAcceptsResponsePayload(accepts bool) EnvelopeOption {
	return func(e *envelope) { e.accepts = accepts }
}

// frame is the envelope as written on the websocket.
func (e *envelope) frame() []byte {
	b, _ := json.Marshal(map[string]any{
		"envelope_id": e.id, "type": e.typ, "payload": e.payload,
		"accepts_response_payload": e.accepts, "retry_attempt": e.retryAttempt, "retry_reason": e.retryReason,
	})
	return b
}

// SendSlashCommand sends a slash command to a connected client (the next
// one, round-robin) and returns its envelope id. With no client
// connected, the envelope waits for the next connection.
func (s *Server) SendSlashCommand(cmd SlashCommand, opts ...EnvelopeOption) string {
	s.mu.Lock()
	if cmd.TeamID == "" {
		cmd.TeamID, cmd.TeamDomain = TeamID, TeamDomain
	}
	if w, ok := s.st.workspace(cmd.TeamID); ok && cmd.TeamDomain == "" {
		cmd.TeamDomain = w.Domain
	}
	grid := s.Grid()
	if grid && cmd.EnterpriseID == "" {
		cmd.EnterpriseID, cmd.EnterpriseName = EnterpriseID, EnterpriseName
	}
	if cmd.TriggerID == "" {
		cmd.TriggerID = s.st.newTrigger(s.now(), "")
	}
	if cmd.ResponseURL == "" {
		cmd.ResponseURL = s.newResponseURLFor(cmd.ChannelID, "", cmd.UserID)
	}
	s.mu.Unlock()
	payload := map[string]string{
		"token": VerificationToken, "team_id": cmd.TeamID, "team_domain": cmd.TeamDomain,
		"channel_id": cmd.ChannelID, "channel_name": cmd.ChannelName, "user_id": cmd.UserID,
		"user_name": cmd.UserName, "command": cmd.Command, "text": cmd.Text,
		"api_app_id": AppID, "is_enterprise_install": "false",
		"response_url": cmd.ResponseURL, "trigger_id": cmd.TriggerID,
	}
	if grid {
		payload["enterprise_id"], payload["enterprise_name"] = cmd.EnterpriseID, cmd.EnterpriseName
		payload["is_enterprise_install"] = "true"
	}
	return s.send("slash_commands", payload, true, opts)
}

// SendInteraction sends an interactive payload (block_actions,
// view_submission, view_closed, ...; see BlockActions and ViewSubmission)
// and returns its envelope id. accepts_response_payload defaults to true
// for view_submission only, as on Slack.
func (s *Server) SendInteraction(payload any, opts ...EnvelopeOption) string {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("slacktest: interaction payload: %v", err))
	}
	var head struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(b, &head)
	return s.send("interactive", json.RawMessage(b), head.Type == "view_submission", opts)
}

// SendEvent sends an Events API event (the inner "event" object, e.g.
// {"type":"app_home_opened","user":"U1",...}) wrapped in an event_callback
// with a fresh event_id, and returns the envelope id. On Grid the
// wrapper names the org (enterprise_id) and the org-wide installation
// (authorizations[].is_enterprise_install); see SendEventIn.
func (s *Server) SendEvent(event any, opts ...EnvelopeOption) string {
	return s.SendEventIn(TeamID, event, opts...)
}

// SendEventIn is SendEvent for an event in workspace team of the Grid
// org; without WithGrid the team is always TeamID.
func (s *Server) SendEventIn(team string, event any, opts ...EnvelopeOption) string {
	if !s.Grid() {
		team = TeamID
	}
	payload := map[string]any{
		"token": VerificationToken, "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": "Ev" + strings.ToUpper(randomID(9)),
		"event_time": s.now().Unix(), "event_context": "4-" + randomID(24),
		"authorizations": []map[string]any{{
			"enterprise_id": nil, "team_id": TeamID, "user_id": BotUserID, "is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
	}
	if s.Grid() {
		payload["team_id"], payload["enterprise_id"] = team, EnterpriseID
		payload["authorizations"] = []map[string]any{{
			"enterprise_id": EnterpriseID, "team_id": team, "user_id": BotUserID, "is_bot": true, "is_enterprise_install": true,
		}}
	}
	return s.send("events_api", payload, false, opts)
}

// SendRaw sends an envelope of any type (known or not) with any JSON
// payload, as a misbehaving Slack or proxy might, and returns its envelope
// id: for tests that a client survives envelopes it cannot read.
// accepts_response_payload is false unless set by an option.
func (s *Server) SendRaw(typ string, payload json.RawMessage, opts ...EnvelopeOption) string {
	return s.send(typ, payload, false, opts)
}

// send builds an envelope and delivers it.
func (s *Server) send(typ string, payload any, accepts bool, opts []EnvelopeOption) string {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("slacktest: payload: %v", err))
	}
	env := &envelope{id: newUUID(), typ: typ, payload: b, accepts: accepts}
	for _, o := range opts {
		o(env)
	}
	s.mu.Lock()
	s.ws.envs[env.id] = env
	s.ws.order = append(s.ws.order, env.id)
	overHTTP := s.ws.http
	s.mu.Unlock()
	if overHTTP != nil {
		s.post(overHTTP, env)
		return env.id
	}
	s.deliver(env)
	return env.id
}

// deliver writes env to the next connection, or queues it until one
// connects. A connection that fails the write is dropped and the next
// one tried.
func (s *Server) deliver(env *envelope) {
	for {
		s.mu.Lock()
		if len(s.ws.conns) == 0 || s.ws.closed {
			s.ws.pending = append(s.ws.pending, env)
			s.mu.Unlock()
			return
		}
		c := s.ws.conns[s.ws.rr%len(s.ws.conns)]
		s.ws.rr++
		env.sentAt, env.conn = time.Now(), c.id
		frame := env.frame()
		s.mu.Unlock()
		if err := c.write(frame); err == nil {
			s.watchAck(env)
			return
		}
		s.dropConn(c)
		c.close(1011, "write failed")
	}
}

// watchAck redelivers env if it is an event still unacked after the ack
// timeout (WithAckTimeout).
func (s *Server) watchAck(env *envelope) {
	if s.cfg.ackTimeout <= 0 || env.typ != "events_api" || env.retryAttempt >= MaxRetries {
		return
	}
	s.mu.Lock()
	s.ws.watching++
	s.mu.Unlock()
	time.AfterFunc(s.cfg.ackTimeout, func() {
		// Decided only after a redelivery has armed its own watch, so
		// that WaitRedeliveries never sees a gap.
		defer func() {
			s.mu.Lock()
			s.ws.watching--
			s.ws.broadcast()
			s.mu.Unlock()
		}()
		s.mu.Lock()
		acked := slices.ContainsFunc(s.ws.acks, func(a Ack) bool { return a.EnvelopeID == env.id && !a.Dropped })
		closed := s.ws.closed
		s.mu.Unlock()
		if !acked && !closed {
			s.Redeliver(env.id)
		}
	})
}

// WaitRedeliveries waits until no event envelope is waiting out its ack
// timeout (WithAckTimeout), in flight over HTTP or waiting for an HTTP
// retry: from then on no redelivery can come unless
// another envelope is sent. It reports false after timeout.
func (s *Server) WaitRedeliveries(timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool { return s.ws.watching == 0 })
}

// Redeliver sends envelopeID's payload again as Slack does when an ack is
// late: a new envelope id, retry_attempt one more, retry_reason "timeout"
// (over HTTP: X-Slack-Retry-Num one more, X-Slack-Retry-Reason
// "http_timeout"). It returns the new envelope id, or "" for an unknown
// envelope.
func (s *Server) Redeliver(envelopeID string) string {
	s.mu.Lock()
	reason := "timeout"
	if s.ws.http != nil {
		reason = "http_timeout"
	}
	s.mu.Unlock()
	return s.redeliver(envelopeID, reason)
}

// redeliver sends envelopeID's payload again with the given retry reason.
func (s *Server) redeliver(envelopeID, reason string) string {
	s.mu.Lock()
	old, ok := s.ws.envs[envelopeID]
	s.mu.Unlock()
	if !ok {
		return ""
	}
	return s.send(old.typ, old.payload, old.accepts, []EnvelopeOption{WithRetry(old.retryAttempt+1, reason)})
}

// Envelopes returns every envelope sent or queued, in order.
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Envelope, 0, len(s.ws.order))
	for _, id := range s.ws.order {
		e := s.ws.envs[id]
		out = append(out, Envelope{
			ID: e.id, Type: e.typ, Payload: e.payload, AcceptsResponsePayload: e.accepts,
			RetryAttempt: e.retryAttempt, RetryReason: e.retryReason, SentAt: e.sentAt, Conn: e.conn,
		})
	}
	return out
}

// Acks returns every frame clients sent, dropped ones included, in order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ack, len(s.ws.acks))
	copy(out, s.ws.acks)
	return out
}

// WaitAck waits for the first ack of envelopeID. It returns the ack and
// true, or the ack and false when Slack would have dropped it (Dropped),
// or a zero Ack and false after timeout.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) (Ack, bool) {
	var found Ack
	ok := s.waitFor(timeout, func() bool {
		for _, a := range s.ws.acks {
			if a.EnvelopeID == envelopeID {
				found = a
				return true
			}
		}
		return false
	})
	return found, ok && !found.Dropped
}
