package oktatest

// OAuth 2.0 for Okta: service apps that get tokens from the org
// authorization server with client_credentials and a private_key_jwt
// client assertion, optionally DPoP-bound, and the scope checks every API
// route makes on such tokens. SSWS tokens keep full rights.

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// ServiceApp is an OAuth 2.0 service app ("API Services" app) registered
// with the fake org.
type ServiceApp struct {
	// ClientID is the app's client id (iss and sub of its assertions).
	ClientID string
	// Keys are the public keys registered under Client Credentials:
	// Public key / Private key. An assertion must verify with one of them
	// (the one its kid names, when it names one).
	Keys []jose.JSONWebKey
	// Scopes are the Okta API scopes granted to the app; a token carries
	// the requested ones among them.
	Scopes []string
	// RequireDPoP is "Require Demonstrating Proof of Possession (DPoP)
	// header in token requests", on by default for new apps.
	RequireDPoP bool
	// TokenLifetime is the access tokens' lifetime (default one hour).
	TokenLifetime time.Duration
}

// NewServiceApp returns an app with one public key (kid may be empty), the
// given granted scopes and DPoP required, as Okta creates them.
func NewServiceApp(clientID string, pub crypto.PublicKey, kid string, scopes ...string) *ServiceApp {
	return &ServiceApp{ClientID: clientID, Keys: []jose.JSONWebKey{{Key: pub, KeyID: kid, Use: "sig"}},
		Scopes: scopes, RequireDPoP: true}
}

// ServiceAppFromJWKS is NewServiceApp with the keys of a JWKS document
// ({"keys":[...]}), as an admin pastes it into Okta. It fails on a
// document that is not a JWKS of public keys.
func ServiceAppFromJWKS(clientID string, jwks []byte, scopes ...string) (*ServiceApp, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("oktatest: JWKS: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("oktatest: JWKS holds no keys")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			return nil, fmt.Errorf("oktatest: JWKS key %q is not a valid public key", k.KeyID)
		}
	}
	return &ServiceApp{ClientID: clientID, Keys: set.Keys, Scopes: scopes, RequireDPoP: true}, nil
}

// OAuthStats counts the token endpoint's work.
type OAuthStats struct {
	// TokenRequests counts POSTs to /oauth2/v1/token; Issued the tokens
	// given out; NonceChallenges the use_dpop_nonce answers (token and
	// API); Refused every other refusal of a token request.
	TokenRequests, Issued, NonceChallenges, Refused int
	// ScopeRefusals counts API calls answered 403 insufficient_scope.
	ScopeRefusals int
}

// oauthState is the authorization server's memory.
type oauthState struct {
	mu          sync.Mutex
	apps        map[string]*ServiceApp
	tokens      map[string]*issuedToken
	seenJTI     map[string]time.Time // assertion jtis, per client: "client|jti"
	seenProof   map[string]time.Time // DPoP proof jtis
	nonce       string
	demandNonce bool // API calls need the current nonce too
	stats       OAuthStats
}

type issuedToken struct {
	clientID string
	scopes   []string
	jkt      string // the DPoP key's thumbprint; "" for a Bearer token
	expires  time.Time
}

// AddServiceApp registers app, replacing one with the same client id.
func (s *Server) AddServiceApp(app *ServiceApp) {
	o := s.oauthInit()
	defer o.mu.Unlock()
	cp := *app
	o.apps[app.ClientID] = &cp
}

// RotateDPoPNonce makes the server ask for a new DPoP nonce: proofs with
// the old one are answered use_dpop_nonce.
func (s *Server) RotateDPoPNonce() {
	o := s.oauthInit()
	defer o.mu.Unlock()
	o.nonce = randomToken(12)
}

// DemandAPINonce makes API calls with DPoP-bound tokens need the current
// nonce in their proofs too (RFC 9449 §9: a 401 use_dpop_nonce).
func (s *Server) DemandAPINonce(on bool) {
	o := s.oauthInit()
	defer o.mu.Unlock()
	o.demandNonce = on
}

// RevokeTokens revokes every access token issued to clientID, as an admin
// (or /oauth2/v1/revoke) does: API calls with them are answered 401
// invalid_token. It returns how many were revoked.
func (s *Server) RevokeTokens(clientID string) int {
	o := s.oauthInit()
	defer o.mu.Unlock()
	n := 0
	for v, t := range o.tokens {
		if t.clientID == clientID {
			delete(o.tokens, v)
			n++
		}
	}
	return n
}

// OAuthStats returns the token endpoint's counters.
func (s *Server) OAuthStats() OAuthStats {
	o := s.oauthInit()
	defer o.mu.Unlock()
	return o.stats
}

