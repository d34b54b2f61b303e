package handlers

import (
	"github.com/rs/zerolog"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// What a Slack user reads when an error has no user-safe message of its
// own. An engine error's text is for the log: it may name other people,
// their cases or the database, so it is never shown.
const (
	msgNotYours  = "This action is not yours to take."
	msgConflict  = "This was already done, or the review has moved on since."
	msgNotFound  = "That campaign or item does not exist (any more)."
	msgInvalid   = "That request is not one attest can handle."
	msgTransient = "Slack or Okta did not answer in time; please try again in a minute."
	msgInternal  = "Something went wrong on attest's side; it has been logged for the IAM team. Please try again later."
	// msgBadButton answers a click whose action or value attest never emits.
	msgBadButton = "This button is not one attest can handle (it may belong to an old message). Open the latest message from attest, or the app's Home tab."
)

// sentence returns the plain sentence a Slack user sees for err, with an
// emoji for its kind: the *campaign.Error message for the user-facing
// kinds, a generic sentence otherwise. Internal errors are logged here,
// whole, so the person's generic answer has its story in the log.
func sentence(log zerolog.Logger, err error) string {
	code, msg := campaign.ErrorCode(err), campaign.ErrorMessage(err)
	switch code {
	case campaign.EInternal:
		log.Error().Err(err).Msg("internal error; the user was told something went wrong")
		return ":warning: " + msgInternal
	case campaign.ETransient:
		log.Warn().Err(err).Msg("temporary failure shown to the user")
		return ":hourglass: " + orElse(msg, msgTransient)
	case campaign.EForbidden:
		return ":no_entry: " + orElse(msg, msgNotYours)
	case campaign.EConflict:
		return ":lock: " + orElse(msg, msgConflict)
	case campaign.ENotFound:
		return ":warning: " + orElse(msg, msgNotFound)
	}
	return ":warning: " + orElse(msg, msgInvalid)
}

// userMessage is sentence escaped for mrkdwn (replies, ephemerals, DMs).
func userMessage(log zerolog.Logger, err error) string {
	return blocks.Escape(sentence(log, err))
}

// refuse wraps an engine error with the sentence to show for its kind at
// one call site: msgs maps a code to the sentence. An error already
// carrying a user-safe message keeps it; other kinds keep the generic one.
func refuse(err error, msgs map[string]string) error {
	if err == nil || campaign.ErrorMessage(err) != "" {
		return err
	}
	if m, ok := msgs[campaign.ErrorCode(err)]; ok {
		return campaign.WithMessage(err, m)
	}
	return err
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
