package slacktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// frame is what the server writes on the websocket.
type frame struct {
	Type           string          `json:"type"`
	EnvelopeID     string          `json:"envelope_id"`
	Payload        json.RawMessage `json:"payload"`
	NumConnections int             `json:"num_connections"`
	RetryAttempt   int             `json:"retry_attempt"`
	Reason         string          `json:"reason"`
	DebugInfo      struct {
		Host                      string `json:"host"`
		ApproximateConnectionTime int    `json:"approximate_connection_time"`
	} `json:"debug_info"`
	ConnectionInfo struct {
		AppID string `json:"app_id"`
	} `json:"connection_info"`
}

// openURL asks apps.connections.open for a websocket URL.
func openURL(t *testing.T, s *Server) string {
	t.Helper()
	_, url, err := s.Client().StartSocketModeContext(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// dial connects a raw websocket client and reads its hello.
func dial(t *testing.T, s *Server) (*websocket.Conn, frame) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(openURL(t, s), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, read(t, ws)
}

// read reads the next text frame.
func read(t *testing.T, ws *websocket.Conn) frame {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	var f frame
	if err := ws.ReadJSON(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestHelloAndTickets(t *testing.T) {
	s, _ := start(t)
	url := openURL(t, s)
	if !strings.HasPrefix(url, "ws://127.0.0.1:") || !strings.Contains(url, "/link/?ticket=") {
		t.Fatalf("url %q", url)
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	hello := read(t, ws)
	if hello.Type != "hello" || hello.NumConnections != 1 || hello.DebugInfo.Host != "fake" ||
		hello.DebugInfo.ApproximateConnectionTime != 18060 || hello.ConnectionInfo.AppID != AppID {
		t.Errorf("hello %+v", hello)
	}
	_, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("second use of the URL: %v", err)
	}
	_, second := dial(t, s)
	if second.NumConnections != 2 {
		t.Errorf("second hello: %+v", second)
	}

	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"bot token", BotToken, "not_allowed_token_type"},
		{"wrong app token", "xapp-wrong", "invalid_auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := slack.New(BotToken, slack.OptionAppLevelToken(tt.token), slack.OptionAPIURL(s.APIURL()))
			_, _, err := api.StartSocketModeContext(ctx(t))
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPings(t *testing.T) {
	s, _ := start(t, WithPingInterval(20*time.Millisecond))
	ws, _ := dial(t, s)
	pings, pongs := make(chan struct{}, 10), make(chan struct{}, 1)
	ws.SetPingHandler(func(string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return nil
	})
	ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if err := ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		select {
		case <-pings:
		case <-time.After(wait):
			t.Fatalf("ping %d never came", i)
		}
	}
	select {
	case <-pongs:
	case <-time.After(wait):
		t.Error("the server did not answer a ping")
	}
}

func TestAcksAndDelivery(t *testing.T) {
	s, _ := start(t)
	queued := s.SendSlashCommand(SlashCommand{Command: "/attest", UserID: "U1", ChannelID: "C1"})
	ws1, _ := dial(t, s)
	if f := read(t, ws1); f.EnvelopeID != queued || f.Type != "slash_commands" {
		t.Fatalf("queued envelope came as %+v", f)
	}
	ws2, _ := dial(t, s)

	// Round-robin over the two connections.
	ids := []string{
		s.SendEvent(map[string]any{"type": "app_home_opened"}),
		s.SendEvent(map[string]any{"type": "app_home_opened"}),
	}
	got := map[string]bool{read(t, ws1).EnvelopeID: true, read(t, ws2).EnvelopeID: true}
	if !got[ids[0]] || !got[ids[1]] {
		t.Fatalf("round-robin delivered %v, want %v", got, ids)
	}

	tests := []struct {
		name        string
		payloadSize int
		wantOK      bool
	}{
		{"small ack", 10, true},
		{"ack just under 20 KB", MaxAckSize - 100, true},
		{"ack of 20 KB", MaxAckSize, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := s.SendInteraction(map[string]any{"type": "view_submission"})
			conn := ws1
			if env := s.Envelopes(); env[len(env)-1].Conn == 2 {
				conn = ws2
			}
			if f := read(t, conn); f.EnvelopeID != id {
				t.Fatalf("read %+v, want envelope %s", f, id)
			}
			ack, _ := json.Marshal(map[string]any{"envelope_id": id, "payload": map[string]string{"t": strings.Repeat("x", tt.payloadSize)}})
			if err := ws1.WriteMessage(websocket.TextMessage, ack); err != nil {
				t.Fatal(err)
			}
			a, ok := s.WaitAck(id, wait)
			if ok != tt.wantOK || a.Dropped == tt.wantOK || a.Size != len(ack) {
				t.Errorf("ack %v, dropped %v, size %d of %d", ok, a.Dropped, a.Size, len(ack))
			}
		})
	}
	if n := len(s.Acks()); n != 3 {
		t.Errorf("%d acks recorded, want 3", n)
	}
}

func TestDisconnectFrame(t *testing.T) {
	s, _ := start(t)
	ws, _ := dial(t, s)
	if n := s.Disconnect("refresh_requested"); n != 1 {
		t.Fatalf("disconnected %d", n)
	}
	if f := read(t, ws); f.Type != "disconnect" || f.Reason != "refresh_requested" {
		t.Errorf("frame %+v", f)
	}
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after disconnect: %v", err)
	}
	if s.Connections() != 0 {
		t.Errorf("%d connections", s.Connections())
	}
}

func TestAutomaticRedelivery(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name    string
		ackOn   int // the delivery acked, from 0; -1 for none
		wantEnv int
	}{
		{"acked at once", 0, 1},
		{"acked on the first retry", 1, 2},
		{"never acked", -1, 1 + MaxRetries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := start(t, WithAckTimeout(timeout))
			ws, _ := dial(t, s)
			s.SendEvent(map[string]any{"type": "app_home_opened", "user": "U1"})
			for i := range tt.wantEnv {
				f := read(t, ws)
				if f.RetryAttempt != i {
					t.Fatalf("delivery %d has retry_attempt %d", i, f.RetryAttempt)
				}
				if i == tt.ackOn {
					if err := ws.WriteJSON(map[string]string{"envelope_id": f.EnvelopeID}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tt.ackOn >= 0 {
				last := s.Envelopes()[tt.ackOn].ID
				if _, ok := s.WaitAck(last, wait); !ok {
					t.Fatal("ack not recorded")
				}
			}
			// Every ack timeout has run out and been decided: no
			// redelivery is still to come.
			if !s.WaitRedeliveries(wait) {
				t.Fatal("ack timeouts still pending")
			}
			if n := len(s.Envelopes()); n != tt.wantEnv {
				t.Errorf("%d envelopes, want %d", n, tt.wantEnv)
			}
		})
	}
}
