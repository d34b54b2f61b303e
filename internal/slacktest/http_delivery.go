package slacktest

// Delivery over HTTP, as Slack does for an app with request URLs instead
// of Socket Mode: slash commands are POSTed form-encoded to the command's
// URL, interactions as a payload= form field to the interactivity URL,
// events as JSON to the event subscriptions URL; each signed with the
// app's signing secret (X-Slack-Request-Timestamp, X-Slack-Signature
// "v0=" + hex HMAC-SHA256 over "v0:timestamp:body"). The app's response
// is its ack: a 2xx within the timeout (3 s on Slack), its body the ack's
// payload. An event not acknowledged so is retried, as Slack does, with
// X-Slack-Retry-Num and X-Slack-Retry-Reason (http_timeout, http_error,
// connection_failed), at most MaxRetries times, unless the app answered
// with X-Slack-No-Retry: 1. Slash commands and interactions are not
// retried: Slack shows the user an error instead.
//
// The Send* methods, Redeliver, WaitAck and Acks work the same over both
// deliveries; DeliverOverHTTP switches a server to HTTP.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// HTTPDelivery says where and how Slack POSTs an app's requests.
type HTTPDelivery struct {
	// SigningSecret signs every request.
	SigningSecret string
	// CommandURLs maps a slash command ("/access-review") to its request
	// URL; CommandURL serves the commands not listed.
	CommandURLs map[string]string
	CommandURL  string
	// InteractivityURL receives block_actions, view_submission and the
	// other interactions; EventsURL the Events API.
	InteractivityURL, EventsURL string
	// Timeout is how long Slack waits for the response (default 3 s).
	Timeout time.Duration
	// RetryDelays are the waits before the retries of an event delivery
	// that failed: Slack retries nearly at once, after a minute and after
	// five (the default).
	RetryDelays []time.Duration
	// Now stamps X-Slack-Request-Timestamp (default time.Now, the real
	// clock, which the app checks against its own): a clock in the past
	// sends what a request captured then and replayed now looks like.
	Now func() time.Time
}

// HTTPRequest is one request the server POSTed to the app, and what the
// app answered.
type HTTPRequest struct {
	EnvelopeID string // the delivery's id, as Envelope.ID
	URL        string
	Header     http.Header
	Body       []byte
	// Status is the response's status (0 when none came: Err says why),
	// Response its body and ResponseHeader its headers.
	Status         int
	Response       []byte
	ResponseHeader http.Header
	Err            string
	// RetryNum is X-Slack-Retry-Num (0 on a first delivery).
	RetryNum int
	Latency  time.Duration
}

// Sign returns the X-Slack-Signature of body sent at timestamp (Unix
// seconds, as in X-Slack-Request-Timestamp).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", timestamp)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// HTTPDeliveryFor is the delivery of an app installed with manifest m
// (its slash commands' url, interactivity request_url and
// event_subscriptions request_url) running at base: each URL keeps its
// path and gets base's scheme and host. It fails when the manifest lacks
// a request URL.
func HTTPDeliveryFor(m Manifest, base, secret string) (HTTPDelivery, error) {
	b, err := url.Parse(base)
	if err != nil || b.Host == "" {
		return HTTPDelivery{}, fmt.Errorf("slacktest: base URL %q: want scheme://host", base)
	}
	rebase := func(what, raw string) (string, error) {
		u, err := url.Parse(raw)
		if raw == "" || err != nil || u.Host == "" {
			return "", fmt.Errorf("slacktest: manifest: %s %q is not a request URL", what, raw)
		}
		u.Scheme, u.Host = b.Scheme, b.Host
		return u.String(), nil
	}
	d := HTTPDelivery{SigningSecret: secret, CommandURLs: map[string]string{}}
	for cmd, raw := range m.CommandURLs {
		if d.CommandURLs[cmd], err = rebase("the url of "+cmd, raw); err != nil {
			return HTTPDelivery{}, err
		}
	}
	if len(d.CommandURLs) < len(m.Commands) {
		return HTTPDelivery{}, fmt.Errorf("slacktest: manifest: a slash command of %v has no url", m.Commands)
	}
	if d.InteractivityURL, err = rebase("settings.interactivity.request_url", m.InteractivityURL); err != nil {
		return HTTPDelivery{}, err
	}
	if d.EventsURL, err = rebase("settings.event_subscriptions.request_url", m.EventsURL); err != nil {
		return HTTPDelivery{}, err
	}
	return d, nil
}