// oauthInit locks the state, creating it on first use.
func (s *Server) oauthInit() *oauthState {
	o := &s.oauth
	o.mu.Lock()
	if o.apps == nil {
		o.apps, o.tokens = map[string]*ServiceApp{}, map[string]*issuedToken{}
		o.seenJTI, o.seenProof = map[string]time.Time{}, map[string]time.Time{}
		o.nonce = randomToken(12)
	}
	return o
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// oauthError is an OAuth error answer of the token endpoint.
type oauthError struct {
	status int
	code   string
	desc   string
	nonce  bool // send DPoP-Nonce
}

func (s *Server) writeOAuthError(w http.ResponseWriter, e oauthError, nonce string) {
	if e.nonce {
		w.Header().Set("DPoP-Nonce", nonce)
	}
	b, _ := json.Marshal(map[string]string{"error": e.code, "error_description": e.desc})
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// serveToken is POST /oauth2/v1/token for client_credentials with a
// private_key_jwt assertion.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	o := s.oauthInit()
	defer o.mu.Unlock()
	o.stats.TokenRequests++
	tok, e := s.issue(o, r)
	if e != nil {
		if e.code == "use_dpop_nonce" {
			o.stats.NonceChallenges++
		} else {
			o.stats.Refused++
		}
		s.writeOAuthError(w, *e, o.nonce)
		return
	}
	o.stats.Issued++
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	b, _ := json.Marshal(tok)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// tokenResponse is the token endpoint's success body.
type tokenResponse struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

// issue checks one token request, in Okta's order: the request's shape,
// the DPoP proof (a nonce is asked for before the client is
// authenticated), the client assertion, the scopes.
func (s *Server) issue(o *oauthState, r *http.Request) (*tokenResponse, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "The token endpoint only accepts POST."}
	}
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "The request body must be application/x-www-form-urlencoded."}
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		return nil, &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			desc: fmt.Sprintf("The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials]. (%q)", gt)}
	}
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || f.Get("client_assertion") == "" {
		return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: "Client authentication failed. Either the client or the client credentials are invalid."}
	}
	now := s.cfg.clock()
	assertion, err := jwt.ParseSigned(f.Get("client_assertion"))
	if err != nil {
		return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: "The client_assertion token is malformed."}
	}
	var unverified jwt.Claims
	_ = assertion.UnsafeClaimsWithoutVerification(&unverified)
	app := o.apps[unverified.Issuer]
	if app == nil {
		return nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: "The client_id " + unverified.Issuer + " is invalid."}
	}
	jkt := ""
	if app.RequireDPoP {
		if r.Header.Get("DPoP") == "" {
			return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_dpop_proof", desc: "The DPoP proof JWT header is missing."}
		}
		p, e := o.verifyProof(r.Header.Get("DPoP"), r.Method, s.URL+"/oauth2/v1/token", "", now)
		if e != nil {
			return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_dpop_proof", desc: e.Error()}
		}
		if p.nonce != o.nonce {
			return nil, &oauthError{status: http.StatusBadRequest, code: "use_dpop_nonce", desc: "Authorization server requires nonce in DPoP proof.", nonce: true}
		}
		jkt = p.jkt
	}
	if e := o.verifyAssertion(assertion, app, s.URL+"/oauth2/v1/token", now); e != nil {
		return nil, e
	}
	requested := strings.Fields(f.Get("scope"))
	if len(requested) == 0 {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope", desc: "The authorization server resource does not have any configured default scopes, 'scope' must be provided."}
	}
	var granted []string
	for _, sc := range requested {
		if slices.Contains(app.Scopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if len(granted) == 0 {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope", desc: "None of the requested scopes is granted to the client: " + strings.Join(requested, " ")}
	}
	life := app.TokenLifetime
	if life <= 0 {
		life = time.Hour
	}
	value := randomToken(32)
	o.tokens[value] = &issuedToken{clientID: app.ClientID, scopes: granted, jkt: jkt, expires: now.Add(life)}
	typ := "Bearer"
	if jkt != "" {
		typ = "DPoP"
	}
	return &tokenResponse{TokenType: typ, ExpiresIn: int64(life / time.Second), AccessToken: value, Scope: strings.Join(granted, " ")}, nil
}

// verifyAssertion checks the client assertion's signature against the
// app's keys, its aud, iss and sub, its expiry (at most an hour ahead) and
// that its jti was never used.
func (o *oauthState) verifyAssertion(tok *jwt.JSONWebToken, app *ServiceApp, aud string, now time.Time) *oauthError {
	refuse := func(desc string) *oauthError {
		return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc}
	}
	if len(tok.Headers) != 1 {
		return refuse("The client_assertion token is malformed.")
	}
	h := tok.Headers[0]
	if h.Algorithm != string(jose.RS256) && h.Algorithm != string(jose.ES256) && h.Algorithm != string(jose.RS384) &&
		h.Algorithm != string(jose.RS512) && h.Algorithm != string(jose.ES384) && h.Algorithm != string(jose.ES512) {
		return refuse("The client_assertion token has an unsupported signing algorithm: " + h.Algorithm + ".")
	}
	var c jwt.Claims
	verified := false
	for _, k := range app.Keys {
		if h.KeyID != "" && k.KeyID != "" && k.KeyID != h.KeyID {
			continue
		}
		if tok.Claims(k.Key, &c) == nil {
			verified = true
			break
		}
	}
	switch {
	case !verified:
		return refuse("The client_assertion signature is invalid.")
	case c.Issuer != app.ClientID || c.Subject != app.ClientID:
		return refuse("The client_assertion token's iss and sub claims must both be the client_id.")
	case !c.Audience.Contains(aud):
		return refuse("The audience [aud] claim in the client_assertion token is invalid.")
	case c.Expiry == nil:
		return refuse("The client_assertion token must have an expiration claim (exp).")
	case !now.Before(c.Expiry.Time()):
		return refuse("The client_assertion token is expired.")
	case c.Expiry.Time().Sub(now) > time.Hour+time.Minute:
		return refuse("The client_assertion token has an expiration too far into the future.")
	}
	if c.ID != "" {
		key := app.ClientID + "|" + c.ID
		if _, used := o.seenJTI[key]; used {
			return refuse("The client_assertion token has already been used (jti replay).")
		}
		o.seenJTI[key] = c.Expiry.Time()
	}
	return nil
}
