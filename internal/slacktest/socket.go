package slacktest

// Socket Mode connections: apps.connections.open hands out single-use
// URLs; /link/ upgrades to a websocket, says hello, pings, and records
// every frame the client sends as an ack.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// MaxAckSize is the size from which Slack drops an ack silently.
const MaxAckSize = 20 * 1024

// socketState is the Socket Mode side of the server; Server.mu guards it.
type socketState struct {
	tickets  map[string]bool // URLs handed out and not yet used
	conns    []*wsConn       // live connections, in connection order
	rr       int             // round-robin cursor
	nextConn int
	opened   int // connections accepted so far
	closed   bool

	envs     map[string]*envelope
	order    []string    // envelope ids in send order
	pending  []*envelope // waiting for a connection
	acks     []Ack
	watching int           // events waiting out their ack timeout (WithAckTimeout) or an HTTP retry
	changed  chan struct{} // closed and replaced on every change, Web API calls included

	http       *HTTPDelivery // set by DeliverOverHTTP: envelopes go to request URLs
	httpClient *http.Client
	httpLog    []HTTPRequest
}

// newSocketState returns the state of a server without connections.
func newSocketState() socketState {
	return socketState{tickets: map[string]bool{}, envs: map[string]*envelope{}, changed: make(chan struct{})}
}

// broadcast wakes every waiter; s.mu must be held.
func (ws *socketState) broadcast() {
	close(ws.changed)
	ws.changed = make(chan struct{})
}

// wsConn is one client connection. Writes are serialized by wmu;
// gorilla/websocket allows WriteControl and Close concurrently.
type wsConn struct {
	id   int
	ws   *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
	once sync.Once
}

// write sends one text frame.
func (c *wsConn) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

// close sends a close frame and closes the connection, once.
func (c *wsConn) close(code int, text string) {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		_ = c.ws.Close()
	})
}

// Ack is a frame a Socket Mode client sent: normally an envelope's ack.
type Ack struct {
	EnvelopeID string
	// Payload is the ack's payload (a slash command's response, a
	// view_submission's response_action, ...); nil when there is none.
	Payload json.RawMessage
	// Raw is the whole frame and Size its length in bytes.
	Raw  json.RawMessage
	Size int
	// Latency is the time from writing the envelope to reading the ack,
	// on the real clock; zero for an unknown envelope.
	Latency time.Duration
	At      time.Time
	// Dropped is set when the frame was MaxAckSize bytes or more: Slack
	// ignores such an ack, as if it had never come.
	Dropped bool
	Conn    int // the connection it came on, from 1
}

// appsConnectionsOpen answers apps.connections.open with a single-use URL.
func (s *Server) appsConnectionsOpen(_ *request) (map[string]any, *apiError) {
	ticket := randomHex(16)
	s.ws.tickets[ticket] = true
	host := strings.TrimPrefix(s.ts.URL, "http://")
	return map[string]any{"url": "ws://" + host + "/link/?ticket=" + ticket + "&app_id=" + AppID}, nil
}

