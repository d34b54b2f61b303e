package okta

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/attestbot/attest/campaign"
)

// oauthTransport sits under the pacer and over the network: it puts the
// service app's token (and a fresh DPoP proof) on every attempt, so a
// retry by the pacer is signed anew. The SDK's own Authorization header (a
// placeholder) is replaced.
type oauthTransport struct {
	base http.RoundTripper
	src  *tokenSource
}

// RoundTrip authorizes req and sends it. A 401 asking for a DPoP nonce, or
// saying the token is no longer valid, is answered once with a new proof
// or token; a 403 for a missing scope becomes a *ScopeError.
func (t *oauthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		tok, err := t.src.token(ctx)
		if err != nil {
			return nil, err
		}
		r, err := rewind(req)
		if err != nil {
			return nil, err
		}
		if err := t.authorize(r, tok); err != nil {
			return nil, err
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		if n := resp.Header.Get("DPoP-Nonce"); n != "" && t.src.dpop != nil && resp.StatusCode != http.StatusUnauthorized {
			t.src.dpop.setNonce("api", n)
		}
		challenge := resp.Header.Get("WWW-Authenticate")
		retryable := attempt == 0 && (req.Body == nil || req.GetBody != nil)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && retryable && authError(challenge) == "use_dpop_nonce" &&
			t.src.dpop != nil && t.src.dpop.setNonce("api", resp.Header.Get("DPoP-Nonce")):
			drain(resp)
			continue
		case resp.StatusCode == http.StatusUnauthorized && retryable && authError(challenge) == "invalid_token":
			// Revoked or expired early on Okta's side: one new token.
			t.src.invalidate(tok)
			drain(resp)
			continue
		case resp.StatusCode == http.StatusForbidden && authError(challenge) == "insufficient_scope":
			drain(resp)
			return nil, &ScopeError{ClientID: t.src.o.ClientID, Scope: authParam(challenge, "scope"),
				Method: req.Method, Path: req.URL.Path, Granted: tok.scopes}
		}
		return resp, nil
	}
}

// authorize sets the Authorization header (DPoP or Bearer) and the proof.
func (t *oauthTransport) authorize(r *http.Request, tok *token) error {
	r.Header.Del("Authorization")
	r.Header.Del("DPoP")
	if !tok.dpop {
		r.Header.Set("Authorization", "Bearer "+tok.value)
		return nil
	}
	proof, err := t.src.dpop.proof("api", r.Method, r.URL, tok.value, t.src.now())
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "DPoP "+tok.value)
	r.Header.Set("DPoP", proof)
	return nil
}

var authParamRE = regexp.MustCompile(`([A-Za-z_]+)="([^"]*)"`)

// authParam reads one parameter of a WWW-Authenticate challenge.
func authParam(challenge, name string) string {
	for _, m := range authParamRE.FindAllStringSubmatch(challenge, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

func authError(challenge string) string { return authParam(challenge, "error") }

// ScopeError is Okta's 403 insufficient_scope: the service app's token
// lacks the scope an endpoint needs. It unwraps to campaign.ErrForbidden.
type ScopeError struct {
	ClientID string
	Scope    string // the scope Okta names as required; may be empty
	Method   string
	Path     string
	Granted  []string
}

// Error names the client, the scope and where to grant it.
func (e *ScopeError) Error() string { return "okta: " + e.reason() + " (insufficient_scope)" }

func (e *ScopeError) reason() string {
	scope := e.Scope
	if scope == "" {
		scope = "a scope it was not granted"
	}
	return fmt.Sprintf("%s %s needs %s, which the token of OAuth client %s does not carry (granted: %s); "+
		"grant it on the app's Okta API Scopes tab and add it to the client's scopes in the config",
		e.Method, e.Path, scope, e.ClientID, strings.Join(e.Granted, " "))
}

// Unwrap returns campaign.ErrForbidden.
func (e *ScopeError) Unwrap() error { return campaign.ErrForbidden }

// CheckAuth fetches a token now and checks that Okta granted every scope
// requested, so that serve fails at start-up rather than at the first
// removal. With an SSWS token it does nothing. The error names the client,
// the missing scopes and where to grant them, or why the token was refused.
func (c *Client) CheckAuth(ctx context.Context) error {
	if c.oauth == nil {
		return nil
	}
	tok, err := c.oauth.token(ctx)
	if err != nil {
		return err
	}
	if missing := missingScopes(c.oauth.o.Scopes, tok.scopes); len(missing) > 0 {
		return fmt.Errorf("okta: OAuth client %s was not granted %s (granted: %s); %s: %w", c.oauth.o.ClientID,
			strings.Join(missing, " "), strings.Join(tok.scopes, " "), adminFixScopes, campaign.ErrForbidden)
	}
	c.log.Info().Str("client_id", c.oauth.o.ClientID).Strs("scopes", tok.scopes).Bool("dpop", tok.dpop).
		Msg("okta OAuth client authenticated")
	return nil
}
