package okta

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
)

// OAuth makes a Client authenticate as an Okta OAuth 2.0 service app
// (client credentials with a private_key_jwt assertion) instead of with an
// SSWS token. attest mints the assertion and the DPoP proofs itself: the
// SDK's PrivateKey mode sends no jti and cannot send DPoP proofs.
type OAuth struct {
	// ClientID is the service app's client id.
	ClientID string
	// Key signs the client assertion: an *rsa.PrivateKey (RS256) or a
	// P-256 *ecdsa.PrivateKey (ES256). Never logged.
	Key crypto.Signer
	// KeyID, when set, is sent as the assertion's kid header: the kid of
	// the public key registered with the app.
	KeyID string
	// Scopes are requested with every token.
	Scopes []string
	// DPoP binds tokens to an ephemeral key with a proof on every request;
	// Okta requires it when the app's "Require Demonstrating Proof of
	// Possession (DPoP) header in token requests" is on.
	DPoP bool
	// Now is the clock for assertions, proofs and token expiry (default
	// time.Now).
	Now func() time.Time
}

// The assertion's lifetime (Okta accepts at most an hour) and how long
// before a token's expiry a new one is fetched.
const (
	assertionLifetime = 5 * time.Minute
	refreshEarly      = 60 * time.Second
	tokenPath         = "/oauth2/v1/token"
	jwtBearerType     = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	adminFixKey       = "upload the public key under the service app's Client Credentials: Public key / Private key, " +
		"and choose 'Public key / Private key' as client authentication"
	adminFixScopes = "grant them on the app's Okta API Scopes tab"
)

// ParsePrivateKey reads a PEM private key: PKCS#1 RSA, SEC 1 EC or PKCS#8
// holding either. It fails, without quoting the key, on anything else or
// on an EC key on a curve other than P-256.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("not a PEM block (want -----BEGIN PRIVATE KEY----- or -----BEGIN RSA/EC PRIVATE KEY-----)")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a PEM %q block is not a private key; give the RSA or EC private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("the PEM %q block does not parse as a private key", block.Type)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("the RSA key has %d bits; Okta wants at least 2048", k.N.BitLen())
		}
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("the EC key is on %s; use P-256 (ES256)", k.Curve.Params().Name)
		}
		return k, nil
	}
	return nil, fmt.Errorf("a %T is neither an RSA nor an EC private key", key)
}

// signingAlg is the assertion's algorithm for a key.
func signingAlg(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return jose.ES256, nil
		}
	}
	return "", fmt.Errorf("okta: a %T cannot sign the client assertion; use an RSA or a P-256 EC key", key)
}

// token is one access token and what Okta said about it.
type token struct {
	value   string
	dpop    bool // token_type DPoP: sent with the DPoP scheme and a proof
	expires time.Time
	scopes  []string
}

// tokenSource fetches and caches the service app's access token. One
// fetch runs at a time; the others wait for it and share its token.
type tokenSource struct {
	o        OAuth
	tokenURL string
	signer   jose.Signer
	hc       *http.Client // the bare transport: token requests are not paced
	dpop     *dpopProver  // nil with DPoP off
	now      func() time.Time
	log      zerolog.Logger

	sem chan struct{} // held while fetching and reading tok
	tok *token
}