// upgrader accepts any Origin: slack-go sends https://api.slack.com.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveLink serves one Socket Mode connection until either side closes it.
func (s *Server) serveLink(w http.ResponseWriter, hr *http.Request) {
	ticket := hr.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.ws.tickets[ticket] && !s.ws.closed
	delete(s.ws.tickets, ticket)
	if ok {
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	defer s.handlers.Done()
	ws, err := upgrader.Upgrade(w, hr, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20) // read oversized acks, to record them as dropped
	c := &wsConn{ws: ws, done: make(chan struct{})}

	// Register and say hello with the write lock held: the connection
	// counts as soon as the client can read its hello, and no envelope
	// overtakes the hello.
	c.wmu.Lock()
	s.mu.Lock()
	if s.ws.closed {
		s.mu.Unlock()
		c.wmu.Unlock()
		c.close(websocket.CloseGoingAway, "server closing")
		return
	}
	s.ws.nextConn++
	c.id = s.ws.nextConn
	s.ws.conns = append(s.ws.conns, c)
	s.ws.opened++
	n := len(s.ws.conns)
	pending := s.ws.pending
	s.ws.pending = nil
	s.ws.broadcast()
	s.mu.Unlock()
	hello, _ := json.Marshal(map[string]any{
		"type": "hello", "num_connections": n,
		"debug_info":      map[string]any{"host": "fake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID},
	})
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err = ws.WriteMessage(websocket.TextMessage, hello)
	c.wmu.Unlock()
	if err != nil {
		s.dropConn(c)
		c.close(websocket.CloseInternalServerErr, "hello failed")
		s.requeue(pending)
		return
	}

	s.handlers.Add(1)
	go s.pingLoop(c)
	for _, env := range pending {
		s.deliver(env)
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		s.recordAck(c, data)
	}
	s.dropConn(c)
	c.close(websocket.CloseNormalClosure, "")
}

// pingLoop pings c at once and then every ping interval, until it closes.
func (s *Server) pingLoop(c *wsConn) {
	defer s.handlers.Done()
	if s.cfg.pingInterval <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.pingInterval)
	defer t.Stop()
	for {
		if err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second)); err != nil {
			return
		}
		select {
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// recordAck records one frame from a client.
func (s *Server) recordAck(c *wsConn, data []byte) {
	now := time.Now()
	var frame struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	_ = json.Unmarshal(data, &frame)
	if string(frame.Payload) == "null" {
		frame.Payload = nil
	}
	a := Ack{
		EnvelopeID: frame.EnvelopeID, Payload: frame.Payload, Raw: slices.Clone(data), Size: len(data),
		At: now, Dropped: len(data) >= MaxAckSize, Conn: c.id,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if env, ok := s.ws.envs[frame.EnvelopeID]; ok && !env.sentAt.IsZero() {
		a.Latency = now.Sub(env.sentAt)
	}
	s.ws.acks = append(s.ws.acks, a)
	s.ws.broadcast()
}

// requeue puts envelopes back in the queue, in front.
func (s *Server) requeue(envs []*envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws.pending = append(envs, s.ws.pending...)
}

// dropConn forgets c.
func (s *Server) dropConn(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws.conns = slices.DeleteFunc(s.ws.conns, func(x *wsConn) bool { return x == c })
	s.ws.broadcast()
}

// Connections returns the number of live Socket Mode connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ws.conns)
}

// ConnectionsOpened returns how many connections were accepted so far,
// reconnections included.
func (s *Server) ConnectionsOpened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws.opened
}

// WaitConnections waits until at least n connections are live; it
// reports false after timeout.
func (s *Server) WaitConnections(n int, timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool { return len(s.ws.conns) >= n })
}

// Disconnect asks every connected client to reconnect, as Slack does
// before it recycles a connection: {"type":"disconnect","reason":reason},
// then a close. It returns the number of connections closed. slack-go
// reconnects by calling apps.connections.open again.
func (s *Server) Disconnect(reason string) int {
	s.mu.Lock()
	conns := s.ws.conns
	s.ws.conns = nil
	s.ws.broadcast()
	s.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "fake"}})
	for _, c := range conns {
		_ = c.write(msg)
		c.close(websocket.CloseNormalClosure, reason)
	}
	return len(conns)
}

// closeSockets closes every connection for good.
func (s *Server) closeSockets() {
	s.mu.Lock()
	s.ws.closed = true
	conns := s.ws.conns
	s.ws.conns = nil
	s.ws.broadcast()
	s.mu.Unlock()
	for _, c := range conns {
		c.close(websocket.CloseGoingAway, "server closing")
	}
}

// waitFor waits until cond, evaluated with s.mu held, holds.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, ch := cond(), s.ws.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			defer s.mu.Unlock()
			return cond()
		}
	}
}
