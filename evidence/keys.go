package evidence

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ParseSigningKey reads an Ed25519 private key: PEM (PKCS #8, "PRIVATE
// KEY", as `openssl genpkey -algorithm ed25519` writes), or base64 of the
// 32-byte seed or of the 64-byte private key. It returns an error saying
// which form it expected; the error never holds the key.
func ParseSigningKey(text string) (ed25519.PrivateKey, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "-----BEGIN") {
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, errors.New("signing key: a PEM block that does not decode")
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signing key: PEM %q: %w", block.Type, err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key: PEM holds a %T, not an Ed25519 key", k)
		}
		return priv, nil
	}
	raw, err := decodeBase64(text)
	if err != nil {
		return nil, errors.New("signing key: neither PEM nor base64")
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), nil
	}
	return nil, fmt.Errorf("signing key: %d bytes of base64: want a 32-byte seed or a 64-byte private key", len(raw))
}

// ParsePublicKey reads an Ed25519 public key: PEM ("PUBLIC KEY", PKIX) or
// base64 of its 32 bytes (as manifest.json holds it).
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "-----BEGIN") {
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, errors.New("public key: a PEM block that does not decode")
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key: PEM holds a %T, not an Ed25519 key", k)
		}
		return pub, nil
	}
	raw, err := decodeBase64(text)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("public key: want PEM or the base64 of 32 bytes")
	}
	return ed25519.PublicKey(raw), nil
}

// MarshalPublicKey returns pub as a PEM "PUBLIC KEY" block, to publish.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// decodeBase64 accepts standard or URL base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
