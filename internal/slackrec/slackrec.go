// Package slackrec holds the records the Slack side keeps in the store:
// the durable outbox of Slack calls and the map of Okta users to Slack
// users. It imports nothing of attest's, so the store keeps them without
// depending on the Slack layers that fill and drain them.
package slackrec

import (
	"context"
	"strings"
	"time"
)

// Outbox item kinds.
const (
	KindPost      = "post"      // chat.postMessage
	KindUpdate    = "update"    // chat.update of the message stored under Ref
	KindEphemeral = "ephemeral" // chat.postEphemeral
	KindUpload    = "upload"    // a file into a channel or thread
)

// Outbox priorities: among the targets with something to send, the sender
// serves the highest priority first (messages to one target always go in
// the order they were queued).
const (
	// PriorityAuto (zero) lets Enqueue pick by PriorityOf.
	PriorityAuto = 0
	// PriorityBulk is a campaign's fan-out of forms and reminders to DMs.
	PriorityBulk = 1
	// PriorityInteractive answers someone's click: updates, ephemerals.
	PriorityInteractive = 2
	// PriorityUrgent is a channel message: alerts, approvals, status.
	PriorityUrgent = 3
)

// PriorityOf is the priority an item gets when queued without one: updates
// and ephemeral replies answer a person waiting, posts and uploads to a
// channel (or to a Slack user id, as replies are addressed) are alerts,
// approvals and answers, and posts to "okta:" DMs are the bulk.
func PriorityOf(it OutboxItem) int {
	switch {
	case it.Priority != PriorityAuto:
		return it.Priority
	case it.Kind == KindUpdate || it.Kind == KindEphemeral:
		return PriorityInteractive
	case strings.HasPrefix(it.Target, "okta:"):
		return PriorityBulk
	}
	return PriorityUrgent
}

// OutboxItem is one queued Slack call. Target is a channel id, or
// "okta:<user id>" for that user's DM (opened at send time).
type OutboxItem struct {
	ID        int64
	Key       string // idempotency key: the same key is queued once
	Kind      string
	Target    string
	Priority  int    // PriorityBulk..PriorityUrgent; PriorityAuto picks by PriorityOf
	Ref       string // post: store the sent message under this ref; update: the message to update
	ThreadRef string // post into the thread of this ref
	Payload   Payload
	State     string
	Attempts  int
	NextAt    time.Time
	Channel   string
	TS        string
	CreatedAt time.Time
	// ClaimedAt is when the claim that returned the item was made: the
	// claim's token (RenewOutboxClaim), set on claimed items only.
	ClaimedAt time.Time
}

// Payload is what is sent.
type Payload struct {
	Text     string `json:"text,omitempty"`
	Blocks   []byte `json:"blocks,omitempty"` // JSON array of Block Kit blocks
	User     string `json:"user,omitempty"`   // ephemeral: the Slack user who sees it
	FileName string `json:"file_name,omitempty"`
	File     []byte `json:"file,omitempty"`
	Title    string `json:"title,omitempty"`
}

// OutboxStore keeps the outbox durable: every message is queued before it
// is sent, and its ts recorded after, so a restart sends nothing twice.
type OutboxStore interface {
	// Enqueue queues items; an item whose key was queued before is
	// skipped. It returns how many were new.
	Enqueue(ctx context.Context, items ...OutboxItem) (int, error)
	// ClaimOutbox moves up to limit due pending items to sending and
	// returns them, oldest first.
	ClaimOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	// ClaimHeads moves to sending, and returns, up to limit due items that
	// are each the first of their target still to send (none earlier is
	// pending or sending), highest priority first, then oldest; targets in
	// skip are passed over. So one target's backlog never holds up
	// another's, and a target's messages go out in order.
	ClaimHeads(ctx context.Context, now time.Time, limit int, skip []string) ([]OutboxItem, error)
	// OutboxSent records the message Slack accepted, and its ref.
	OutboxSent(ctx context.Context, id int64, channel, ts string) error
	// OutboxRetry puts an item back as pending for a later attempt.
	OutboxRetry(ctx context.Context, id int64, next time.Time, reason string) error
	// OutboxFail gives up on an item.
	OutboxFail(ctx context.Context, id int64, reason string) error
	// ReclaimOutbox takes over, and returns, the items left in sending
	// whose claim is older than before (their process stopped), each
	// re-claimed so that only one caller gets it.
	ReclaimOutbox(ctx context.Context, before time.Time) ([]OutboxItem, error)
	// RenewOutboxClaim, called just before a claimed item is sent,
	// reports whether the claim made at claimedAt still holds (another
	// replica, or this one's recovery, may have taken the item over after
	// the lease) and, if so, starts its lease again.
	RenewOutboxClaim(ctx context.Context, id int64, claimedAt time.Time) (bool, error)
	// OutboxCounts counts items by state.
	OutboxCounts(ctx context.Context) (map[string]int, error)
	// OutboxProgress counts, by state, the items whose key has a prefix.
	OutboxProgress(ctx context.Context, prefix string) (map[string]int, error)
	// MessageRef returns where a stored message lives, or ErrNotFound.
	MessageRef(ctx context.Context, ref string) (channel, ts string, err error)
	// DMChannel returns the cached DM channel and Slack id of an Okta user.
	DMChannel(ctx context.Context, oktaUserID string) (slackID, channel string, err error)
	// SetDMChannel caches a user's DM channel.
	SetDMChannel(ctx context.Context, oktaUserID, channel string) error
}

// User maps an Okta user to their Slack account (matched by email).
type User struct {
	OktaUserID string
	Email      string
	SlackID    string
	TeamID     string
}
