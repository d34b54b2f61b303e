package okta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"

	jose "github.com/go-jose/go-jose/v3"
)

// GenerateKey makes a service app key: RSA 2048 (RS256), or EC P-256
// (ES256) with ec. It fails only if the random source does.
func GenerateKey(ec bool) (crypto.Signer, error) {
	if ec {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, 2048)
}

// PrivateKeyPEM encodes key as PKCS#8 PEM ("PRIVATE KEY"), the form
// ParsePrivateKey and okta.private_key read.
func PrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("okta: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// KeyThumbprint is the RFC 7638 SHA-256 thumbprint of key's public half,
// base64url: a stable kid when none is chosen.
func KeyThumbprint(key crypto.Signer) (string, error) {
	jwk := jose.JSONWebKey{Key: key.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("okta: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// PublicJWKS is the JSON Web Key Set of key's public half, with kid, to
// paste under the service app's Client Credentials. It never holds the
// private key.
func PublicJWKS(key crypto.Signer, kid string) ([]byte, error) {
	alg, err := signingAlg(key)
	if err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: kid, Algorithm: string(alg), Use: "sig"}}}
	b, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("okta: encode JWKS: %w", err)
	}
	return b, nil
}
