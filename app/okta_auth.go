package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/metrics"
	"github.com/attestbot/attest/okta"
)

// newOktaClient builds the read client (sync, lookups) or, with write, the
// client of removals: on the SSWS token (okta.api_token, or
// okta.write_api_token for writes) or, with okta.auth: private_key, as the
// OAuth service app (okta.client_id / okta.write_client_id). It sends no
// request.
func newOktaClient(ctx context.Context, cfg *config.Config, log zerolog.Logger, m *metrics.Metrics, write bool) (*okta.Client, error) {
	o := OktaOptions(cfg, log, m)
	if write {
		o.Token = cfg.Okta.WriteToken().Reveal()
	}
	if cfg.Okta.Auth == config.OktaAuthPrivateKey {
		oauth, err := oauthOptions(cfg.Okta, write)
		if err != nil {
			return nil, err
		}
		o.OAuth, o.Token = oauth, ""
	}
	return okta.New(ctx, o)
}

// oauthOptions reads the service app's key; the error names the key.
func oauthOptions(oc config.OktaConfig, write bool) (*okta.OAuth, error) {
	keyName, client, err := "okta.private_key", config.OAuthClient{}, error(nil)
	if write {
		keyName = "okta.write_private_key"
		client, err = oc.WriteClient()
	} else {
		client, err = oc.ReadClient()
	}
	if err != nil {
		return nil, err
	}
	key, err := okta.ParsePrivateKey(client.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyName, err)
	}
	return &okta.OAuth{ClientID: client.ClientID, Key: key, KeyID: client.KeyID, Scopes: client.Scopes, DPoP: client.DPoP}, nil
}

// checkOktaAuth gets a token for the read and the write service app and
// checks Okta granted every scope asked for, so that serve fails at
// start-up, naming the client and the scope, instead of at the first sync
// or removal. A refusal fails; Okta out of reach is logged, and each
// request tries again later. With SSWS tokens it does nothing.
func (a *App) checkOktaAuth(ctx context.Context) error {
	if a.Config.Okta.Auth != config.OktaAuthPrivateKey || a.Config.RequireOkta() != nil {
		return nil
	}
	read, err := newOktaClient(ctx, a.Config, a.Log, nil, false)
	if err != nil {
		return err
	}
	clients := []*okta.Client{read}
	if a.Executor != nil {
		if w, ok := a.Executor.Okta.(*okta.Client); ok {
			clients = append(clients, w)
		}
	}
	for _, c := range clients {
		err := c.CheckAuth(ctx)
		switch {
		case err == nil:
		case errors.Is(err, campaign.ErrTransient):
			a.Log.Warn().Err(err).Msg("Okta could not be asked for a token at start-up; it is asked again at the first request")
		default:
			return err
		}
	}
	return nil
}
