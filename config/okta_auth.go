package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// How attest authenticates to Okta (okta.auth).
const (
	// OktaAuthToken is an SSWS API token (okta.api_token).
	OktaAuthToken = "token"
	// OktaAuthPrivateKey is an OAuth 2.0 service app: client credentials
	// with a private_key_jwt assertion (okta.client_id, okta.private_key).
	OktaAuthPrivateKey = "private_key"
)

// Environment variables holding the service apps' private keys as PEM.
const (
	EnvOktaPrivateKey      = "OKTA_PRIVATE_KEY"
	EnvOktaWritePrivateKey = "OKTA_WRITE_PRIVATE_KEY"
)

// DefaultOktaScopes are the read client's scopes: what a sync reads.
func DefaultOktaScopes() []string {
	return []string{"okta.users.read", "okta.groups.read", "okta.apps.read", "okta.logs.read"}
}

// DefaultOktaWriteScopes are the write client's scopes: the removals, plus
// okta.users.read for the read-back of a user's groups before each one
// (GET /api/v1/users/{id}/groups is a users endpoint).
func DefaultOktaWriteScopes() []string {
	return []string{"okta.users.read", "okta.groups.manage", "okta.apps.manage"}
}

// OAuthClient is one Okta service app as the config describes it.
type OAuthClient struct {
	ClientID string
	// KeyPEM is the private key's PEM. Never logged.
	KeyPEM []byte
	KeyID  string
	Scopes []string
	DPoP   bool
}

// ReadClient is the service app of the sync and of lookups. It fails when
// the key cannot be read; Validate has said why already.
func (o OktaConfig) ReadClient() (OAuthClient, error) {
	pemBytes, err := keyPEM(o.PrivateKey)
	if err != nil {
		return OAuthClient{}, fmt.Errorf("okta.private_key: %w", err)
	}
	return OAuthClient{ClientID: o.ClientID, KeyPEM: pemBytes, KeyID: o.KeyID, Scopes: splitScopes(o.Scopes), DPoP: o.DPoP}, nil
}

// WriteClient is the service app of removals: okta.write_client_id and
// okta.write_private_key, each falling back to the read client's (the key
// id with the key), with okta.write_scopes.
func (o OktaConfig) WriteClient() (OAuthClient, error) {
	id, key, kid := o.WriteClientID, o.WritePrivateKey, o.WriteKeyID
	if id == "" {
		id = o.ClientID
	}
	if !key.IsSet() {
		key = o.PrivateKey
		if kid == "" {
			kid = o.KeyID
		}
	}
	pemBytes, err := keyPEM(key)
	if err != nil {
		return OAuthClient{}, fmt.Errorf("okta.write_private_key: %w", err)
	}
	return OAuthClient{ClientID: id, KeyPEM: pemBytes, KeyID: kid, Scopes: splitScopes(o.WriteScopes), DPoP: o.DPoP}, nil
}

// keyPEM is the key itself when v holds a PEM, else the file v names.
func keyPEM(v Secret) ([]byte, error) {
	s := v.Reveal()
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s), nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("cannot read the key file: %w", err)
	}
	return b, nil
}

// splitScopes accepts a YAML list, a comma-separated variable, or Okta's
// space-separated form ("okta.users.read okta.groups.read") in any entry.
func splitScopes(list []string) []string {
	var out []string
	for _, v := range list {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

var scopeRE = regexp.MustCompile(`^okta\.[A-Za-z]+\.(read|manage)(\.self)?$`)

// validateOktaAuth checks okta.auth and, for a service app, the client,
// its keys and scopes.
func (c *Config) validateOktaAuth(p *problems) {
	o := &c.Okta
	switch o.Auth {
	case OktaAuthToken:
		return
	case OktaAuthPrivateKey:
	default:
		p.add("okta.auth", "%q is not a way to authenticate; use %s (an SSWS API token) or %s (an OAuth 2.0 service app, recommended)",
			o.Auth, OktaAuthToken, OktaAuthPrivateKey)
		return
	}
	if o.ClientID == "" {
		p.add("okta.client_id", "not set while okta.auth is %s; set the service app's client id (Applications > the API Services app > General)",
			OktaAuthPrivateKey)
	}
	if !o.PrivateKey.IsSet() {
		p.add("okta.private_key", "not set while okta.auth is %s; set %s to the PEM, or okta.private_key to the PEM file's path "+
			"(`attest okta keygen` makes one)", OktaAuthPrivateKey, EnvOktaPrivateKey)
	} else {
		checkPrivateKey(p, "okta.private_key", o.PrivateKey)
	}
	if o.WritePrivateKey.IsSet() {
		checkPrivateKey(p, "okta.write_private_key", o.WritePrivateKey)
	}
	checkScopes(p, "okta.scopes", o.Scopes, []string{"users", "groups", "apps", "logs"}, "read", "a sync reads users, groups, apps and the System Log")
	checkScopes(p, "okta.write_scopes", o.WriteScopes, []string{"groups", "apps"}, "manage", "removals change group memberships and app assignments")
	checkScopes(p, "okta.write_scopes", o.WriteScopes, []string{"users"}, "read", "each removal first reads the user's groups")
}

// checkPrivateKey wants an RSA (2048 bits or more) or P-256 EC private key
// in PEM, inline or in a file. Messages never quote the key.
func checkPrivateKey(p *problems, key string, v Secret) {
	b, err := keyPEM(v)
	if err != nil {
		p.add(key, "%v; give the PEM file's path, or the PEM itself", err)
		return
	}
	block, _ := pem.Decode(b)
	if block == nil {
		p.add(key, "holds no PEM block; give an RSA or EC private key in PEM (-----BEGIN PRIVATE KEY-----), e.g. from `attest okta keygen`")
		return
	}
	var parsed any
	switch block.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		p.add(key, "is a PEM %q block, not a private key; give the service app's RSA or EC private key (the public key goes to Okta)", block.Type)
		return
	}
	if err != nil {
		p.add(key, "the PEM %q block does not parse as a private key; give an RSA or EC private key, e.g. from `attest okta keygen`", block.Type)
		return
	}
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			p.add(key, "the RSA key has %d bits; use at least 2048 (`attest okta keygen` makes one)", k.N.BitLen())
		}
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			p.add(key, "the EC key is on %s; use P-256 (ES256)", k.Curve.Params().Name)
		}
	default:
		p.add(key, "is a %T, not an RSA or EC private key; use RSA 2048 or EC P-256", parsed)
	}
}

// checkScopes wants well-formed Okta API scopes covering each object's
// access (a read is also covered by .manage).
func checkScopes(p *problems, key string, list []string, objects []string, access, why string) {
	scopes := splitScopes(list)
	if len(scopes) == 0 {
		p.add(key, "empty; list the Okta API scopes granted to the service app")
		return
	}
	has := map[string]bool{}
	for _, s := range scopes {
		if !scopeRE.MatchString(s) {
			p.add(key, "%q is not an Okta API scope; use names such as okta.users.read or okta.groups.manage", s)
			continue
		}
		has[s] = true
	}
	for _, obj := range objects {
		want := "okta." + obj + "." + access
		if !has[want] && !(access == "read" && has["okta."+obj+".manage"]) {
			p.add(key, "lacks %s (%s); add it here and grant it on the app's Okta API Scopes tab", want, why)
		}
	}
}
