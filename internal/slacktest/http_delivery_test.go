package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

const testSecret = "e7a1f0c4d2b3a5968778695a4b3c2d1e"

// app is a toy app behind request URLs: it verifies every request with
// slack-go's SecretsVerifier and answers with status (200 unless set).
type app struct {
	mu       sync.Mutex
	status   int
	noRetry  bool
	bodies   map[string][]string // path -> bodies of verified requests
	headers  []http.Header
	refusals int
	respond  func(path string, body []byte) (string, []byte)
}

func startApp(t *testing.T) (*app, *httptest.Server) {
	t.Helper()
	a := &app{status: http.StatusOK, bodies: map[string][]string{}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sv, err := slack.NewSecretsVerifier(r.Header, testSecret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if err != nil {
			a.refusals++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		a.bodies[r.URL.Path] = append(a.bodies[r.URL.Path], string(body))
		a.headers = append(a.headers, r.Header.Clone())
		if a.noRetry {
			w.Header().Set("X-Slack-No-Retry", "1")
		}
		if a.respond != nil && a.status == http.StatusOK {
			ct, out := a.respond(r.URL.Path, body)
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write(out)
			return
		}
		w.WriteHeader(a.status)
	}))
	t.Cleanup(ts.Close)
	return a, ts
}

func (a *app) count(path string) int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.bodies[path]) }

func httpServer(t *testing.T, ts *httptest.Server, tweak func(*HTTPDelivery)) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	d := HTTPDelivery{SigningSecret: testSecret, CommandURL: ts.URL + "/cmd", InteractivityURL: ts.URL + "/int",
		EventsURL: ts.URL + "/ev", RetryDelays: []time.Duration{0, time.Millisecond, time.Millisecond}}
	if tweak != nil {
		tweak(&d)
	}
	s.DeliverOverHTTP(d)
	return s
}

// Each kind of request goes to its URL in Slack's encoding, signed so
// that slack-go's verifier accepts it, and the response is the ack.
func TestHTTPDeliveryEncodingsAndAcks(t *testing.T) {
	a, ts := startApp(t)
	a.respond = func(path string, body []byte) (string, []byte) {
		if path == "/cmd" {
			return "application/json", []byte(`{"response_type":"ephemeral","text":"hi"}`)
		}
		return "text/plain", nil
	}
	s := httpServer(t, ts, nil)
	s.AddChannel("C1", "general")
	id := s.SendSlashCommand(SlashCommand{Command: "/attest", Text: "status 1", UserID: "U1", UserName: "ann", ChannelID: "C1"})
	ack, ok := s.WaitAck(id, wait)
	if !ok || !strings.Contains(string(ack.Payload), `"text":"hi"`) {
		t.Fatalf("slash ack = %s, %v", ack.Payload, ok)
	}
	req, _ := s.WaitHTTP(id, wait)
	if ct := req.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("slash content type %q", ct)
	}
	r := httptest.NewRequest(http.MethodPost, "/cmd", strings.NewReader(string(req.Body)))
	r.Header.Set("Content-Type", req.Header.Get("Content-Type"))
	cmd, err := slack.SlashCommandParse(r)
	if err != nil || cmd.Command != "/attest" || cmd.Text != "status 1" || cmd.UserID != "U1" || cmd.TriggerID == "" || cmd.TeamID != TeamID {
		t.Fatalf("slash command as the app parses it: %+v, %v", cmd, err)
	}

	sub := map[string]any{"type": "view_submission", "user": map[string]any{"id": "U1"}, "view": map[string]any{"id": "V1"}}
	id = s.SendInteraction(sub)
	if _, ok := s.WaitAck(id, wait); !ok {
		t.Fatal("interaction not acked")
	}
	req, _ = s.WaitHTTP(id, wait)
	r = httptest.NewRequest(http.MethodPost, "/int", strings.NewReader(string(req.Body)))
	r.Header.Set("Content-Type", req.Header.Get("Content-Type"))
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(r.PostFormValue("payload")), &cb); err != nil || cb.Type != slack.InteractionTypeViewSubmission || cb.View.ID != "V1" {
		t.Fatalf("interaction as the app parses it: %+v, %v", cb, err)
	}

	id = s.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"})
	if _, ok := s.WaitAck(id, wait); !ok {
		t.Fatal("event not acked")
	}
	req, _ = s.WaitHTTP(id, wait)
	ev, err := slackevents.ParseEvent(req.Body, slackevents.OptionNoVerifyToken())
	if err != nil || req.Header.Get("Content-Type") != "application/json" || ev.Type != slackevents.CallbackEvent {
		t.Fatalf("event as the app parses it: %+v, %v", ev, err)
	}
	if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); !ok || home.User != "U1" {
		t.Fatalf("inner event %#v", ev.InnerEvent.Data)
	}
	if a.refusals != 0 || a.count("/cmd") != 1 || a.count("/int") != 1 || a.count("/ev") != 1 {
		t.Fatalf("app saw refusals %d, bodies %v", a.refusals, a.bodies)
	}
}

