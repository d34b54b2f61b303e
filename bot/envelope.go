package bot

// Acknowledgements: each request is acked exactly once, within Slack's
// 3 s, whatever becomes of its handling; and what to answer when the
// payload is malformed or its handling failed.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// maxAck keeps acknowledgements under Slack's silent 20 KB limit.
const maxAck = 16 << 10

// ackTimeout bounds the wait for the connection to take an ack: with the
// connection down, Slack redelivers on the next one anyway.
const ackTimeout = 2 * time.Second

// Texts users see when their request could not be handled.
const (
	// SlowReply is the ack of a slash command whose answer was not ready
	// within ReplyWithin: the answer follows by DM.
	SlowReply = "Working on it… I will DM you the result."
	// MalformedText answers a request Slack sent in a shape attest cannot
	// read.
	MalformedText = ":warning: attest could not read this request from Slack. Please try again."
	// FailedText answers a request whose handling failed unexpectedly.
	FailedText = ":warning: Something went wrong in attest while handling this. The IAM team can find the details in the log; please try again."
)

// envelope is the request of one Socket Mode envelope: its ack goes back
// on the connection.
func (b *Bot) envelope(req *socketmode.Request) *request {
	return &request{send: func(payload any) { b.ackID(req.EnvelopeID, payload) }, raw: req.Payload}
}

// ackID sends one ack, waiting at most ackTimeout for the connection.
func (b *Bot) ackID(id string, payload any) {
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	if err := b.Client.AckCtx(ctx, id, payload); err != nil {
		b.Log.Error().Err(err).Str("envelope", id).Msg("ack failed")
	}
}

// failurePayload is the ack that answers a request of envelope type typ
// (raw is its payload, possibly unreadable) whose handling failed or
// could not start: an ephemeral error for a slash command, an error modal
// for a modal submission, a bare ack for anything else.
func failurePayload(typ string, raw json.RawMessage) any {
	switch typ {
	case socketmode.RequestTypeSlashCommands:
		return replyPayload(FailedText, nil)
	case socketmode.RequestTypeInteractive:
		if interactionType(raw) == slack.InteractionTypeViewSubmission {
			return errorView(FailedText)
		}
	}
	return nil
}

// interactionType reads the type of an interactive payload, even one
// whose other fields are of the wrong shape.
func interactionType(raw json.RawMessage) slack.InteractionType {
	var head struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &head)
	return slack.InteractionType(head.Type)
}

// badMessage acks an envelope slack-go could not parse (an unknown type,
// or a payload of the wrong shape), so that Slack does not redeliver it,
// and answers the user with an error where the envelope type allows.
func (b *Bot) badMessage(data any) {
	bad, ok := data.(*socketmode.ErrorBadMessage)
	if !ok || bad == nil {
		return
	}
	var head struct {
		EnvelopeID string          `json:"envelope_id"`
		Type       string          `json:"type"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(bad.Message, &head); err != nil || head.EnvelopeID == "" {
		b.Log.Warn().Err(bad.Cause).Msg("unreadable Socket Mode frame dropped")
		return
	}
	b.Log.Warn().Err(bad.Cause).Str("envelope", head.EnvelopeID).Str("type", head.Type).Msg("malformed envelope answered with an error")
	var payload any
	switch head.Type {
	case socketmode.RequestTypeSlashCommands:
		payload = replyPayload(MalformedText, nil)
	case socketmode.RequestTypeInteractive:
		if interactionType(head.Payload) == slack.InteractionTypeViewSubmission {
			payload = errorView(MalformedText)
		}
	}
	b.ackID(head.EnvelopeID, payload)
}

// errorView is a view_submission ack that replaces the modal with one
// showing text: the submission is answered, the modal stays readable.
func errorView(text string) map[string]any {
	return map[string]any{"response_action": "update", "view": errorModal(text)}
}

// errorModal is a modal with one line of text and a Close button.
func errorModal(text string) slack.ModalViewRequest {
	return noticeModal("attest", text)
}

// noticeModal is a modal with a title, one section of text and a Close
// button, and no input.
func noticeModal(title, text string) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:  slack.VTModal,
		Title: slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Close: slack.NewTextBlockObject(slack.PlainTextType, "Close", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		}},
	}
}

// replyPayload is the ack carrying a slash command's answer; nil when
// there is nothing to say.
func replyPayload(text string, blocks []slack.Block) any {
	if text == "" && len(blocks) == 0 {
		return nil
	}
	p := map[string]any{"response_type": "ephemeral", "text": text}
	if len(blocks) > 0 {
		p["blocks"] = blocks
		// Slack drops acks of 20 KB or more without a word: fall back to
		// the text alone well before that.
		if raw, err := json.Marshal(p); err != nil || len(raw) > maxAck {
			delete(p, "blocks")
		}
	}
	return p
}
