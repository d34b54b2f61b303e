package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/handlers"
)

// fatalErrors stop the bot: retrying cannot fix them.
var fatalErrors = []string{"invalid_auth", "token_revoked", "missing_scope", "link_disabled", "account_inactive", "not_allowed_token_type"}

// ErrFatal wraps a Slack error that retrying cannot fix.
var ErrFatal = errors.New("slack refused the app's credentials")

// Inbound is what the bot hands Slack's envelopes to: the handlers.
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

// Bot runs the Socket Mode connection. The loop that reads envelopes
// never waits on the handlers or the store: every envelope is
// acknowledged within ReplyWithin (well inside Slack's 3 s), handled on a
// goroutine of its own with a timeout, and a panic anywhere in that
// handling is logged with its stack and answered with an error where
// Slack lets the bot answer.
type Bot struct {
	API     *slack.Client
	Client  *socketmode.Client
	Handler Inbound
	Log     zerolog.Logger
	// Timeout bounds the handling of one envelope (default 2 minutes).
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
	work      sync.WaitGroup
	once      sync.Once
	slots     chan struct{}
}

// Connected reports whether the Socket Mode connection is up.
func (b *Bot) Connected() bool { return b.connected.Load() }

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
		b.slots = make(chan struct{}, b.Workers)
	})
}

// Run connects and serves until ctx ends, reconnecting with backoff and
// jitter; it returns an ErrFatal error on credentials Slack refuses. On
// return, in-flight work has finished.
func (b *Bot) Run(ctx context.Context) error {
	b.init()
	defer b.work.Wait()
	go b.events(ctx)
	for attempt := 0; ; attempt++ {
		err := b.Client.RunContext(ctx)
		b.connected.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if fatal(err) {
			return fmt.Errorf("%w: %v (check SLACK_APP_TOKEN, SLACK_BOT_TOKEN and the app's scopes)", ErrFatal, err)
		}
		wait := time.Duration(1<<min(attempt, 6)) * time.Second
		wait += time.Duration(rand.Int64N(int64(wait / 2)))
		b.Log.Warn().Err(err).Dur("retry_in", wait).Msg("slack connection lost; reconnecting")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func fatal(err error) bool {
	if err == nil {
		return false
	}
	for _, f := range fatalErrors {
		if strings.Contains(err.Error(), f) {
			return true
		}
	}
	return false
}

// events reads the client's event stream until ctx ends.
func (b *Bot) events(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt, ok := <-b.Client.Events:
			if !ok {
				return
			}
			b.dispatch(ctx, evt)
		}
	}
}

// dispatch acknowledges one envelope, or starts the goroutine that will,
// and starts its handling. It never blocks on handler work, and a panic
// in it is recovered: the loop goes on with the next envelope.
func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event) {
	var env *envelope
	if evt.Request != nil {
		env = b.envelope(evt.Request)
	}
	defer func() {
		if r := recover(); r != nil {
			b.Log.Error().Str("event", string(evt.Type)).Interface("panic", r).Str("stack", string(debug.Stack())).Msg("dispatch panicked")
			if env != nil {
				env.ack(failurePayload(evt.Request.Type, evt.Request.Payload))
			}
		}
	}()
	switch evt.Type {
	case socketmode.EventTypeConnected:
		b.connected.Store(true)
		b.Log.Info().Msg("slack connected (socket mode)")
	case socketmode.EventTypeConnecting:
		b.Log.Debug().Msg("slack connecting")
	case socketmode.EventTypeHello:
		// Slack's greeting on a new connection: nothing to acknowledge.
	case socketmode.EventTypeInvalidAuth:
		b.Log.Error().Msg("slack refused the app token")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		b.Log.Warn().Interface("error", evt.Data).Msg("slack connection error")
	case socketmode.EventTypeErrorBadMessage:
		b.badMessage(evt.Data)
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if env == nil {
			return
		}
		if !ok {
			env.ack(failurePayload(socketmode.RequestTypeSlashCommands, nil))
			return
		}
		b.slash(ctx, env, cmd)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if env == nil {
			return
		}
		if !ok {
			env.ack(nil)
			return
		}
		b.interactive(ctx, env, cb)
	case socketmode.EventTypeEventsAPI:
		if env != nil {
			env.ack(nil)
		}
		if ev, ok := evt.Data.(slackevents.EventsAPIEvent); ok {
			b.event(ctx, ev)
		}
	default:
		if env != nil && env.req.EnvelopeID != "" {
			env.ack(nil)
		}
	}
}

// event starts the handling of an Events API event, already acked.
func (b *Bot) event(ctx context.Context, ev slackevents.EventsAPIEvent) {
	home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || home == nil || home.Tab != "home" {
		return
	}
	if home.User == "" {
		b.Log.Warn().Msg("app_home_opened without a user dropped")
		return
	}
	b.async(ctx, "app_home_opened", func(ctx context.Context) {
		if err := b.Handler.PublishHome(ctx, home.User, ev.TeamID); err != nil {
			b.Log.Error().Err(err).Str("slack_user", home.User).Msg("publish home")
		}
	}, nil)
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
	b.work.Add(1)
	go func() {
		defer b.work.Done()
		if slot {
			b.slots <- struct{}{}
			defer func() { <-b.slots }()
		}
		// Work outlives a shutdown signal long enough to finish cleanly.
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
