// Package bot connects attest to Slack: the Socket Mode connection that
// acknowledges and dispatches envelopes to the handlers, and the outbox
// sender that delivers every queued message at Slack's rate limits.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/attestbot/attest/internal/slackrec"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// metaType marks attest's messages so that a message whose send outcome
// was lost (a crash mid-call) can be found in the channel's history
// instead of being sent twice.
const metaType = "attest_outbox"

// Sender delivers the outbox. Messages go out at most Rate per second
// overall and one per second per channel (Slack's chat.postMessage limit),
// a 429 pauses sending for its Retry-After, 5xx answers and network errors
// are retried with backoff, and permanent errors fail the one message.
type Sender struct {
	API   *slack.Client
	Store slackrec.OutboxStore
	Log   zerolog.Logger
	Now   func() time.Time
	// Rate bounds messages per second across the workspace (default 20).
	Rate float64
	// PerChannel is the gap between two messages to one channel (default 1 s).
	PerChannel time.Duration
	// MaxAttempts bounds tries of one message (default 8).
	MaxAttempts int
	// Workers is how many channels are served at once (default 16).
	Workers int
	// Observe, when set, hears the outcome of every Slack call: "ok",
	// "rate_limited" or "error", for metrics.
	Observe func(outcome string)

	once     sync.Once
	limiter  *rate.Limiter
	mu       sync.Mutex
	channel  map[string]time.Time // next time a channel may receive
	pausedTo time.Time            // a 429 pauses everything until then
	sent     int
}

func (s *Sender) init() {
	s.once.Do(func() {
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Rate <= 0 {
			s.Rate = 20
		}
		if s.PerChannel <= 0 {
			s.PerChannel = time.Second
		}
		if s.MaxAttempts <= 0 {
			s.MaxAttempts = 8
		}
		if s.Workers <= 0 {
			s.Workers = 16
		}
		s.limiter = rate.NewLimiter(rate.Limit(s.Rate), 1)
		s.channel = map[string]time.Time{}
	})
}

// Run delivers the outbox until ctx ends: first it settles messages a
// stopped process left mid-send, then it sends what is due, polling when
// idle.
func (s *Sender) Run(ctx context.Context) error {
	s.init()
	if err := s.Recover(ctx); err != nil {
		s.Log.Error().Err(err).Msg("outbox recovery failed")
	}
	last := time.Now()
	for ctx.Err() == nil {
		n, err := s.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			s.Log.Error().Err(err).Msg("outbox")
		}
		if time.Since(last) > 10*time.Second {
			counts, _ := s.Store.OutboxCounts(ctx)
			s.Log.Info().Interface("outbox", counts).Int("sent", s.Sent()).Msg("outbox progress")
			last = time.Now()
		}
		if n == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// Sent is how many messages this sender delivered.
func (s *Sender) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// Tick sends the messages due now, one channel at a time in order, and
// returns how many it handled.
func (s *Sender) Tick(ctx context.Context) (int, error) {
	s.init()
	items, err := s.Store.ClaimOutbox(ctx, s.Now(), 50*s.Workers)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	// Channels are independent; messages to one channel keep their order.
	byTarget := map[string][]slackrec.OutboxItem{}
	var order []string
	for _, it := range items {
		if _, ok := byTarget[it.Target]; !ok {
			order = append(order, it.Target)
		}
		byTarget[it.Target] = append(byTarget[it.Target], it)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.Workers)
	for _, target := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(list []slackrec.OutboxItem) {
			defer wg.Done()
			defer func() { <-sem }()
			for i, it := range list {
				if ctx.Err() != nil {
					s.requeue(list[i:], "stopped")
					return
				}
				s.deliver(ctx, it)
			}
		}(byTarget[target])
	}
	wg.Wait()
	return len(items), nil
}

// requeue returns claimed items unsent.
func (s *Sender) requeue(items []slackrec.OutboxItem, why string) {
	for _, it := range items {
		_ = s.Store.OutboxRetry(context.Background(), it.ID, s.Now(), why)
	}
}

// deliver makes one Slack call for an item and records the outcome.
func (s *Sender) deliver(ctx context.Context, it slackrec.OutboxItem) {
	if err := s.wait(ctx, it.Target); err != nil {
		s.requeue([]slackrec.OutboxItem{it}, "stopped")
		return
	}
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
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &rl):
		s.pause(rl.RetryAfter)
		s.Log.Warn().Dur("retry_after", rl.RetryAfter).Str("key", it.Key).Msg("slack rate limit; pausing")
		_ = s.Store.OutboxRetry(context.Background(), it.ID, s.Now().Add(rl.RetryAfter), err.Error())
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

// wait blocks until the workspace limiter, any 429 pause and the target
// channel's pacing allow one more message.
func (s *Sender) wait(ctx context.Context, target string) error {
	for {
		s.mu.Lock()
		now := time.Now()
		until := s.pausedTo
		if next := s.channel[target]; next.After(until) {
			until = next
		}
		if !until.After(now) {
			s.channel[target] = now.Add(s.PerChannel)
			s.mu.Unlock()
			return s.limiter.Wait(ctx)
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(until.Sub(now)):
		}
	}
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

func targetErr(it slackrec.OutboxItem, err error) error {
	return fmt.Errorf("outbox %s to %s: %w", it.Key, it.Target, err)
}