// DeliverOverHTTP makes the server deliver every later slash command,
// interaction and event (redeliveries included) to the app over HTTP as d
// says, instead of over Socket Mode.
func (s *Server) DeliverOverHTTP(d HTTPDelivery) {
	if d.Timeout <= 0 {
		d.Timeout = 3 * time.Second
	}
	if d.RetryDelays == nil {
		d.RetryDelays = []time.Duration{0, time.Minute, 5 * time.Minute}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws.http = &d
	if s.ws.httpClient == nil {
		// Its own connections, closed with the server: no goroutine of
		// a kept-alive connection outlives a test.
		s.ws.httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
}

// client is the HTTP client of the deliveries.
func (s *Server) client() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws.httpClient == nil {
		return http.DefaultClient
	}
	return s.ws.httpClient
}

// closeHTTP drops the idle connections of the deliveries.
func (s *Server) closeHTTP() {
	if c := s.client(); c != http.DefaultClient {
		c.CloseIdleConnections()
	}
}

// httpTarget is where an envelope goes over HTTP, and in which encoding.
func (d *HTTPDelivery) httpTarget(env *envelope) (target, contentType string, body []byte, err error) {
	const form = "application/x-www-form-urlencoded"
	switch env.typ {
	case "slash_commands":
		var fields map[string]string
		if err := json.Unmarshal(env.payload, &fields); err != nil {
			return "", "", nil, fmt.Errorf("slash command payload: %w", err)
		}
		v := url.Values{}
		for k, f := range fields {
			v.Set(k, f)
		}
		target = d.CommandURLs[fields["command"]]
		if target == "" {
			target = d.CommandURL
		}
		return target, form, []byte(v.Encode()), nil
	case "interactive":
		return d.InteractivityURL, form, []byte(url.Values{"payload": {string(env.payload)}}.Encode()), nil
	case "events_api":
		return d.EventsURL, "application/json", env.payload, nil
	}
	return "", "", nil, fmt.Errorf("no request URL takes envelopes of type %q", env.typ)
}

// post delivers env to the app over HTTP on a goroutine of its own, and
// records the request, the response and, for a 2xx in time, the ack.
func (s *Server) post(d *HTTPDelivery, env *envelope) {
	// Counted under the lock that Close takes to set closed, so that no
	// request starts once Close waits for them.
	s.mu.Lock()
	if s.ws.closed {
		s.mu.Unlock()
		return
	}
	s.handlers.Add(1)
	// An event in flight counts for WaitRedeliveries until its outcome,
	// and with it any retry, is recorded.
	event := env.typ == "events_api"
	if event {
		s.ws.watching++
	}
	s.mu.Unlock()
	go func() {
		defer s.handlers.Done()
		if event {
			defer func() {
				s.mu.Lock()
				s.ws.watching--
				s.ws.broadcast()
				s.mu.Unlock()
			}()
		}
		target, contentType, body, err := d.httpTarget(env)
		rec := HTTPRequest{EnvelopeID: env.id, URL: target, Body: body, RetryNum: env.retryAttempt, Header: http.Header{}}
		if err != nil || target == "" {
			rec.Err = fmt.Sprintf("slacktest: %v (no request URL configured)", err)
			s.recordHTTP(rec, nil, env)
			return
		}
		ts := strconv.FormatInt(d.Now().Unix(), 10)
		rec.Header.Set("Content-Type", contentType)
		rec.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
		rec.Header.Set("X-Slack-Request-Timestamp", ts)
		rec.Header.Set("X-Slack-Signature", Sign(d.SigningSecret, ts, body))
		if env.retryAttempt > 0 {
			rec.Header.Set("X-Slack-Retry-Num", strconv.Itoa(env.retryAttempt))
			rec.Header.Set("X-Slack-Retry-Reason", env.retryReason)
		}
		s.send1(d, rec, env)
	}()
}

// send1 makes one request as rec describes and records it.
func (s *Server) send1(d *HTTPDelivery, rec HTTPRequest, env *envelope) {
	ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rec.URL, bytes.NewReader(rec.Body))
	if err != nil {
		rec.Err = err.Error()
		s.recordHTTP(rec, nil, env)
		return
	}
	req.Header = rec.Header.Clone()
	start := time.Now()
	s.mu.Lock()
	env.sentAt = start
	s.mu.Unlock()
	resp, err := s.client().Do(req)
	if err == nil {
		rec.Response, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		rec.Status, rec.ResponseHeader = resp.StatusCode, resp.Header
	}
	rec.Latency = time.Since(start)
	if err != nil {
		rec.Err = err.Error()
	}
	s.recordHTTP(rec, err, env)
}

// recordHTTP records a request and its outcome: an ack for a 2xx in
// time, a retry for an event that got none.
func (s *Server) recordHTTP(rec HTTPRequest, err error, env *envelope) {
	ok := rec.Err == "" && rec.Status >= 200 && rec.Status < 300
	s.mu.Lock()
	s.ws.httpLog = append(s.ws.httpLog, rec)
	if ok && env.typ != "url_verification" {
		payload := ackPayload(rec.Response)
		s.ws.acks = append(s.ws.acks, Ack{EnvelopeID: env.id, Payload: payload, Raw: rec.Response,
			Size: len(rec.Response), Latency: rec.Latency, At: time.Now()})
	}
	d := s.ws.http
	retry := !ok && d != nil && env.typ == "events_api" && env.retryAttempt < MaxRetries && !s.ws.closed &&
		rec.ResponseHeader.Get("X-Slack-No-Retry") != "1" && rec.URL != ""
	if retry {
		s.ws.watching++
	}
	s.ws.broadcast()
	s.mu.Unlock()
	if !retry {
		return
	}
	reason := "http_error"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		reason = "http_timeout"
	case err != nil:
		reason = "connection_failed"
	}
	delay := d.RetryDelays[min(env.retryAttempt, len(d.RetryDelays)-1)]
	time.AfterFunc(delay, func() {
		defer func() {
			s.mu.Lock()
			s.ws.watching--
			s.ws.broadcast()
			s.mu.Unlock()
		}()
		s.mu.Lock()
		closed := s.ws.closed
		s.mu.Unlock()
		if !closed {
			s.redeliver(env.id, reason)
		}
	})
}

