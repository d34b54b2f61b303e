package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func pemOf(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func rsaPEM(t *testing.T, bits int) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, k)
}

// The service app's keys: the PEM from OKTA_PRIVATE_KEY (never shown), a
// file path, scopes in Okta's space-separated form, and the write client
// falling back to the read client's id and key.
func TestOktaPrivateKeyAuth(t *testing.T) {
	readPEM := rsaPEM(t, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writePEM := pemOf(t, ek)
	path := filepath.Join(t.TempDir(), "write.pem")
	if err := os.WriteFile(path, []byte(writePEM), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "okta:\n  org_url: https://example.okta.com\n  auth: private_key\n  client_id: 0oaREAD\n  key_id: r1\n"
	c, err := Parse([]byte(yaml), env(map[string]string{
		EnvOktaPrivateKey:          readPEM,
		"ATTEST_OKTA_SCOPES":       "okta.users.read okta.groups.read okta.apps.read okta.logs.read",
		"ATTEST_OKTA_DPOP":         "false",
		"ATTEST_OKTA_WRITE_KEY_ID": "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RequireOkta(); err != nil {
		t.Fatalf("RequireOkta: %v", err)
	}
	rc, err := c.Okta.ReadClient()
	if err != nil {
		t.Fatal(err)
	}
	readPEM = strings.TrimSpace(readPEM) // as a secret from the environment is read
	if rc.ClientID != "0oaREAD" || rc.KeyID != "r1" || string(rc.KeyPEM) != readPEM || rc.DPoP ||
		!slices.Equal(rc.Scopes, DefaultOktaScopes()) {
		t.Fatalf("read client = %s %s %v %v, key from OKTA_PRIVATE_KEY: %v", rc.ClientID, rc.KeyID, rc.Scopes, rc.DPoP, string(rc.KeyPEM) == readPEM)
	}
	wc, _ := c.Okta.WriteClient()
	if wc.ClientID != "0oaREAD" || wc.KeyID != "r1" || string(wc.KeyPEM) != readPEM || !slices.Equal(wc.Scopes, DefaultOktaWriteScopes()) {
		t.Fatalf("write client without its own keys = %s %s %v, want the read client's id and key", wc.ClientID, wc.KeyID, wc.Scopes)
	}
	out, _ := c.Redacted()
	if strings.Contains(string(out), "PRIVATE KEY") {
		t.Fatal("check-config output shows the private key")
	}

	c, err = Parse([]byte(yaml+"  write_client_id: 0oaWRITE\n  write_private_key: "+path+"\n"), env(map[string]string{EnvOktaPrivateKey: readPEM}))
	if err != nil {
		t.Fatal(err)
	}
	wc, _ = c.Okta.WriteClient()
	if wc.ClientID != "0oaWRITE" || wc.KeyID != "" || string(wc.KeyPEM) != writePEM || !wc.DPoP {
		t.Fatalf("write client = %s %q DPoP %v, want its own id and key file, no kid, DPoP on", wc.ClientID, wc.KeyID, wc.DPoP)
	}
}

// Every mistake names the key and the fix.
func TestOktaPrivateKeyAuthErrors(t *testing.T) {
	good := rsaPEM(t, 2048)
	pub, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&pub.PublicKey)
	publicPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	ek384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name, yaml string
		env        map[string]string
		key, want  string
	}{
		{"unknown auth", "okta: {auth: oauth}", nil, "okta.auth", `"oauth" is not a way to authenticate`},
		{"no client id", "okta: {auth: private_key}", map[string]string{EnvOktaPrivateKey: good}, "okta.client_id", "set the service app's client id"},
		{"no key", "okta: {auth: private_key, client_id: x}", nil, "okta.private_key", "attest okta keygen"},
		{"public key", "okta: {auth: private_key, client_id: x}", map[string]string{EnvOktaPrivateKey: publicPEM}, "okta.private_key", `"PUBLIC KEY" block, not a private key`},
		{"small RSA", "okta: {auth: private_key, client_id: x}", map[string]string{EnvOktaPrivateKey: rsaPEM(t, 1024)}, "okta.private_key", "1024 bits"},
		{"P-384", "okta: {auth: private_key, client_id: x}", map[string]string{EnvOktaPrivateKey: pemOf(t, ek384)}, "okta.private_key", "use P-256"},
		{"missing file", "okta: {auth: private_key, client_id: x, private_key: /nonexistent/key.pem}", nil, "okta.private_key", "cannot read the key file"},
		{"not PEM", "okta: {auth: private_key, client_id: x}", map[string]string{EnvOktaPrivateKey: "-----BEGIN nonsense"}, "okta.private_key", "holds no PEM block"},
		{"read scope missing", "okta: {auth: private_key, client_id: x, scopes: [okta.users.read, okta.groups.read, okta.apps.read]}",
			map[string]string{EnvOktaPrivateKey: good}, "okta.scopes", "lacks okta.logs.read"},
		{"write scope missing", "okta: {auth: private_key, client_id: x, write_scopes: [okta.users.read, okta.groups.manage]}",
			map[string]string{EnvOktaPrivateKey: good}, "okta.write_scopes", "lacks okta.apps.manage"},
		{"bad scope", "okta: {auth: private_key, client_id: x, scopes: [users.read]}", map[string]string{EnvOktaPrivateKey: good}, "okta.scopes", `"users.read" is not an Okta API scope`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), env(tc.env))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.key+": ") && !strings.Contains(msg, tc.key+" (from") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error = %v, want %s: …%s…", err, tc.key, tc.want)
			}
			if body := strings.Split(good, "\n")[2]; strings.Contains(msg, body) {
				t.Fatal("the error quotes the key")
			}
		})
	}
	// okta.auth: token needs the API token, private_key does not.
	c, err := Parse([]byte("okta: {org_url: https://x.okta.com}"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RequireOkta(); err == nil || !strings.Contains(err.Error(), "okta.api_token") || !strings.Contains(err.Error(), "okta.auth: private_key") {
		t.Fatalf("RequireOkta = %v", err)
	}
}
