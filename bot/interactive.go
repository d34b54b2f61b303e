package bot

// Slash commands and interactions: each is acknowledged within
// ReplyWithin however long the handlers (or the store under them) take.
//
// A slash command's answer rides in its ack when it is ready in time;
// otherwise the ack says SlowReply and the answer follows by DM.
//
// A modal submission may need a response_action in its ack (field errors
// shown under the fields). The handler's verdict gets ReplyWithin (2 s by
// default, a second short of Slack's limit): in time, the ack carries the
// errors or closes the modal, as before. Late, the ack replaces the modal
// with a "Working on it" notice (response_action "update", which keeps the
// view id), and when the verdict comes the same view is updated with
// views.update to say it was done, or why it was not. Field errors then
// show as a list instead of under the fields: the price of never letting
// a slow store make Slack redeliver or show "We had some trouble".

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/attestbot/attest/handlers"
)

// slash answers a command in its ack when the answer is quick, else acks
// with SlowReply and sends the answer by DM when it is ready.
func (b *Bot) slash(ctx context.Context, env *request, cmd slack.SlashCommand) {
	if cmd.UserID == "" || cmd.TriggerID == "" || cmd.Command == "" {
		b.Log.Warn().Str("command", cmd.Command).Str("slack_user", cmd.UserID).Msg("malformed slash command answered with an error")
		env.ack(replyPayload(MalformedText, nil))
		return
	}
	done := make(chan handlers.Reply, 1)
	b.async(ctx, "slash_command", func(ctx context.Context) { done <- b.Handler.Slash(ctx, cmd) },
		func(context.Context) { done <- handlers.Reply{Text: FailedText} })
	b.watch(ctx, "slash_reply", func(ctx context.Context) {
		timer := time.NewTimer(b.ReplyWithin)
		defer timer.Stop()
		select {
		case r := <-done:
			env.ack(replyPayload(r.Text, r.Blocks))
			return
		case <-timer.C:
			env.ack(replyPayload(SlowReply, nil))
		}
		select {
		case r := <-done:
			if r.Text != "" {
				b.Handler.DM(ctx, cmd.UserID, "reply:"+cmd.TriggerID, r.Text)
			}
		case <-ctx.Done():
		}
	}, func(context.Context) { env.ack(failurePayload(socketmode.RequestTypeSlashCommands, nil)) })
}

// interactive acks clicks at once and handles them after; a modal
// submission waits for the handler's verdict up to ReplyWithin.
func (b *Bot) interactive(ctx context.Context, env *request, cb slack.InteractionCallback) {
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		b.viewSubmission(ctx, env, cb)
	case slack.InteractionTypeBlockActions:
		env.ack(nil)
		if !wellFormedActions(cb) {
			b.Log.Warn().Str("slack_user", cb.User.ID).Msg("malformed block_actions answered with an error")
			b.async(ctx, "block_actions_malformed", func(ctx context.Context) { b.tell(ctx, cb, MalformedText) }, nil)
			return
		}
		sum := sha256.Sum256(env.raw)
		b.async(ctx, "block_actions", func(ctx context.Context) { b.Handler.BlockActions(ctx, cb, hex.EncodeToString(sum[:])) },
			func(ctx context.Context) { b.tell(ctx, cb, FailedText) })
	case slack.InteractionTypeBlockSuggestion:
		env.ack(map[string]any{"options": []any{}}) // attest offers no external selects
	default:
		env.ack(nil)
	}
}

// wellFormedActions reports whether a block_actions payload names who
// clicked and what.
func wellFormedActions(cb slack.InteractionCallback) bool {
	if cb.User.ID == "" || len(cb.ActionCallback.BlockActions) == 0 {
		return false
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil || a.ActionID == "" {
			return false
		}
	}
	return true
}

// verdict is the outcome of a modal submission's handling.
type verdict struct {
	errs   map[string]string
	failed bool // the handler panicked
}

// ack is the view_submission ack that carries the verdict.
func (v verdict) ack() any {
	switch {
	case v.failed:
		return errorView(FailedText)
	case len(v.errs) > 0:
		return slack.NewErrorsViewSubmissionResponse(v.errs)
	}
	return nil
}

// viewSubmission acks a modal submission with the handler's verdict when
// it comes within ReplyWithin, else with a "Working on it" notice that a
// views.update replaces with the verdict when it comes.
func (b *Bot) viewSubmission(ctx context.Context, env *request, cb slack.InteractionCallback) {
	if cb.User.ID == "" || cb.View.ID == "" || cb.View.State == nil {
		b.Log.Warn().Str("slack_user", cb.User.ID).Str("view", cb.View.ID).Msg("malformed view_submission answered with an error")
		env.ack(errorView(MalformedText))
		return
	}
	done := make(chan verdict, 1)
	b.async(ctx, "view_submission", func(ctx context.Context) { done <- verdict{errs: b.Handler.ViewSubmission(ctx, cb)} },
		func(context.Context) { done <- verdict{failed: true} })
	b.watch(ctx, "view_submission_ack", func(ctx context.Context) {
		timer := time.NewTimer(b.ReplyWithin)
		defer timer.Stop()
		select {
		case v := <-done:
			env.ack(v.ack())
			return
		case <-timer.C:
			env.ack(map[string]any{"response_action": "update", "view": noticeModal(viewTitle(cb), "Working on it…")})
		}
		select {
		case v := <-done:
			b.finishView(ctx, cb, v)
		case <-ctx.Done():
		}
	}, func(context.Context) { env.ack(errorView(FailedText)) })
}

// finishView shows a late verdict in the modal that says "Working on it".
func (b *Bot) finishView(ctx context.Context, cb slack.InteractionCallback, v verdict) {
	text := ":white_check_mark: Done."
	switch {
	case v.failed:
		text = FailedText
	case len(v.errs) > 0:
		lines := make([]string, 0, len(v.errs))
		for _, e := range v.errs {
			lines = append(lines, "• "+e)
		}
		text = ":warning: Not submitted:\n" + strings.Join(lines, "\n") + "\nClose this and try again."
	}
	if _, err := b.API.UpdateViewContext(ctx, noticeModal(viewTitle(cb), text), "", "", cb.View.ID); err != nil {
		// The user may have closed the notice already.
		b.Log.Info().Err(err).Str("view", cb.View.ID).Msg("could not show a late modal verdict")
	}
}

// viewTitle is the submitted modal's title, within Slack's 24 characters.
func viewTitle(cb slack.InteractionCallback) string {
	title := "attest"
	if cb.View.Title != nil && cb.View.Title.Text != "" {
		title = cb.View.Title.Text
	}
	for utf8.RuneCountInString(title) > 24 {
		_, size := utf8.DecodeLastRuneInString(title)
		title = title[:len(title)-size]
	}
	return title
}

// tell answers the user who clicked, through the Web API rather than the
// outbox (the store may be what failed): an ephemeral message in the
// conversation of the click, or a DM when the click was in a modal or the
// Home tab.
func (b *Bot) tell(ctx context.Context, cb slack.InteractionCallback, text string) {
	if cb.User.ID == "" || b.API == nil {
		return
	}
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	var err error
	if channel != "" {
		_, err = b.API.PostEphemeralContext(ctx, channel, cb.User.ID, slack.MsgOptionText(text, false))
	} else {
		_, _, err = b.API.PostMessageContext(ctx, cb.User.ID, slack.MsgOptionText(text, false))
	}
	if err != nil {
		b.Log.Warn().Err(err).Str("slack_user", cb.User.ID).Msg("could not tell the user their request failed")
	}
}
