package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// maxAck keeps acknowledgements under Slack's silent 20 KB limit.
const maxAck = 16 << 10

// fatalErrors stop the bot: retrying cannot fix them.
var fatalErrors = []string{"invalid_auth", "token_revoked", "missing_scope", "link_disabled", "account_inactive", "not_allowed_token_type"}

// ErrFatal wraps a Slack error that retrying cannot fix.
var ErrFatal = errors.New("slack refused the app's credentials")

// Bot runs the Socket Mode connection: every envelope is acknowledged
// first (Slack allows 3 s), then handled with a timeout and panic
// recovery on its own goroutine.
type Bot struct {
	API     *slack.Client
	Client  *socketmode.Client
	Handler *handlers.Handler
	Log     zerolog.Logger
	// Timeout bounds the handling of one envelope (default 2 minutes).
	Timeout time.Duration
	// ReplyWithin is how long a slash command may take to answer in its
	// ack; slower answers arrive by DM (default 2 s).
	ReplyWithin time.Duration

	connected atomic.Bool
	work      sync.WaitGroup
}

// Connected reports whether the Socket Mode connection is up.
func (b *Bot) Connected() bool { return b.connected.Load() }

// Run connects and serves until ctx ends, reconnecting with backoff and
// jitter; it returns an ErrFatal error on credentials Slack refuses. On
// return, in-flight work has finished.
func (b *Bot) Run(ctx context.Context) error {
	if b.Timeout <= 0 {
		b.Timeout = 2 * time.Minute
	}
	if b.ReplyWithin <= 0 {
		b.ReplyWithin = 2 * time.Second
	}
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

// dispatch acknowledges one envelope and starts its handling.
func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		b.connected.Store(true)
		b.Log.Info().Msg("slack connected (socket mode)")
	case socketmode.EventTypeConnecting:
		b.Log.Debug().Msg("slack connecting")
	case socketmode.EventTypeInvalidAuth:
		b.Log.Error().Msg("slack refused the app token")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		b.Log.Warn().Interface("error", evt.Data).Msg("slack connection error")
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		b.slash(ctx, evt.Request, cmd)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		b.interactive(ctx, evt.Request, cb)
	case socketmode.EventTypeEventsAPI:
		if evt.Request != nil {
			b.ack(evt.Request, nil)
		}
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			return
		}
		if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && home.Tab == "home" {
			b.async(ctx, "app_home_opened", func(ctx context.Context) {
				if err := b.Handler.PublishHome(ctx, home.User, ev.TeamID); err != nil {
					b.Log.Error().Err(err).Msg("publish home")
				}
			})
		}
	}
}

func (b *Bot) ack(req *socketmode.Request, payload any) {
	if err := b.Client.Ack(*req, payload); err != nil {
		b.Log.Error().Err(err).Str("envelope", req.EnvelopeID).Msg("ack failed")
	}
}

// slash answers a command in its ack when the answer is quick, else acks
// at once and sends the answer by DM when it is ready.
func (b *Bot) slash(ctx context.Context, req *socketmode.Request, cmd slack.SlashCommand) {
	done := make(chan handlers.Reply, 1)
	b.async(ctx, "slash_command", func(ctx context.Context) { done <- b.Handler.Slash(ctx, cmd) })
	select {
	case r := <-done:
		b.ack(req, replyPayload(r))
	case <-time.After(b.ReplyWithin):
		b.ack(req, map[string]any{"response_type": "ephemeral", "text": "Working on it… I will DM you the result."})
		b.async(ctx, "slash_reply", func(ctx context.Context) {
			select {
			case r := <-done:
				if r.Text != "" {
					b.Handler.DM(ctx, cmd.UserID, "reply:"+cmd.TriggerID, r.Text)
				}
			case <-ctx.Done():
			}
		})
	}
}

func replyPayload(r handlers.Reply) any {
	if r.Text == "" && len(r.Blocks) == 0 {
		return nil
	}
	p := map[string]any{"response_type": "ephemeral", "text": r.Text}
	if len(r.Blocks) > 0 {
		p["blocks"] = r.Blocks
		// Slack drops acks of 20 KB or more without a word: fall back to
		// the text alone well before that.
		if raw, err := json.Marshal(p); err != nil || len(raw) > maxAck {
			delete(p, "blocks")
		}
	}
	return p
}

// interactive acks clicks at once; a view submission is validated first
// so field errors can ride in the ack.
func (b *Bot) interactive(ctx context.Context, req *socketmode.Request, cb slack.InteractionCallback) {
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		errs := b.Handler.ViewSubmission(ctx, cb)
		if len(errs) > 0 {
			b.ack(req, slack.NewErrorsViewSubmissionResponse(errs))
			return
		}
		b.ack(req, nil)
	case slack.InteractionTypeBlockActions:
		b.ack(req, nil)
		sum := sha256.Sum256(req.Payload)
		b.async(ctx, "block_actions", func(ctx context.Context) { b.Handler.BlockActions(ctx, cb, hex.EncodeToString(sum[:])) })
	default:
		b.ack(req, nil)
	}
}

// async runs fn on its own goroutine with a timeout, recovering panics so
// one bad payload cannot take the bot down.
func (b *Bot) async(ctx context.Context, what string, fn func(context.Context)) {
	b.work.Add(1)
	go func() {
		defer b.work.Done()
		defer func() {
			if r := recover(); r != nil {
				b.Log.Error().Str("work", what).Interface("panic", r).Str("stack", string(debug.Stack())).Msg("handler panicked")
			}
		}()
		// Work outlives a shutdown signal long enough to finish cleanly.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.Timeout)
		defer cancel()
		fn(wctx)
	}()
}
