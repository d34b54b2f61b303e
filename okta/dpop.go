package okta

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// dpopProver signs DPoP proofs (RFC 9449) with an ephemeral P-256 key made
// when the client is built: Okta binds the access token to this key, so a
// token that leaks without it is useless. The key never leaves memory.
type dpopProver struct {
	signer jose.Signer

	mu     sync.Mutex
	nonces map[string]string // the last DPoP-Nonce per server role ("token", "api")
}

// dpopClaims are a proof's claims: what request it is for, when, once.
type dpopClaims struct {
	ID     string           `json:"jti"`
	Method string           `json:"htm"`
	URL    string           `json:"htu"`
	Issued *jwt.NumericDate `json:"iat"`
	Hash   string           `json:"ath,omitempty"`
	Nonce  string           `json:"nonce,omitempty"`
}

// newDPoPProver makes the ephemeral key. It fails only if the system's
// random source does.
func newDPoPProver() (*dpopProver, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("okta: DPoP key: %w", err)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("okta: DPoP signer: %w", err)
	}
	return &dpopProver{signer: signer, nonces: map[string]string{}}, nil
}

// proof returns a DPoP proof for one request: method and URL (its query
// and fragment dropped, as htu wants), the access token's hash when the
// request carries one, and the last nonce the server role gave.
func (d *dpopProver) proof(role, method string, u *url.URL, accessToken string, now time.Time) (string, error) {
	c := dpopClaims{ID: randomID(), Method: method, URL: htu(u), Issued: jwt.NewNumericDate(now), Nonce: d.nonce(role)}
	if accessToken != "" {
		c.Hash = accessTokenHash(accessToken)
	}
	s, err := jwt.Signed(d.signer).Claims(c).CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("okta: sign DPoP proof: %w", err)
	}
	return s, nil
}

func (d *dpopProver) nonce(role string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonces[role]
}

// setNonce remembers the nonce a server role asked for; it reports whether
// it differs from the one the last proof carried (a retry makes sense).
func (d *dpopProver) setNonce(role, nonce string) bool {
	if nonce == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := d.nonces[role] != nonce
	d.nonces[role] = nonce
	return changed
}

// htu is the request URL without query and fragment (RFC 9449 §4.2).
func htu(u *url.URL) string {
	v := *u
	v.RawQuery, v.Fragment, v.RawFragment, v.User = "", "", "", nil
	v.ForceQuery = false
	return v.String()
}

// accessTokenHash is the ath claim: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// randomID is a 128-bit random jti.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
