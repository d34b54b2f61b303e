package bot

// The dispatch both transports share: Socket Mode (socket.go) and HTTP
// request URLs (http.go) turn what Slack sent into a request to answer
// once, and hand it here. Acks, worker slots, timeouts, panic recovery and
// the de-duplication of Events API deliveries are the same whichever way
// Slack reached the bot.

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/handlers"
)

// Inbound is what the bot hands Slack's requests to: the handlers.
type Inbound interface {
	// Slash answers a slash command; the Reply rides in the ack when it
	// comes in time.
	Slash(ctx context.Context, cmd slack.SlashCommand) handlers.Reply
	// ViewSubmission returns field errors by block id, or nil to close
	// the modal.
	ViewSubmission(ctx context.Context, cb slack.InteractionCallback) map[string]string
	// BlockActions handles a click after its ack.
	BlockActions(ctx context.Context, cb slack.InteractionCallback, payloadSHA string)
	// PublishHome publishes a user's App Home.
	PublishHome(ctx context.Context, slackID, teamID string) error
	// DM queues a direct message to a Slack user.
	DM(ctx context.Context, slackID, key, text string)
}

var _ Inbound = (*handlers.Handler)(nil)

// Deduper records that a delivery was handled: the store's slack_handled
// table, shared by every replica and kept across restarts.
type Deduper interface {
	// MarkHandled records key; false if it was recorded before.
	MarkHandled(ctx context.Context, key string, at time.Time) (bool, error)
}

// Bot receives Slack's requests over Socket Mode (Client set) or over
// HTTP request URLs (Client nil; see HTTPHandler) and hands them to the
// handlers. Nothing that receives them waits on the handlers or the
// store: every request is acknowledged within ReplyWithin (well inside
// Slack's 3 s), handled on a goroutine of its own with a timeout, and a
// panic anywhere in that handling is logged with its stack and answered
// with an error where Slack lets the bot answer.
type Bot struct {
	API *slack.Client
	// Client is the Socket Mode client; nil in HTTP mode.
	Client  *socketmode.Client
	Handler Inbound
	// Handled de-duplicates Events API deliveries by event_id (Slack
	// redelivers an event it thinks was not acknowledged, on either
	// transport); nil handles every delivery.
	Handled Deduper
	// SigningSecret verifies the requests of HTTP mode (the app's Basic
	// Information > App Credentials > Signing Secret).
	SigningSecret string
	// MaxBody caps the body of an HTTP request (default 1 MiB); a larger
	// one is refused before it is verified or read.
	MaxBody int64
	Log     zerolog.Logger
	// Timeout bounds the handling of one request (default 2 minutes).
	Timeout time.Duration
	// ReplyWithin is how long a slash command or a modal submission may
	// take to answer in its ack; a slower answer arrives later, by DM or
	// by views.update (default 2 s, leaving Slack's 3 s a margin).
	ReplyWithin time.Duration
	// Workers bounds the handler calls running at once (default 16): a
	// burst of clicks queues for the handlers instead of opening a
	// database connection each, and never delays an ack.
	Workers int

	connected atomic.Bool
	work      inflight
	once      sync.Once
	slots     chan struct{}
}

func (b *Bot) init() {
	b.once.Do(func() {
		if b.Timeout <= 0 {
			b.Timeout = 2 * time.Minute
		}
		if b.ReplyWithin <= 0 {
			b.ReplyWithin = 2 * time.Second
		}
		if b.Workers <= 0 {
			b.Workers = 16
		}
		if b.MaxBody <= 0 {
			b.MaxBody = DefaultMaxBody
		}
		b.slots = make(chan struct{}, b.Workers)
	})
}

// Mode names the transport: "socket" or "http".
func (b *Bot) Mode() string {
	if b.Client == nil {
		return "http"
	}
	return "socket"
}

// request is one request from Slack, whichever transport brought it, to
// be answered exactly once: the envelope's ack over Socket Mode, the
// response over HTTP.
type request struct {
	once sync.Once
	send func(payload any)
	// raw is the payload as Slack sent it, hashed into the evidence of a
	// click.
	raw json.RawMessage
}

// ack answers the request with payload (nil for a bare ack); calls after
// the first do nothing.
func (r *request) ack(payload any) { r.once.Do(func() { r.send(payload) }) }

