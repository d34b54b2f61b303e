package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/servicenow"
	"github.com/attestbot/attest/store"
)

// startServiceNow files tickets when ServiceNow is configured: the engine's
// notifications also go to a Filer that queues ticket work in the store,
// and a Worker delivers it (an outage only delays tickets).
func startServiceNow(ctx context.Context, cfg *config.Config, log zerolog.Logger, st *store.Store, engine *campaign.Engine) error {
	if !cfg.ServiceNow.Enabled() {
		return nil
	}
	sn := cfg.ServiceNow
	client, err := servicenow.New(servicenow.Options{BaseURL: sn.URL, Username: sn.Username, Password: sn.Password.Reveal(),
		ClientID: sn.ClientID, ClientSecret: sn.ClientSecret.Reveal()})
	if err != nil {
		return err
	}
	filer := &servicenow.Filer{Queue: st, Campaigns: st, Table: sn.Table, AssignmentGroup: sn.AssignmentGroup,
		CallerID: sn.CallerID, ReviewTickets: sn.ReviewTickets}
	engine.Notifier = campaign.Notifiers{engine.Notifier, filer}
	w := &servicenow.Worker{Client: client, Store: st, Log: log.With().Str("component", "servicenow").Logger(),
		CloseCode: sn.CloseCode, CloseNotes: sn.CloseNotes}
	go w.Run(ctx, 30*time.Second)
	log.Info().Str("table", sn.Table).Bool("review_tickets", sn.ReviewTickets).Msg("ServiceNow tickets enabled")
	return nil
}