// ackPayload is the ack payload an HTTP response body stands for: the
// JSON itself, or a plain-text body as the message text Slack shows; nil
// for an empty body.
func ackPayload(body []byte) json.RawMessage {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if json.Valid(body) {
		return json.RawMessage(bytes.Clone(body))
	}
	raw, _ := json.Marshal(map[string]string{"text": string(body)})
	return raw
}

// HTTPRequests returns every request delivered over HTTP, in the order
// their outcomes came.
func (s *Server) HTTPRequests() []HTTPRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]HTTPRequest, len(s.ws.httpLog))
	copy(out, s.ws.httpLog)
	return out
}

// WaitHTTP waits for the outcome of the HTTP delivery of envelopeID and
// returns it; false after timeout.
func (s *Server) WaitHTTP(envelopeID string, timeout time.Duration) (HTTPRequest, bool) {
	var found HTTPRequest
	ok := s.waitFor(timeout, func() bool {
		for _, r := range s.ws.httpLog {
			if r.EnvelopeID == envelopeID {
				found = r
				return true
			}
		}
		return false
	})
	return found, ok
}

// Replay sends the HTTP request of envelopeID again byte for byte (same
// body, timestamp and signature), as someone who captured it would, and
// returns the outcome; it is not retried. It fails for a delivery that
// was never made over HTTP.
func (s *Server) Replay(envelopeID string) (HTTPRequest, error) {
	s.mu.Lock()
	var orig *HTTPRequest
	for i := range s.ws.httpLog {
		if s.ws.httpLog[i].EnvelopeID == envelopeID && s.ws.httpLog[i].URL != "" {
			orig = &s.ws.httpLog[i]
			break
		}
	}
	d := s.ws.http
	s.mu.Unlock()
	if orig == nil || d == nil {
		return HTTPRequest{}, fmt.Errorf("slacktest: no HTTP delivery of %s to replay", envelopeID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, orig.URL, bytes.NewReader(orig.Body))
	if err != nil {
		return HTTPRequest{}, err
	}
	req.Header = orig.Header.Clone()
	rec := HTTPRequest{EnvelopeID: envelopeID, URL: orig.URL, Header: orig.Header.Clone(), Body: orig.Body, RetryNum: orig.RetryNum}
	start := time.Now()
	resp, err := s.client().Do(req)
	if err != nil {
		return rec, err
	}
	defer resp.Body.Close()
	rec.Response, _ = io.ReadAll(resp.Body)
	rec.Status, rec.ResponseHeader, rec.Latency = resp.StatusCode, resp.Header, time.Since(start)
	return rec, nil
}

// VerifyEventsURL sends the url_verification request Slack sends when an
// app's event subscriptions request URL is set, signed like any other,
// and checks the answer as Slack does: a 200 whose body carries the
// challenge (as JSON {"challenge":...}, a form challenge=..., or the bare
// value). It returns the request, and an error saying why Slack would
// call the URL unverified.
func (s *Server) VerifyEventsURL() (HTTPRequest, error) {
	s.mu.Lock()
	d := s.ws.http
	s.mu.Unlock()
	if d == nil || d.EventsURL == "" {
		return HTTPRequest{}, errors.New("slacktest: no events request URL (DeliverOverHTTP)")
	}
	challenge := randomHex(24)
	body, _ := json.Marshal(map[string]string{"token": VerificationToken, "challenge": challenge, "type": "url_verification"})
	ts := strconv.FormatInt(d.Now().Unix(), 10)
	rec := HTTPRequest{EnvelopeID: "url_verification:" + challenge, URL: d.EventsURL, Body: body, Header: http.Header{}}
	rec.Header.Set("Content-Type", "application/json")
	rec.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	rec.Header.Set("X-Slack-Request-Timestamp", ts)
	rec.Header.Set("X-Slack-Signature", Sign(d.SigningSecret, ts, body))
	s.send1(d, rec, &envelope{id: rec.EnvelopeID, typ: "url_verification"})
	got, _ := s.WaitHTTP(rec.EnvelopeID, 0)
	if got.Err != "" || got.Status != http.StatusOK {
		return got, fmt.Errorf("slacktest: url_verification answered %d %s", got.Status, got.Err)
	}
	var answer struct {
		Challenge string `json:"challenge"`
	}
	text := string(bytes.TrimSpace(got.Response))
	if json.Unmarshal(got.Response, &answer) == nil && answer.Challenge == challenge {
		return got, nil
	}
	if form, err := url.ParseQuery(text); err == nil && form.Get("challenge") == challenge || text == challenge {
		return got, nil
	}
	return got, fmt.Errorf("slacktest: url_verification answer %q lacks the challenge", got.Response)
}