// event starts the handling of an Events API event, already acked. A
// delivery whose event_id was handled before (a retry) is dropped.
func (b *Bot) event(ctx context.Context, ev slackevents.EventsAPIEvent, eventID string) {
	home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || home == nil || home.Tab != "home" {
		return
	}
	if home.User == "" {
		b.Log.Warn().Msg("app_home_opened without a user dropped")
		return
	}
	b.async(ctx, "app_home_opened", func(ctx context.Context) {
		if !b.firstDelivery(ctx, eventID) {
			return
		}
		if err := b.Handler.PublishHome(ctx, home.User, ev.TeamID); err != nil {
			b.Log.Error().Err(err).Str("slack_user", home.User).Msg("publish home")
		}
	}, nil)
}

// firstDelivery records an event id and reports whether it is new. When
// the record cannot be made the event is handled anyway: the events attest
// handles are idempotent, and a lost event is worse than a repeated one.
func (b *Bot) firstDelivery(ctx context.Context, eventID string) bool {
	if b.Handled == nil || eventID == "" {
		return true
	}
	first, err := b.Handled.MarkHandled(ctx, "event:"+eventID, time.Now())
	if err != nil {
		b.Log.Warn().Err(err).Str("event_id", eventID).Msg("could not record the event; handling it anyway")
		return true
	}
	if !first {
		b.Log.Debug().Str("event_id", eventID).Msg("event delivered again; handled already")
	}
	return first
}

// async runs handler work fn on its own goroutine once one of the
// Workers slots is free, with a timeout. A panic in fn is logged with its
// stack and then onPanic, when set, answers for it; one bad payload cannot
// take the bot down.
func (b *Bot) async(ctx context.Context, what string, fn func(context.Context), onPanic func(context.Context)) {
	b.spawn(ctx, what, true, fn, onPanic)
}

// watch is async without the slot: for the short waits that deliver an
// ack or a late answer, which must never queue behind handler work.
func (b *Bot) watch(ctx context.Context, what string, fn func(context.Context), onPanic func(context.Context)) {
	b.spawn(ctx, what, false, fn, onPanic)
}

func (b *Bot) spawn(ctx context.Context, what string, slot bool, fn func(context.Context), onPanic func(context.Context)) {
	b.init()
	b.work.add()
	go func() {
		defer b.work.done()
		if slot {
			b.slots <- struct{}{}
			defer func() { <-b.slots }()
		}
		// Work outlives a shutdown signal (or the HTTP request that
		// brought it) long enough to finish cleanly.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.Timeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				b.Log.Error().Str("work", what).Interface("panic", r).Str("stack", string(debug.Stack())).Msg("handler panicked")
				if onPanic != nil {
					b.guard(what+" panic answer", func() { onPanic(wctx) })
				}
			}
		}()
		fn(wctx)
	}()
}

// guard runs fn, logging instead of crashing if it panics too.
func (b *Bot) guard(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			b.Log.Error().Str("work", what).Interface("panic", r).Str("stack", string(debug.Stack())).Msg("panicked")
		}
	}()
	fn()
}

// inflight counts the work running, like a WaitGroup that may gain work
// while it is waited on: an HTTP request can arrive as the bot stops.
// Once closed, enter refuses new requests; work they spawn is still
// counted.
type inflight struct {
	mu     sync.Mutex
	cond   *sync.Cond
	n      int
	closed bool
}

func (f *inflight) lock() {
	f.mu.Lock()
	if f.cond == nil {
		f.cond = sync.NewCond(&f.mu)
	}
}

// add counts one more piece of work.
func (f *inflight) add() {
	f.lock()
	f.n++
	f.mu.Unlock()
}

// enter counts a new request unless the bot is stopping; false then.
func (f *inflight) enter() bool {
	f.lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.n++
	return true
}

// done ends one piece of work.
func (f *inflight) done() {
	f.lock()
	f.n--
	if f.n == 0 {
		f.cond.Broadcast()
	}
	f.mu.Unlock()
}

// closeAndWait refuses new requests and waits until no work runs.
func (f *inflight) closeAndWait() {
	f.lock()
	f.closed = true
	for f.n > 0 {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

// wait waits until no work runs.
func (f *inflight) wait() {
	f.lock()
	for f.n > 0 {
		f.cond.Wait()
	}
	f.mu.Unlock()
}