func newTokenSource(org string, o OAuth, base http.RoundTripper, log zerolog.Logger) (*tokenSource, error) {
	if strings.TrimSpace(o.ClientID) == "" {
		return nil, errors.New("okta: OAuth client id is empty; set okta.client_id to the service app's client id")
	}
	if o.Key == nil {
		return nil, fmt.Errorf("okta: OAuth client %s has no private key; set okta.private_key or OKTA_PRIVATE_KEY", o.ClientID)
	}
	if len(o.Scopes) == 0 {
		return nil, fmt.Errorf("okta: OAuth client %s requests no scopes; set okta.scopes", o.ClientID)
	}
	alg, err := signingAlg(o.Key)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: o.Key, KeyID: o.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("okta: client assertion signer: %w", err)
	}
	s := &tokenSource{o: o, tokenURL: org + tokenPath, signer: signer, hc: &http.Client{Transport: base},
		now: o.Now, log: log, sem: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = time.Now
	}
	if o.DPoP {
		if s.dpop, err = newDPoPProver(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// token returns a token valid for at least refreshEarly more, fetching a
// new one when the cached one is older.
func (s *tokenSource) token(ctx context.Context) (*token, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	if s.tok != nil && s.now().Add(refreshEarly).Before(s.tok.expires) {
		return s.tok, nil
	}
	t, err := s.fetch(ctx)
	if err != nil {
		return nil, err
	}
	s.tok = t
	return t, nil
}

// invalidate drops t from the cache (Okta refused it), unless a newer
// token already replaced it.
func (s *tokenSource) invalidate(t *token) {
	s.sem <- struct{}{}
	if s.tok == t {
		s.tok = nil
	}
	<-s.sem
}

// tokenAnswer is the token endpoint's JSON: a token or an OAuth error.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// fetch asks Okta for a token, answering one use_dpop_nonce challenge.
func (s *tokenSource) fetch(ctx context.Context) (*token, error) {
	for attempt := 0; ; attempt++ {
		resp, ans, err := s.post(ctx)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusBadRequest && ans.Error == "use_dpop_nonce" && s.dpop != nil && attempt == 0 &&
			s.dpop.setNonce("token", resp.Header.Get("DPoP-Nonce")) {
			continue
		}
		if resp.StatusCode != http.StatusOK || ans.AccessToken == "" {
			return nil, s.refusal(resp.StatusCode, ans)
		}
		if n := resp.Header.Get("DPoP-Nonce"); n != "" && s.dpop != nil {
			s.dpop.setNonce("token", n)
		}
		t := &token{value: ans.AccessToken, dpop: strings.EqualFold(ans.TokenType, "DPoP") && s.dpop != nil,
			expires: s.now().Add(time.Duration(ans.ExpiresIn) * time.Second), scopes: strings.Fields(ans.Scope)}
		if strings.EqualFold(ans.TokenType, "DPoP") && s.dpop == nil {
			return nil, fmt.Errorf("okta: OAuth client %s got a DPoP-bound token without sending a proof: %w", s.o.ClientID, campaign.ErrInvalid)
		}
		s.log.Debug().Str("client_id", s.o.ClientID).Str("token_type", ans.TokenType).Int64("expires_in", ans.ExpiresIn).
			Strs("scopes", t.scopes).Msg("okta access token fetched")
		return t, nil
	}
}

// post sends one token request with a fresh assertion (and proof).
func (s *tokenSource) post(ctx context.Context) (*http.Response, tokenAnswer, error) {
	var ans tokenAnswer
	assertion, err := s.assertion()
	if err != nil {
		return nil, ans, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {strings.Join(s.o.Scopes, " ")},
		"client_assertion_type": {jwtBearerType},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, ans, fmt.Errorf("okta: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.dpop != nil {
		proof, err := s.dpop.proof("token", http.MethodPost, req.URL, "", s.now())
		if err != nil {
			return nil, ans, err
		}
		req.Header.Set("DPoP", proof)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, ans, fmt.Errorf("okta: token request for OAuth client %s: %w: %w", s.o.ClientID, campaign.ErrTransient, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(body, &ans); err != nil && resp.StatusCode == http.StatusOK {
		return nil, ans, fmt.Errorf("okta: token endpoint answered 200 without a JSON token: %w", campaign.ErrTransient)
	}
	return resp, ans, nil
}

// assertion is the private_key_jwt client assertion: iss and sub the
// client id, aud the token endpoint, a fresh jti, five minutes to live.
func (s *tokenSource) assertion() (string, error) {
	now := s.now()
	c := jwt.Claims{Issuer: s.o.ClientID, Subject: s.o.ClientID, Audience: jwt.Audience{s.tokenURL},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(assertionLifetime)), ID: randomID()}
	a, err := jwt.Signed(s.signer).Claims(c).CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("okta: sign client assertion: %w", err)
	}
	return a, nil
}

// refusal turns a token endpoint error into one that names the client,
// the key and the Okta setting to fix.
func (s *tokenSource) refusal(status int, ans tokenAnswer) error {
	what := fmt.Sprintf("okta: Okta refused a token to OAuth client %s (key id %s): HTTP %d %s: %s",
		s.o.ClientID, orNone(s.o.KeyID), status, orNone(ans.Error), ans.Description)
	switch ans.Error {
	case "invalid_client", "invalid_grant", "unauthorized_client":
		return fmt.Errorf("%s; %s: %w", what, adminFixKey, campaign.ErrForbidden)
	case "invalid_scope":
		return fmt.Errorf("%s; the requested scopes are %s: %s: %w", what, strings.Join(s.o.Scopes, " "), adminFixScopes, campaign.ErrForbidden)
	case "invalid_dpop_proof", "use_dpop_nonce":
		fix := "the app requires DPoP: set okta.dpop: true"
		if s.dpop != nil {
			fix = "check the machine's clock (DPoP proofs are dated), or turn off 'Require Demonstrating Proof of Possession (DPoP) " +
				"header in token requests' in the app's General Settings and set okta.dpop: false"
		}
		return fmt.Errorf("%s; %s: %w", what, fix, campaign.ErrForbidden)
	}
	if status == http.StatusTooManyRequests || status >= 500 || status == 0 {
		return fmt.Errorf("%s: %w", what, campaign.ErrTransient)
	}
	return fmt.Errorf("%s: %w", what, campaign.ErrForbidden)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// missingScopes lists the requested scopes t was not granted.
func missingScopes(requested, granted []string) []string {
	var out []string
	for _, sc := range requested {
		if !slices.Contains(granted, sc) {
			out = append(out, sc)
		}
	}
	return out
}
