package evidence

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// ManifestFile is manifest.json. Signed holds ManifestBody's bytes exactly
// as written; each signature covers signingPrefix followed by those bytes,
// so a verifier checks the bytes in the file, never a re-encoding.
type ManifestFile struct {
	SchemaVersion string          `json:"schema_version"`
	Signed        json.RawMessage `json:"signed"`
	Signatures    []Signature     `json:"signatures"`
}

// ManifestBody is what the manifest's signatures cover.
type ManifestBody struct {
	SchemaVersion string      `json:"schema_version"`
	Generator     string      `json:"generator"`
	GeneratedAt   time.Time   `json:"generated_at"`
	CampaignID    int64       `json:"campaign_id"`
	Files         []FileEntry `json:"files"`
	// AuditChainHead is the newest entry of the whole audit log at export:
	// `attest audit verify --expect-head HASH` later proves the live log
	// still holds it, and so every entry in audit.jsonl.
	AuditChainHead ChainHead `json:"audit_chain_head"`
}

// FileEntry is one bundle file's digest and size.
type FileEntry struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ChainHead is the audit log's newest entry when the bundle was written.
type ChainHead struct {
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	Keyed     bool   `json:"keyed"`
	KeyedFrom int64  `json:"keyed_from,omitempty"`
}

// Signature is one signature of the manifest's signed bytes.
type Signature struct {
	// Algorithm is AlgHMAC or AlgEd25519.
	Algorithm string `json:"algorithm"`
	// KeyID names the key: for HMAC, an HMAC of a fixed label under the
	// key (it reveals nothing of the key, and needs it to check); for
	// Ed25519, the hex SHA-256 of the public key.
	KeyID string `json:"key_id"`
	// PublicKey is the Ed25519 public key, base64 (standard, padded).
	PublicKey string `json:"public_key,omitempty"`
	// Value is the hex HMAC-SHA256 or the base64 Ed25519 signature.
	Value string `json:"value"`
}

// Signature algorithms.
const (
	AlgHMAC    = "hmac-sha256"
	AlgEd25519 = "ed25519"
)

// signingPrefix separates manifest signatures from every other use of the
// audit key (the audit chain's encodings start with a length digit).
const signingPrefix = "attest-evidence-manifest-v1\n"

// hmacKeyID names an audit key without revealing it.
func hmacKeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("attest-evidence-key-id-v1"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// hmacSign returns the hex HMAC-SHA256 of the signed bytes under key.
func hmacSign(key, signed []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signingPrefix))
	m.Write(signed)
	return hex.EncodeToString(m.Sum(nil))
}

// PublicKeyID returns the hex SHA-256 of an Ed25519 public key, the key id
// the manifest and the verifier print.
func PublicKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:])
}

// sign returns the manifest's signatures of signed: HMAC under auditKey
// and Ed25519 under signingKey, each when given.
func sign(signed, auditKey []byte, signingKey ed25519.PrivateKey) []Signature {
	sigs := []Signature{}
	if len(auditKey) > 0 {
		sigs = append(sigs, Signature{Algorithm: AlgHMAC, KeyID: hmacKeyID(auditKey), Value: hmacSign(auditKey, signed)})
	}
	if len(signingKey) == ed25519.PrivateKeySize {
		pub := signingKey.Public().(ed25519.PublicKey)
		msg := append([]byte(signingPrefix), signed...)
		sigs = append(sigs, Signature{Algorithm: AlgEd25519, KeyID: PublicKeyID(pub),
			PublicKey: base64.StdEncoding.EncodeToString(pub), Value: base64.StdEncoding.EncodeToString(ed25519.Sign(signingKey, msg))})
	}
	return sigs
}

// checkSignature checks one signature of signed. pinned, when set, is the
// only Ed25519 key accepted. It returns a sentence saying what failed, or
// "" and whether the signature was checked at all (an HMAC needs the key).
func checkSignature(s Signature, signed, auditKey []byte, pinned ed25519.PublicKey) (problem string, checked bool) {
	switch s.Algorithm {
	case AlgHMAC:
		if len(auditKey) == 0 {
			return "", false
		}
		if s.KeyID != hmacKeyID(auditKey) {
			return "the HMAC was made under another key than the audit key given (key id " + s.KeyID + ")", true
		}
		if !hmac.Equal([]byte(s.Value), []byte(hmacSign(auditKey, signed))) {
			return "HMAC-SHA256 signature does not match: the manifest was altered", true
		}
		return "", true
	case AlgEd25519:
		raw, err := base64.StdEncoding.DecodeString(s.PublicKey)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return "the Ed25519 public key is not 32 bytes of base64", true
		}
		pub := ed25519.PublicKey(raw)
		if s.KeyID != PublicKeyID(pub) {
			return "the Ed25519 key id does not match its public key", true
		}
		if pinned != nil && !pub.Equal(pinned) {
			return fmt.Sprintf("signed with Ed25519 key %s, not the public key given (%s)", s.KeyID, PublicKeyID(pinned)), true
		}
		sig, err := base64.StdEncoding.DecodeString(s.Value)
		if err != nil || !ed25519.Verify(pub, append([]byte(signingPrefix), signed...), sig) {
			return "Ed25519 signature does not match: the manifest was altered", true
		}
		return "", true
	}
	return fmt.Sprintf("unknown signature algorithm %q", s.Algorithm), true
}