// An event the app does not acknowledge is retried with X-Slack-Retry-Num
// 1..3 and the reason, the same event_id each time; a slash command or an
// interaction is never retried.
func TestHTTPRetries(t *testing.T) {
	a, ts := startApp(t)
	a.status = http.StatusInternalServerError
	s := httpServer(t, ts, nil)
	id := s.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"})
	if _, ok := s.WaitHTTP(id, wait); !ok {
		t.Fatal("event never delivered")
	}
	if !s.WaitRedeliveries(wait) {
		t.Fatal("retries never ended")
	}
	if got := a.count("/ev"); got != 1+MaxRetries {
		t.Fatalf("event delivered %d times, want %d", got, 1+MaxRetries)
	}
	ids := map[string]bool{}
	for i, h := range a.headers {
		if n := h.Get("X-Slack-Retry-Num"); i == 0 && n != "" || i > 0 && (n != string(rune('0'+i)) || h.Get("X-Slack-Retry-Reason") != "http_error") {
			t.Errorf("delivery %d: retry num %q reason %q", i, n, h.Get("X-Slack-Retry-Reason"))
		}
	}
	for _, b := range a.bodies["/ev"] {
		var head struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal([]byte(b), &head)
		ids[head.EventID] = true
	}
	if len(ids) != 1 {
		t.Errorf("retries carry event ids %v, want one", ids)
	}
	if _, ok := s.WaitAck(id, 0); ok {
		t.Error("a 500 was recorded as an ack")
	}

	cmd := s.SendSlashCommand(SlashCommand{Command: "/attest", UserID: "U1"})
	if r, _ := s.WaitHTTP(cmd, wait); r.Status != http.StatusInternalServerError {
		t.Fatalf("slash status %d", r.Status)
	}
	if !s.WaitRedeliveries(wait) || a.count("/cmd") != 1 {
		t.Fatalf("slash command delivered %d times, want once", a.count("/cmd"))
	}
}

// A slow app is retried for http_timeout; X-Slack-No-Retry stops retries.
func TestHTTPRetryReasons(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var reasons []string
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			reasons = append(reasons, r.Header.Get("X-Slack-Retry-Reason"))
			n := len(reasons)
			mu.Unlock()
			if n == 1 {
				<-release
			}
		}))
		defer ts.Close()
		defer close(release)
		s := httpServer(t, ts, func(d *HTTPDelivery) { d.Timeout = 200 * time.Millisecond })
		id := s.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1"})
		if r, _ := s.WaitHTTP(id, wait); r.Err == "" {
			t.Fatalf("first delivery %+v, want a timeout", r)
		}
		if !s.WaitRedeliveries(wait) {
			t.Fatal("no retry")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reasons) != 2 || reasons[1] != "http_timeout" {
			t.Fatalf("retry reasons %q, want one retry for http_timeout", reasons)
		}
	})
	t.Run("no retry", func(t *testing.T) {
		a, ts := startApp(t)
		a.status, a.noRetry = http.StatusServiceUnavailable, true
		s := httpServer(t, ts, nil)
		id := s.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1"})
		s.WaitHTTP(id, wait)
		if !s.WaitRedeliveries(wait) || a.count("/ev") != 1 {
			t.Fatalf("delivered %d times despite X-Slack-No-Retry", a.count("/ev"))
		}
	})
}

