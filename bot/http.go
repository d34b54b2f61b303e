package bot

// HTTP mode: Slack POSTs slash commands, interactions and Events API
// events to the app's request URLs instead of sending them over a Socket
// Mode connection. Every request is verified with the app's signing
// secret before anything in it is read (slack-go's SecretsVerifier:
// X-Slack-Signature, v0 HMAC-SHA256 over "v0:timestamp:body", a timestamp
// within 5 minutes, a constant-time compare); what fails is refused with
// 401 and never handled. What passes goes to the same dispatch as Socket
// Mode, and the HTTP response is the ack.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The request URLs' paths, under the app's public base URL (the HTTP
// manifest's slash command url, interactivity request_url and
// event_subscriptions request_url).
const (
	CommandsPath      = "/slack/commands"
	InteractivityPath = "/slack/interactivity"
	EventsPath        = "/slack/events"
)

// DefaultMaxBody caps a request's body: Slack's largest payloads (a
// modal of 100 blocks with its state) stay well under it.
const DefaultMaxBody = 1 << 20

// HTTPHandler serves the request URLs: POST CommandsPath (slash commands,
// form-encoded), POST InteractivityPath (block_actions, view_submission
// and the rest, JSON in the payload form field) and POST EventsPath
// (Events API JSON: url_verification is answered with its challenge,
// event_callback handled once per event_id). A request whose signature,
// timestamp or size is refused gets 401 (413 for the size) and is not
// handled; once Run has returned, requests get 503.
func (b *Bot) HTTPHandler() http.Handler {
	b.init()
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+CommandsPath, b.verified(b.serveCommand))
	mux.HandleFunc("POST "+InteractivityPath, b.verified(b.serveInteraction))
	mux.HandleFunc("POST "+EventsPath, b.verified(b.serveEvent))
	return mux
}

// verified wraps a handler of verified bodies: it counts the request as
// work (Run waits for it), caps and verifies the body, and refuses
// anything that does not pass.
func (b *Bot) verified(handle func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !b.work.enter() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "attest is stopping", http.StatusServiceUnavailable)
			return
		}
		defer b.work.done()
		body, ok := b.verify(w, r)
		if !ok {
			return
		}
		handle(w, r, body)
	}
}

