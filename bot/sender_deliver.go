package bot

// One delivery: pacing and the workspace limit before the call, then the
// outcome recorded (sent, retried later, or failed for good).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/internal/slackrec"
)

// requeue returns claimed items unsent. On a shared store an item whose
// lease passed while it waited here may belong to another replica now
// (sent, or being sent): only the claims still this sender's go back.
func (s *Sender) requeue(items []slackrec.OutboxItem, why string) {
	for _, it := range items {
		if !s.stillMine(context.Background(), it) {
			continue
		}
		_ = s.Store.OutboxRetry(context.Background(), it.ID, s.Now(), why)
	}
}

// stillMine reports whether the claim that gave this sender it still
// holds, and starts its lease again. Without a lease (one process on the
// store) every claim does. On a shared store an item may wait in this
// sender's queue (pacing, a 429 pause) past the lease; a Recover (another
// replica's, or this sender's own) may then have taken it over and sent
// it, or queued it again and had it claimed afresh: that later claim, not
// this one, sends it.
func (s *Sender) stillMine(ctx context.Context, it slackrec.OutboxItem) bool {
	if s.Lease <= 0 {
		return true
	}
	mine, err := s.Store.RenewOutboxClaim(ctx, it.ID, it.ClaimedAt)
	if err != nil || !mine {
		s.Log.Info().Err(err).Str("key", it.Key).Msg("outbox: claim not confirmed (another replica took it over, or the store failed); left to the lease")
		return false
	}
	return true
}

// deliver makes one Slack call for an item and records the outcome. A
// panic while doing so (a payload nobody foresaw) fails that item, logged
// with its stack, instead of the process.
func (s *Sender) deliver(ctx context.Context, it slackrec.OutboxItem) {
	defer func() {
		if r := recover(); r != nil {
			s.Log.Error().Str("key", it.Key).Interface("panic", r).Str("stack", string(debug.Stack())).Msg("outbox delivery panicked")
			_ = s.Store.OutboxFail(context.Background(), it.ID, fmt.Sprintf("panic: %v", r))
		}
	}()
	if !s.stillMine(ctx, it) {
		return // sent or settled by the replica that took it over
	}
	s.send(ctx, it)
}

// send makes one Slack call for an item and records the outcome.
func (s *Sender) send(ctx context.Context, it slackrec.OutboxItem) {
	channel, ts, err := s.call(ctx, it)
	if s.Observe != nil {
		var rl *slack.RateLimitedError
		switch {
		case err == nil:
			s.Observe("ok")
		case errors.As(err, &rl):
			s.Observe("rate_limited")
		default:
			s.Observe("error")
		}
	}
	if err == nil {
		if err := s.Store.OutboxSent(context.Background(), it.ID, channel, ts); err != nil {
			s.Log.Error().Err(err).Int64("outbox", it.ID).Msg("record sent message")
		}
		s.mu.Lock()
		s.sent++
		s.mu.Unlock()
		return
	}
	if ctx.Err() != nil {
		// Stopped mid-call: whether Slack took the message is unknown.
		// Left in sending, it is looked for in the channel's history by
		// the next start's Recover before it is sent again.
		return
	}
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &rl):
		s.pause(rl.RetryAfter)
		s.Log.Warn().Dur("retry_after", rl.RetryAfter).Str("key", it.Key).Msg("slack rate limit; pausing")
		_ = s.Store.OutboxRetry(context.Background(), it.ID, s.Now().Add(rl.RetryAfter), err.Error())
	case errors.Is(err, errNoMessage) && it.Attempts >= min(noMessageAttempts, s.MaxAttempts):
		s.Log.Error().Err(err).Str("key", it.Key).Str("ref", it.Ref).Str("target", it.Target).Int("attempts", it.Attempts).
			Msg("outbox update failed for good: the message it updates was never posted")
		_ = s.Store.OutboxFail(context.Background(), it.ID, err.Error())
	case transient(err) && it.Attempts < s.MaxAttempts:
		backoff := time.Duration(500*(1<<min(it.Attempts, 6))) * time.Millisecond
		backoff += time.Duration(rand.Int64N(int64(backoff / 2)))
		s.Log.Warn().Err(err).Str("key", it.Key).Int("attempt", it.Attempts).Msg("slack call failed; retrying")
		_ = s.Store.OutboxRetry(context.Background(), it.ID, s.Now().Add(backoff), err.Error())
	default:
		s.Log.Error().Err(err).Str("key", it.Key).Str("target", it.Target).Msg("slack message failed")
		_ = s.Store.OutboxFail(context.Background(), it.ID, err.Error())
	}
}

// wait blocks until the target's pacing allows one more message, then
// takes its turn at the workspace limit.
func (s *Sender) wait(ctx context.Context, target string) error {
	for {
		s.mu.Lock()
		now := time.Now()
		next := s.channel[target]
		if !next.After(now) {
			s.channel[target] = now.Add(s.PerChannel)
			s.mu.Unlock()
			return s.turn(ctx)
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(next.Sub(now)):
		}
	}
}

// turn blocks until any 429 pause is over and the workspace limiter
// allows one more call.
func (s *Sender) turn(ctx context.Context) error {
	for {
		s.mu.Lock()
		wait := time.Until(s.pausedTo)
		s.mu.Unlock()
		if wait <= 0 {
			return s.limiter.Wait(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// pace records that target just got a message: the next waits PerChannel.
func (s *Sender) pace(target string) {
	s.mu.Lock()
	s.channel[target] = time.Now().Add(s.PerChannel)
	s.mu.Unlock()
}

func (s *Sender) pause(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	s.mu.Lock()
	if until := time.Now().Add(d); until.After(s.pausedTo) {
		s.pausedTo = until
	}
	s.mu.Unlock()
}

// transient reports whether a failed call may succeed later.
func transient(err error) bool {
	if errors.Is(err, errNoChannel) {
		return false
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Code >= 500
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return true
		}
		return false
	}
	msg := err.Error()
	return !strings.Contains(msg, "invalid_") && !strings.Contains(msg, "_not_found") && !strings.Contains(msg, "not_in_channel") &&
		!strings.Contains(msg, "too_long") && !strings.Contains(msg, "messages_tab_disabled")
}

// blocksOf decodes stored Block Kit JSON.
func blocksOf(raw []byte) (slack.Blocks, error) {
	var b slack.Blocks
	if len(raw) == 0 {
		return b, nil
	}
	err := json.Unmarshal(raw, &b)
	return b, err
}

func keyMeta(key string) slack.MsgOption {
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metaType, EventPayload: map[string]any{"key": key}})
}

// errNoChannel is a target that cannot be reached.
var errNoChannel = errors.New("no Slack channel for target")

// errNoMessage is an update whose message attest has no record of posting.
// An update queues behind its post, so this lasts; it is tried
// noMessageAttempts times (a post whose record is late), then failed.
var errNoMessage = errors.New("no posted message to update")

const noMessageAttempts = 3

func targetErr(it slackrec.OutboxItem, err error) error {
	return fmt.Errorf("outbox %s to %s: %w", it.Key, it.Target, err)
}
