// Package bot connects attest to Slack: the Socket Mode connection that
// acknowledges and dispatches envelopes to the handlers, and the outbox
// sender that delivers every queued message at Slack's rate limits.
package bot

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/attestbot/attest/internal/slackrec"
)

// metaType marks attest's messages so that a message whose send outcome
// was lost (a crash mid-call) can be found in the channel's history
// instead of being sent twice.
const metaType = "attest_outbox"

// Sender delivers the outbox. Each target (a channel, or a person's DM) is
// its own queue: its messages go out in the order they were queued, at
// most one every PerChannel (Slack's chat.postMessage limit), and its
// backlog never delays another target. Among the targets with something
// due, the highest priority goes first (alerts and approvals, then answers
// to clicks, then the bulk of forms; see slackrec.PriorityOf). Messages
// go out at most Rate per second overall; a 429 pauses sending for its
// Retry-After, 5xx answers and network errors are retried with backoff,
// and permanent errors fail the one message.
type Sender struct {
	API   *slack.Client
	Store slackrec.OutboxStore
	Log   zerolog.Logger
	Now   func() time.Time
	// Rate bounds messages per second across the workspace (default 20).
	Rate float64
	// PerChannel is the gap between two messages to one target (default 1 s).
	PerChannel time.Duration
	// MaxAttempts bounds tries of one message (default 8).
	MaxAttempts int
	// Workers is how many Slack calls run at once (default 16); Run keeps
	// at most twice as many messages claimed, so a new alert waits behind
	// a few messages at most, never behind a backlog.
	Workers int
	// Poll is how often an idle Run looks for new messages (default 100 ms).
	Poll time.Duration
	// Lease, for a store shared by several replicas, is how old a claim of
	// an item still in sending must be before this sender takes it over
	// (its replica died); Run looks for such items every Lease/2. Zero
	// (one process on the store) takes over everything left in sending
	// once, at start.
	Lease time.Duration
	// Observe, when set, hears the outcome of every Slack call: "ok",
	// "rate_limited" or "error", for metrics.
	Observe func(outcome string)

	once     sync.Once
	limiter  *rate.Limiter
	mu       sync.Mutex
	channel  map[string]time.Time // next time a target may receive
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
		if s.Poll <= 0 {
			s.Poll = 100 * time.Millisecond
		}
		s.limiter = rate.NewLimiter(rate.Limit(s.Rate), 1)
		s.channel = map[string]time.Time{}
	})
}

// Sent is how many messages this sender delivered.
func (s *Sender) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// Run delivers the outbox until ctx ends: first it settles messages a
// stopped process left mid-send, then it keeps claiming the first message
// of each target that may receive now, best priority first, and starts
// each on its own call as the workspace limit allows. It returns nil when
// ctx ends, after the calls in flight finished; claimed messages not yet
// started are put back.
func (s *Sender) Run(ctx context.Context) error {
	s.init()
	if err := s.Recover(ctx); err != nil {
		s.Log.Error().Err(err).Msg("outbox recovery failed")
	}
	var (
		inflight  sync.WaitGroup
		ready     []slackrec.OutboxItem
		slots     = make(chan struct{}, s.Workers)
		done      = make(chan struct{}, 1) // a call ended: room to claim
		lastLog   = time.Now()
		claimed   time.Time
		recovered = time.Now()
	)
	defer func() {
		s.requeue(ready, "stopped")
		inflight.Wait()
	}()
	for ctx.Err() == nil {
		// Claim when running low, and every Poll anyway so that an alert
		// queued behind a full lookahead overtakes it.
		if room := 2*s.Workers - len(ready); room > 0 && (len(ready) < s.Workers || time.Since(claimed) >= s.Poll) {
			claimed = time.Now()
			items, err := s.claim(ctx, room, true)
			if err != nil && ctx.Err() == nil {
				s.Log.Error().Err(err).Msg("outbox")
			}
			ready = append(ready, items...)
			slices.SortStableFunc(ready, byPriority)
		}
		if s.Lease > 0 && time.Since(recovered) >= s.Lease/2 {
			recovered = time.Now()
			if err := s.Recover(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error().Err(err).Msg("outbox: taking over another replica's messages failed")
			}
		}
		if time.Since(lastLog) > 10*time.Second {
			counts, _ := s.Store.OutboxCounts(ctx)
			s.Log.Info().Interface("outbox", counts).Int("sent", s.Sent()).Msg("outbox progress")
			lastLog = time.Now()
		}
		if len(ready) == 0 {
			select {
			case <-ctx.Done():
			case <-done:
			case <-time.After(s.Poll):
			}
			continue
		}
		if err := s.turn(ctx); err != nil {
			return nil
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		it := ready[0]
		ready = ready[1:]
		s.pace(it.Target)
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			defer func() {
				<-slots
				select {
				case done <- struct{}{}:
				default:
				}
			}()
			s.deliver(ctx, it)
		}()
	}
	return nil
}

// byPriority orders claimed items: best priority first, then oldest.
func byPriority(a, b slackrec.OutboxItem) int {
	if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Tick claims the first due message of each target (at most Workers) and
// sends them, each after its target's pacing, returning how many it
// handled. Run does the same continuously; Tick serves tests and one-off
// drains.
func (s *Sender) Tick(ctx context.Context) (int, error) {
	s.init()
	items, err := s.claim(ctx, s.Workers, false)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.wait(ctx, it.Target); err != nil {
				s.requeue([]slackrec.OutboxItem{it}, "stopped")
				return
			}
			s.deliver(ctx, it)
		}()
	}
	wg.Wait()
	return len(items), nil
}

// claim claims up to limit heads of targets; with paced, the targets that
// may not receive yet are passed over.
func (s *Sender) claim(ctx context.Context, limit int, paced bool) ([]slackrec.OutboxItem, error) {
	var skip []string
	if paced {
		s.mu.Lock()
		now := time.Now()
		for target, next := range s.channel {
			if next.After(now) {
				skip = append(skip, target)
			} else {
				delete(s.channel, target)
			}
		}
		s.mu.Unlock()
	}
	return s.Store.ClaimHeads(ctx, s.Now(), limit, skip)
}