// verify reads the body of r, at most MaxBody bytes, and checks Slack's
// signature over it; it answers the refusal itself and returns false when
// the request is not Slack's.
func (b *Bot) verify(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	log := b.Log.With().Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Logger()
	if b.SigningSecret == "" {
		log.Error().Msg("slack request refused: no signing secret configured (slack.signing_secret)")
		http.Error(w, "not verified", http.StatusUnauthorized)
		return nil, false
	}
	if r.ContentLength > b.MaxBody {
		log.Warn().Int64("bytes", r.ContentLength).Int64("max", b.MaxBody).Msg("slack request refused: body too large")
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	// The headers are checked before the body is read: a request without
	// a fresh timestamp costs nothing more.
	sv, err := slack.NewSecretsVerifier(r.Header, b.SigningSecret)
	if err != nil {
		log.Warn().Str("reason", refusal(err)).Msg("slack request refused")
		http.Error(w, "not verified", http.StatusUnauthorized)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn().Int64("max", b.MaxBody).Msg("slack request refused: body too large")
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return nil, false
		}
		log.Warn().Err(err).Msg("slack request refused: body unreadable")
		http.Error(w, "body unreadable", http.StatusBadRequest)
		return nil, false
	}
	_, err = sv.Write(body)
	if err == nil {
		err = sv.Ensure()
	}
	if err != nil {
		log.Warn().Str("reason", refusal(err)).Msg("slack request refused")
		http.Error(w, "not verified", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// refusal says why a signature check failed, for the log: never the
// signature itself.
func refusal(err error) string {
	switch {
	case errors.Is(err, slack.ErrMissingHeaders):
		return "no X-Slack-Signature or X-Slack-Request-Timestamp"
	case errors.Is(err, slack.ErrExpiredTimestamp):
		return "timestamp more than 5 minutes from now (an old or replayed request, or a clock off)"
	case errors.Is(err, slack.ErrInvalidSignature):
		return "signature does not match the signing secret"
	}
	return "malformed signature headers"
}

// httpRequest is the request whose ack is the HTTP response: answer
// waits for it.
func httpRequest(raw json.RawMessage) (*request, <-chan any) {
	acks := make(chan any, 1)
	return &request{send: func(payload any) { acks <- payload }, raw: raw}, acks
}

// answer writes the ack as the response: 200 with an empty body for a
// bare ack, else 200 with the JSON payload. The dispatch acks within
// ReplyWithin; should it not, a bare 200 goes out a second later rather
// than Slack's timeout error.
func (b *Bot) answer(w http.ResponseWriter, r *http.Request, acks <-chan any) {
	var payload any
	timer := time.NewTimer(b.ReplyWithin + time.Second)
	defer timer.Stop()
	select {
	case payload = <-acks:
	case <-timer.C:
		b.Log.Error().Str("path", r.URL.Path).Msg("no ack within the reply time; answered with a bare 200")
	case <-r.Context().Done():
		return
	}
	if payload == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		b.Log.Error().Err(err).Str("path", r.URL.Path).Msg("ack payload not encodable; answered with a bare 200")
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
}

// serveCommand hands a slash command to the dispatch; its answer (or
// SlowReply) is the response.
func (b *Bot) serveCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	form := r.Clone(r.Context())
	form.Body, form.Form, form.PostForm = io.NopCloser(bytes.NewReader(body)), nil, nil
	cmd, err := slack.SlashCommandParse(form)
	req, acks := httpRequest(nil)
	if err != nil {
		b.Log.Warn().Err(err).Msg("unreadable slash command answered with an error")
		req.ack(replyPayload(MalformedText, nil))
	} else {
		b.slash(context.WithoutCancel(r.Context()), req, cmd)
	}
	b.answer(w, r, acks)
}

// serveInteraction hands an interaction to the dispatch: a click is
// answered 200 at once and handled after; a modal submission's verdict
// (field errors, a replaced modal) is the response.
func (b *Bot) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	raw := json.RawMessage(form.Get("payload"))
	req, acks := httpRequest(raw)
	var cb slack.InteractionCallback
	if err == nil && len(raw) > 0 {
		err = json.Unmarshal(raw, &cb)
	} else if err == nil {
		err = errors.New("no payload field")
	}
	if err != nil {
		b.Log.Warn().Err(err).Str("type", string(interactionType(raw))).Msg("malformed interaction answered with an error")
		var payload any
		if interactionType(raw) == slack.InteractionTypeViewSubmission {
			payload = errorView(MalformedText)
		}
		req.ack(payload)
	} else {
		b.interactive(context.WithoutCancel(r.Context()), req, cb)
	}
	b.answer(w, r, acks)
}

// serveEvent answers url_verification with its challenge and acks an
// event_callback with 200 before it is handled; a retry of an event
// already handled (X-Slack-Retry-Num, same event_id) is acked and
// dropped by the dispatch.
func (b *Bot) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	var head struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		EventID   string `json:"event_id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		// Slack would send the same bytes again: acknowledge and drop.
		b.Log.Warn().Err(err).Msg("unreadable Events API request dropped")
		w.WriteHeader(http.StatusOK)
		return
	}
	switch head.Type {
	case slackevents.URLVerification:
		raw, _ := json.Marshal(slackevents.ChallengeResponse{Challenge: head.Challenge})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(raw)
		b.Log.Info().Msg("slack url_verification answered")
		return
	case slackevents.CallbackEvent:
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusOK)
		b.Log.Debug().Str("type", head.Type).Msg("Events API request of another type acknowledged")
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		b.Log.Info().Str("event_id", head.EventID).Str("retry", n).Str("reason", r.Header.Get("X-Slack-Retry-Reason")).
			Msg("slack retried an event")
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		b.Log.Warn().Err(err).Str("event_id", head.EventID).Msg("unreadable event dropped")
		return
	}
	b.event(context.WithoutCancel(r.Context()), ev, head.EventID)
}
