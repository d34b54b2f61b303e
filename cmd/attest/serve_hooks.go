package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/ticketjob"
	"github.com/attestbot/attest/store"
)

// startHooks processes stored Okta event hook deliveries when the hook is
// configured: risky grants and risk detections become reviews, and the
// security team hears about risk changes in the approvals channel.
func startHooks(ctx context.Context, cfg *config.Config, log zerolog.Logger, st *store.Store, engine *campaign.Engine, slack *slackApp) {
	if !cfg.Okta.EventHook.Secret.IsSet() {
		return
	}
	t := &hooks.Triggers{Engine: engine, Risk: engine.Risk, DecideWithin: 3 * 24 * time.Hour,
		QuarantineGroup: cfg.Okta.EventHook.QuarantineGroup}
	t.Access = func(ctx context.Context, userID string) ([]campaign.Grant, error) {
		return engine.RiskyAccess(ctx, userID, "high")
	}
	if sn := cfg.ServiceNow; sn.Enabled() {
		t.Incident = func(ctx context.Context, key, text string) error {
			_, err := st.EnqueueTicket(ctx, ticketjob.Job{Key: key, Ref: key, Kind: ticketjob.KindRemediation, Table: sn.Table,
				Action: ticketjob.ActionCreate, Fields: map[string]string{"short_description": "attest: user risk rated HIGH by Okta",
					"description": text, "assignment_group": sn.AssignmentGroup}})
			return err
		}
	}
	if slack != nil {
		t.Alert = func(ctx context.Context, key, text string) error {
			return slack.handler.PostTo(ctx, cfg.Slack.SecurityChannel, key, text)
		}
	}
	p := &hooks.Processor{Store: st, Handle: t.Handle, Log: log.With().Str("component", "event-hooks").Logger()}
	go p.Run(ctx, 5*time.Second)
	log.Info().Msg("Okta event hooks: /okta/events accepts deliveries")
}