// A wrong secret or a request stamped more than five minutes ago is what
// a verifying app refuses; Replay resends the exact bytes.
func TestHTTPSignaturesAndReplay(t *testing.T) {
	a, ts := startApp(t)
	for _, tweak := range []func(*HTTPDelivery){
		func(d *HTTPDelivery) { d.SigningSecret = "another-secret" },
		func(d *HTTPDelivery) { d.Now = func() time.Time { return time.Now().Add(-6 * time.Minute) } },
	} {
		s := httpServer(t, ts, func(d *HTTPDelivery) { tweak(d); d.RetryDelays = []time.Duration{0} })
		id := s.SendSlashCommand(SlashCommand{Command: "/attest", UserID: "U1"})
		if r, _ := s.WaitHTTP(id, wait); r.Status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", r.Status)
		}
	}
	if a.refusals != 2 || a.count("/cmd") != 0 {
		t.Fatalf("refusals %d, accepted %d", a.refusals, a.count("/cmd"))
	}
	s := httpServer(t, ts, nil)
	id := s.SendSlashCommand(SlashCommand{Command: "/attest", UserID: "U1"})
	first, _ := s.WaitHTTP(id, wait)
	again, err := s.Replay(id)
	if err != nil || again.Status != http.StatusOK || string(again.Body) != string(first.Body) ||
		again.Header.Get("X-Slack-Signature") != first.Header.Get("X-Slack-Signature") {
		t.Fatalf("replay %+v, %v", again, err)
	}
	if a.count("/cmd") != 2 {
		t.Fatalf("app saw %d commands, want the original and the replay", a.count("/cmd"))
	}
	if _, err := New().Replay("nope"); err == nil {
		t.Error("replay of an unknown delivery succeeded")
	}
}

// url_verification: verified when the app echoes the challenge, not when
// it answers anything else.
func TestVerifyEventsURL(t *testing.T) {
	a, ts := startApp(t)
	a.respond = func(_ string, body []byte) (string, []byte) {
		var v struct {
			Challenge string `json:"challenge"`
		}
		_ = json.Unmarshal(body, &v)
		return "application/json", []byte(`{"challenge":"` + v.Challenge + `"}`)
	}
	s := httpServer(t, ts, nil)
	if _, err := s.VerifyEventsURL(); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.respond = func(string, []byte) (string, []byte) { return "text/plain", []byte("ok") }
	a.mu.Unlock()
	if _, err := s.VerifyEventsURL(); err == nil || !strings.Contains(err.Error(), "lacks the challenge") {
		t.Fatalf("an answer without the challenge: %v", err)
	}
	if len(s.Acks()) != 0 {
		t.Errorf("url_verification recorded as acks: %+v", s.Acks())
	}
}

// The HTTP manifest's request URLs, moved onto a test server's host.
func TestHTTPDeliveryForShippedManifest(t *testing.T) {
	m, err := LoadManifest(filepath.Join("..", "..", "deploy", "slack-app-manifest-http.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := HTTPDeliveryFor(m, "http://127.0.0.1:9", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if d.CommandURLs["/access-review"] != "http://127.0.0.1:9/slack/commands" ||
		d.InteractivityURL != "http://127.0.0.1:9/slack/interactivity" || d.EventsURL != "http://127.0.0.1:9/slack/events" {
		t.Fatalf("delivery %+v", d)
	}
	socket, err := LoadManifest(filepath.Join("..", "..", "deploy", "slack-app-manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := HTTPDeliveryFor(socket, "http://127.0.0.1:9", testSecret); err == nil {
		t.Fatal("a Socket Mode manifest has request URLs?")
	}
}
