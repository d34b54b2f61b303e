package oktatest

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// proofClaims are a DPoP proof's claims (RFC 9449 §4.2).
type proofClaims struct {
	ID     string           `json:"jti"`
	Method string           `json:"htm"`
	URL    string           `json:"htu"`
	Issued *jwt.NumericDate `json:"iat"`
	Hash   string           `json:"ath"`
	Nonce  string           `json:"nonce"`
}

// proofError is why a proof was refused, worded as Okta's
// error_description.
type proofError string

func (e proofError) Error() string { return string(e) }

// proofInfo is what a verified proof says.
type proofInfo struct {
	jkt   string // base64url SHA-256 thumbprint of its jwk (RFC 7638)
	nonce string
}

// How far a proof's iat may lie from the server's clock.
const (
	proofMaxAge    = 5 * time.Minute
	proofMaxFuture = time.Minute
)

// verifyProof checks a DPoP proof: typ dpop+jwt, an asymmetric alg, a
// public jwk it verifies with, htm and htu matching the request, a recent
// iat, a jti never seen, and, for an API call, ath matching the token.
func (o *oauthState) verifyProof(raw, method, url, accessToken string, now time.Time) (*proofInfo, error) {
	tok, err := jwt.ParseSigned(raw)
	if err != nil || len(tok.Headers) != 1 {
		return nil, proofError("The DPoP proof JWT is malformed.")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, proofError("The DPoP proof JWT typ header must be dpop+jwt.")
	}
	switch jose.SignatureAlgorithm(h.Algorithm) {
	case jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
	default:
		return nil, proofError("The DPoP proof JWT alg is not supported.")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
		return nil, proofError("The DPoP proof JWT jwk header must hold a public key.")
	}
	var c proofClaims
	if err := tok.Claims(h.JSONWebKey.Key, &c); err != nil {
		return nil, proofError("The DPoP proof JWT signature is invalid.")
	}
	switch {
	case c.Method != method:
		return nil, proofError("The DPoP proof htm claim does not match the request method.")
	case c.URL != url:
		return nil, proofError("The DPoP proof htu claim does not match the request URL.")
	case c.Issued == nil || now.Sub(c.Issued.Time()) > proofMaxAge || c.Issued.Time().Sub(now) > proofMaxFuture:
		return nil, proofError("The DPoP proof iat claim is missing or outside the accepted window.")
	case c.ID == "":
		return nil, proofError("The DPoP proof jti claim is missing.")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if c.Hash != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return nil, proofError("The DPoP proof ath claim does not match the access token.")
		}
	}
	if _, used := o.seenProof[c.ID]; used {
		return nil, proofError("The DPoP proof jti has already been used.")
	}
	o.seenProof[c.ID] = now
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, proofError("The DPoP proof jwk has no thumbprint.")
	}
	return &proofInfo{jkt: base64.RawURLEncoding.EncodeToString(tp), nonce: c.Nonce}, nil
}

// refuse checks the request's credentials and, when they do not allow it,
// writes Okta's refusal and returns true. An SSWS token must be the
// server's and may do everything; an OAuth token must be live, carry a
// valid proof when DPoP-bound, and hold the route's scope.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request) bool {
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch scheme {
	case "SSWS":
		if cred == s.Token {
			return false
		}
	case "Bearer", "DPoP":
		return s.refuseOAuth(w, r, scheme, cred)
	}
	s.writeError(w, errorFor(http.StatusUnauthorized))
	return true
}

func (s *Server) refuseOAuth(w http.ResponseWriter, r *http.Request, scheme, cred string) bool {
	o := s.oauthInit()
	defer o.mu.Unlock()
	now := s.cfg.clock()
	unauthorized := func(challenge string) bool {
		w.Header().Set("WWW-Authenticate", challenge)
		s.writeError(w, errorFor(http.StatusUnauthorized))
		return true
	}
	t := o.tokens[cred]
	if t == nil || !now.Before(t.expires) {
		return unauthorized(s.bearerChallenge(`error="invalid_token", error_description="The access token is invalid."`))
	}
	if t.jkt == "" && scheme == "DPoP" || t.jkt != "" && scheme != "DPoP" {
		return unauthorized(`DPoP algs="ES256 RS256", error="invalid_token", error_description="The token type does not match the authorization scheme."`)
	}
	if t.jkt != "" {
		p, err := o.verifyProof(r.Header.Get("DPoP"), r.Method, s.URL+r.URL.EscapedPath(), cred, now)
		switch {
		case r.Header.Get("DPoP") == "":
			return unauthorized(`DPoP algs="ES256 RS256", error="invalid_dpop_proof", error_description="The DPoP proof JWT header is missing."`)
		case err != nil:
			return unauthorized(`DPoP algs="ES256 RS256", error="invalid_dpop_proof", error_description="` + err.Error() + `"`)
		case p.jkt != t.jkt:
			return unauthorized(`DPoP algs="ES256 RS256", error="invalid_dpop_proof", error_description="The DPoP proof key is not the key the access token is bound to."`)
		case o.demandNonce && p.nonce != o.nonce:
			o.stats.NonceChallenges++
			w.Header().Set("DPoP-Nonce", o.nonce)
			return unauthorized(`DPoP algs="ES256 RS256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof."`)
		}
	}
	need, read := requiredScope(r.Method, r.URL.Path)
	if need == "" || hasScope(t.scopes, need, read) {
		return false
	}
	o.stats.ScopeRefusals++
	w.Header().Set("WWW-Authenticate", s.bearerChallenge(`scope="`+need+`", error="insufficient_scope", `+
		`error_description="The access token provided does not contain the required scopes.", resource="`+r.URL.Path+`"`))
	s.writeError(w, errorFor(http.StatusForbidden))
	return true
}

// bearerChallenge is Okta's WWW-Authenticate for the org authorization
// server, with the given parameters appended.
func (s *Server) bearerChallenge(params string) string {
	return `Bearer authorization_uri="` + s.URL + `/oauth2/v1/authorize", realm="` + s.URL + `", ` + params
}

// requiredScope names the Okta API scope a request needs: okta.<object>.read
// for reads (okta.<object>.manage also does), okta.<object>.manage for
// writes; "" for a path no scope covers.
func requiredScope(method, path string) (scope string, read bool) {
	var object string
	switch {
	case strings.HasPrefix(path, "/api/v1/users"):
		object = "users"
	case strings.HasPrefix(path, "/api/v1/groups"):
		object = "groups"
	case strings.HasPrefix(path, "/api/v1/apps"):
		object = "apps"
	case strings.HasPrefix(path, "/api/v1/logs"):
		object = "logs"
	default:
		return "", true
	}
	if method == http.MethodGet || method == http.MethodHead {
		return "okta." + object + ".read", true
	}
	return "okta." + object + ".manage", false
}

// hasScope reports whether scopes allow need; a read scope is also
// allowed by its manage scope.
func hasScope(scopes []string, need string, read bool) bool {
	if slices.Contains(scopes, need) {
		return true
	}
	return read && slices.Contains(scopes, strings.TrimSuffix(need, ".read")+".manage")
}
