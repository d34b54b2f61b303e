package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// call performs the Slack call of one outbox item and returns the channel
// and ts of the message it made or changed.
func (s *Sender) call(ctx context.Context, it slackrec.OutboxItem) (string, string, error) {
	blocks, err := blocksOf(it.Payload.Blocks)
	if err != nil {
		return "", "", targetErr(it, err)
	}
	switch it.Kind {
	case slackrec.KindPost:
		channel, oktaID, err := s.resolve(ctx, it.Target)
		if err != nil {
			return "", "", targetErr(it, err)
		}
		opts := []slack.MsgOption{slack.MsgOptionText(it.Payload.Text, false), keyMeta(it.Key)}
		if len(blocks.BlockSet) > 0 {
			opts = append(opts, slack.MsgOptionBlocks(blocks.BlockSet...))
		}
		if it.ThreadRef != "" {
			_, ts, err := s.Store.MessageRef(ctx, it.ThreadRef)
			if err != nil {
				return "", "", targetErr(it, err)
			}
			opts = append(opts, slack.MsgOptionTS(ts))
		}
		ch, ts, err := s.API.PostMessageContext(ctx, channel, opts...)
		if err == nil && oktaID != "" && strings.HasPrefix(ch, "D") {
			_ = s.Store.SetDMChannel(ctx, oktaID, ch)
		}
		return ch, ts, err
	case slackrec.KindUpdate:
		ch, ts, err := s.Store.MessageRef(ctx, it.Ref)
		if errors.Is(err, campaign.ErrNotFound) {
			err = fmt.Errorf("%w: %w", errNoMessage, err)
		}
		if err != nil {
			return "", "", targetErr(it, err)
		}
		// Always send blocks with the text: an update with text alone
		// wipes the message's blocks.
		opts := []slack.MsgOption{slack.MsgOptionText(it.Payload.Text, false), slack.MsgOptionBlocks(blocks.BlockSet...)}
		ch, ts, _, err = s.API.UpdateMessageContext(ctx, ch, ts, opts...)
		return ch, ts, err
	case slackrec.KindEphemeral:
		channel, _, err := s.resolve(ctx, it.Target)
		if err != nil {
			return "", "", targetErr(it, err)
		}
		opts := []slack.MsgOption{slack.MsgOptionText(it.Payload.Text, false)}
		if len(blocks.BlockSet) > 0 {
			opts = append(opts, slack.MsgOptionBlocks(blocks.BlockSet...))
		}
		ts, err := s.API.PostEphemeralContext(ctx, channel, it.Payload.User, opts...)
		return channel, ts, err
	case slackrec.KindUpload:
		channel, _, err := s.resolve(ctx, it.Target)
		if err != nil {
			return "", "", targetErr(it, err)
		}
		params := slack.UploadFileParameters{Channel: channel, Filename: it.Payload.FileName, Title: it.Payload.Title,
			Reader: bytes.NewReader(it.Payload.File), FileSize: len(it.Payload.File), InitialComment: it.Payload.Text}
		if it.ThreadRef != "" {
			if _, ts, err := s.Store.MessageRef(ctx, it.ThreadRef); err == nil {
				params.ThreadTimestamp = ts
			}
		}
		f, err := s.API.UploadFileContext(ctx, params)
		if err != nil {
			return "", "", err
		}
		return channel, f.ID, nil
	}
	return "", "", targetErr(it, fmt.Errorf("unknown kind %q", it.Kind))
}

// resolve turns a target into a channel: "okta:<id>" is that user's DM
// (the cached D channel, or their Slack id, which Slack opens as the DM and
// answers with its D channel).
func (s *Sender) resolve(ctx context.Context, target string) (channel, oktaID string, err error) {
	oktaID, ok := strings.CutPrefix(target, "okta:")
	if !ok {
		return target, "", nil
	}
	slackID, dm, err := s.Store.DMChannel(ctx, oktaID)
	if errors.Is(err, campaign.ErrNotFound) {
		return "", oktaID, fmt.Errorf("%w: %s has no Slack account", errNoChannel, oktaID)
	}
	if err != nil {
		return "", oktaID, err
	}
	if dm != "" {
		return dm, oktaID, nil
	}
	return slackID, oktaID, nil
}

// Recover settles the messages a stopped process left in flight: a post
// that Slack already holds (found by its metadata key in the channel's
// recent history) is recorded as sent; anything else is queued again. So a
// crash between Slack's answer and the store's write never sends twice.
// With a Lease only claims older than it are taken over (a live replica's
// are left alone); without, every item in sending is.
func (s *Sender) Recover(ctx context.Context) error {
	s.init()
	before := s.Now().Add(time.Second)
	if s.Lease > 0 {
		before = s.Now().Add(-s.Lease)
	}
	stuck, err := s.Store.ReclaimOutbox(ctx, before)
	if err != nil {
		return err
	}
	for _, it := range stuck {
		if it.Kind == slackrec.KindPost {
			ch, ts, found, err := s.findPosted(ctx, it)
			if err != nil {
				s.Log.Warn().Err(err).Str("key", it.Key).Msg("outbox recovery: history lookup failed; resending")
			}
			if found {
				if err := s.Store.OutboxSent(ctx, it.ID, ch, ts); err != nil {
					return err
				}
				s.Log.Info().Str("key", it.Key).Msg("outbox recovery: already delivered")
				continue
			}
		}
		if err := s.Store.OutboxRetry(ctx, it.ID, s.Now(), "recovered after restart"); err != nil {
			return err
		}
	}
	if len(stuck) > 0 {
		s.Log.Info().Int("messages", len(stuck)).Msg("outbox recovered messages left in flight")
	}
	return nil
}

// findPosted looks for the item's key in the target channel's history
// since the item was queued.
func (s *Sender) findPosted(ctx context.Context, it slackrec.OutboxItem) (string, string, bool, error) {
	channel, oktaID, err := s.resolve(ctx, it.Target)
	if err != nil {
		return "", "", false, err
	}
	if oktaID != "" && !strings.HasPrefix(channel, "D") {
		ch, _, _, err := s.API.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{channel}})
		if err != nil {
			return "", "", false, err
		}
		channel = ch.ID
	}
	params := &slack.GetConversationHistoryParameters{ChannelID: channel, IncludeAllMetadata: true, Limit: 200,
		Oldest: fmt.Sprintf("%d.000000", it.CreatedAt.Add(-time.Minute).Unix())}
	for {
		h, err := s.API.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", "", false, err
		}
		for _, m := range h.Messages {
			if m.Metadata.EventType == metaType && fmt.Sprint(m.Metadata.EventPayload["key"]) == it.Key {
				return channel, m.Timestamp, true, nil
			}
		}
		if !h.HasMore || h.ResponseMetaData.NextCursor == "" {
			return "", "", false, nil
		}
		params.Cursor = h.ResponseMetaData.NextCursor
	}
}
