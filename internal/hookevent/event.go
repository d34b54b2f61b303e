// Package hookevent holds the record of one Okta event hook event as
// attest stores it: the fields attest reads, the raw JSON, and the queue
// bookkeeping. It imports nothing of attest's, so the store can keep events
// without depending on the hooks package that receives and processes them.
package hookevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The states of a stored event.
const (
	StatePending    = "pending"
	StateProcessing = "processing"
	StateDone       = "done"
	StateIgnored    = "ignored"
	StateFailed     = "failed"
)

// Lease is how long an event stays claimed: an event still in processing
// after this long was left by a stopped process and may be claimed again.
const Lease = 5 * time.Minute

// Event is one Okta System Log event from an event hook delivery. The
// fields are those attest reads; Raw keeps the whole event as Okta sent it.
type Event struct {
	UUID           string       `json:"uuid"`
	Published      time.Time    `json:"-"`
	EventType      string       `json:"eventType"`
	Version        string       `json:"version"`
	DisplayMessage string       `json:"displayMessage"`
	Severity       string       `json:"severity"`
	Actor          Actor        `json:"actor"`
	Client         Client       `json:"client"`
	Outcome        Outcome      `json:"outcome"`
	Target         []Target     `json:"target"`
	DebugContext   DebugContext `json:"debugContext"`

	// Raw is the event's JSON, compacted.
	Raw json.RawMessage `json:"-"`

	// Queue bookkeeping, filled by the store.
	ReceivedAt  time.Time `json:"-"`
	State       string    `json:"-"`
	Attempts    int       `json:"-"`
	LastError   string    `json:"-"`
	ProcessedAt time.Time `json:"-"`
}

// Actor is who (or what) acted.
type Actor struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// Client is where the request came from.
type Client struct {
	IPAddress string `json:"ipAddress"`
	Device    string `json:"device"`
	Zone      string `json:"zone"`
	UserAgent struct {
		RawUserAgent string `json:"rawUserAgent"`
		OS           string `json:"os"`
		Browser      string `json:"browser"`
	} `json:"userAgent"`
}

// Outcome is the event's result (SUCCESS, FAILURE, ...).
type Outcome struct {
	Result string `json:"result"`
	Reason string `json:"reason"`
}

// Target is an object the event acted on.
type Target struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	AlternateID string         `json:"alternateId"`
	DisplayName string         `json:"displayName"`
	DetailEntry map[string]any `json:"detailEntry,omitempty"`
}

// DebugContext carries event-specific details; Okta's values are mostly
// strings, but nothing here assumes so.
type DebugContext struct {
	DebugData map[string]any `json:"debugData"`
}

// DecodeEvent parses one event as it appears in data.events. It returns
// an error if raw is not a JSON object or has no uuid. An unparseable
// published time is left zero rather than rejecting the event.
func DecodeEvent(raw []byte) (Event, error) {
	var ev Event
	var extra struct {
		Published string `json:"published"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Event{}, fmt.Errorf("hookevent: event: %w", err)
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		return Event{}, fmt.Errorf("hookevent: event: %w", err)
	}
	if strings.TrimSpace(ev.UUID) == "" {
		return Event{}, errors.New("hookevent: event without a uuid")
	}
	ev.Published, _ = time.Parse(time.RFC3339Nano, extra.Published)
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return Event{}, fmt.Errorf("hookevent: event %s: %w", ev.UUID, err)
	}
	ev.Raw = json.RawMessage(buf.Bytes())
	return ev, nil
}

// AppInstance returns the first target of type AppInstance.
func (e Event) AppInstance() (Target, bool) { return e.targetOf("AppInstance") }

// UserTarget returns the first target of type User (the user acted on,
// not the actor).
func (e Event) UserTarget() (Target, bool) { return e.targetOf("User") }

// GroupTarget returns the first target of type UserGroup.
func (e Event) GroupTarget() (Target, bool) { return e.targetOf("UserGroup") }

func (e Event) targetOf(typ string) (Target, bool) {
	for _, t := range e.Target {
		if strings.EqualFold(t.Type, typ) {
			return t, true
		}
	}
	return Target{}, false
}

// riskLevelKV finds level=X in Okta's "{k=v, k=v}" rendering of a map. It
// anchors on "{" or "," so previousLevel= does not match; values such as
// reasons may themselves hold commas, which splitting would trip over.
var riskLevelKV = regexp.MustCompile(`(?i)(?:^|[{,])\s*level\s*=\s*([a-z_]+)`)

// RiskLevel returns the risk level an event reports, upper-cased (LOW,
// MEDIUM, HIGH, ...), or "" when it reports none. It reads
// debugContext.debugData in this order:
//
//  1. "risk" as Okta's ITP rendering of a map, for example
//     "{previousLevel=LOW, level=HIGH, detectionName=...}": its level
//     (never previousLevel);
//  2. "risk" as a JSON object with a "level" member;
//  3. "riskLevel" as a string;
//  4. "risk" as a bare level such as "HIGH".
//
// The current level wins over the previous one because attest acts on
// where the user is now, not where they came from.
func (e Event) RiskLevel() string {
	dd := e.DebugContext.DebugData
	switch r := dd["risk"].(type) {
	case string:
		if m := riskLevelKV.FindStringSubmatch(r); m != nil {
			return strings.ToUpper(m[1])
		}
	case map[string]any:
		if s, ok := r["level"].(string); ok && strings.TrimSpace(s) != "" {
			return strings.ToUpper(strings.TrimSpace(s))
		}
	}
	if s, ok := dd["riskLevel"].(string); ok && strings.TrimSpace(s) != "" {
		return strings.ToUpper(strings.TrimSpace(s))
	}
	if s, ok := dd["risk"].(string); ok && isBareLevel(s) {
		return strings.ToUpper(strings.TrimSpace(s))
	}
	return ""
}

// isBareLevel reports whether s is a single word, not a "{...}" map that
// lacked a level.
func isBareLevel(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_') {
			return false
		}
	}
	return true
}
