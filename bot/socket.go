package bot

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
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// fatalErrors stop the bot: retrying cannot fix them.
var fatalErrors = []string{"invalid_auth", "token_revoked", "missing_scope", "link_disabled", "account_inactive", "not_allowed_token_type"}

// ErrFatal wraps a Slack error that retrying cannot fix.
var ErrFatal = errors.New("slack refused the app's credentials")

// Connected reports whether the Socket Mode connection is up.
func (b *Bot) Connected() bool { return b.connected.Load() }

// Run serves until ctx ends. Over Socket Mode it connects, reconnecting
// with backoff and jitter, and returns an ErrFatal error on credentials
// Slack refuses. In HTTP mode (no Client) the requests come through
// HTTPHandler: Run only waits, and once ctx ends refuses new requests.
// On return, in-flight work has finished.
func (b *Bot) Run(ctx context.Context) error {
	b.init()
	if b.Client == nil {
		b.Log.Info().Str("mode", b.Mode()).Msg("slack requests served over HTTP")
		<-ctx.Done()
		b.work.closeAndWait()
		return nil
	}
	defer b.work.wait()
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
			b.socketEvent(ctx, evt)
		}
	}
}

// socketEvent acknowledges one envelope, or starts the goroutine that will,
// and starts its handling. It never blocks on handler work, and a panic
// in it is recovered: the loop goes on with the next envelope.
func (b *Bot) socketEvent(ctx context.Context, evt socketmode.Event) {
	var env *request
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
			b.event(ctx, ev, eventID(evt.Request))
		}
	default:
		if env != nil && evt.Request.EnvelopeID != "" {
			env.ack(nil)
		}
	}
}

// eventID reads the event_id of an events_api envelope's payload: a
// redelivery has a new envelope id but the same event_id.
func eventID(req *socketmode.Request) string {
	if req == nil {
		return ""
	}
	var head struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(req.Payload, &head)
	return head.EventID
}
