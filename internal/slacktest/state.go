package slacktest

// The workspace's recorded state, and the accessors tests read it with.
// Every accessor returns copies: tests may keep and modify them.

import (
	"bytes"
	"slices"
	"strings"
	"time"
)

// state is everything the Web API changes or records; Server.mu guards it.
type state struct {
	seq int // ids of DMs, views and files

	users      []User
	workspaces []Workspace // the Grid org's (WithGrid)
	userIdx    map[string]int
	groups     []*userGroup
	channels   map[string]*channel
	dms        map[string]string // user id -> D channel id

	lastTS     int64 // microseconds of the last message timestamp
	ephemerals []Ephemeral

	views    map[string]*viewRec
	viewLog  []View
	homes    map[string]string // user id -> Home tab view id
	triggers map[string]*trigger

	uploads      []*Upload
	responseURLs map[string]*responseURL
	responses    []ResponsePost

	calls      []Call
	counts     map[string]int
	httpFaults map[string][]int
	errFaults  map[string][]string
	methodLim  map[string]*bucket
	chanLim    map[string]*bucket
}

// newState returns an empty workspace.
func newState() state {
	return state{
		userIdx:      map[string]int{},
		channels:     map[string]*channel{},
		dms:          map[string]string{},
		views:        map[string]*viewRec{},
		homes:        map[string]string{},
		triggers:     map[string]*trigger{},
		responseURLs: map[string]*responseURL{},
		counts:       map[string]int{},
		httpFaults:   map[string][]int{},
		errFaults:    map[string][]string{},
		methodLim:    map[string]*bucket{},
		chanLim:      map[string]*bucket{},
	}
}

// copyMessage returns a deep copy of m.
func copyMessage(m *Message) Message {
	c := *m
	c.Blocks = bytes.Clone(m.Blocks)
	c.Attachments = bytes.Clone(m.Attachments)
	c.Metadata = bytes.Clone(m.Metadata)
	return c
}

// Messages returns every message in channel (a C, G or D id), thread
// replies included, oldest first, as they stand after updates.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.st.channels[channel]
	if !ok {
		return nil
	}
	out := make([]Message, 0, len(ch.messages))
	for _, m := range ch.messages {
		out = append(out, copyMessage(m))
	}
	return out
}

// AllMessages returns every message in every channel, oldest first.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, ch := range s.st.channels {
		for _, m := range ch.messages {
			out = append(out, copyMessage(m))
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return compareTS(a.TS, b.TS) })
	return out
}

// Message returns the message at channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.message(channel, ts)
	if m == nil {
		return Message{}, false
	}
	return copyMessage(m), true
}

// message finds a stored message.
func (st *state) message(channel, ts string) *Message {
	ch, ok := st.channels[channel]
	if !ok {
		return nil
	}
	for _, m := range ch.messages {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// compareTS orders Slack timestamps, which have six decimals.
func compareTS(a, b string) int {
	ai, af, _ := strings.Cut(a, ".")
	bi, bf, _ := strings.Cut(b, ".")
	if len(ai) != len(bi) {
		return len(ai) - len(bi)
	}
	return strings.Compare(ai+"."+af, bi+"."+bf)
}

// Ephemerals returns every ephemeral message posted, in order.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ephemeral, len(s.st.ephemerals))
	for i, e := range s.st.ephemerals {
		e.Blocks = bytes.Clone(e.Blocks)
		out[i] = e
	}
	return out
}

// WaitMessages waits until channel holds at least n messages and returns
// them with true; after timeout it returns what there is, with false.
func (s *Server) WaitMessages(channel string, n int, timeout time.Duration) ([]Message, bool) {
	ok := s.waitFor(timeout, func() bool {
		ch, found := s.st.channels[channel]
		return found && len(ch.messages) >= n
	})
	return s.Messages(channel), ok
}
