package handlers

import (
	"context"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// Store is what the handlers keep besides campaigns: who is who in Slack,
// the outbox, and which interactions were already handled.
type Store interface {
	slackrec.OutboxStore
	// ReplaceSlackUsers makes users the whole mapping (a refresh).
	ReplaceSlackUsers(ctx context.Context, users []slackrec.User) error
	// SlackUserBySlack and SlackUserByOkta look a mapping up, or return
	// campaign.ErrNotFound.
	SlackUserBySlack(ctx context.Context, slackID string) (slackrec.User, error)
	SlackUserByOkta(ctx context.Context, oktaUserID string) (slackrec.User, error)
	// MarkHandled records an interaction key; false if it was seen before.
	MarkHandled(ctx context.Context, key string, at time.Time) (bool, error)
	// SnapshotApps and SnapshotGroupNames give a snapshot's apps and group
	// names; UserUsage a user's last sign-in per app id.
	SnapshotApps(ctx context.Context, snapshotID int64) ([]campaign.App, error)
	SnapshotGroupNames(ctx context.Context, snapshotID int64) (map[string]string, error)
	UserUsage(ctx context.Context, snapshotID int64, userID string) (map[string]time.Time, error)
}
