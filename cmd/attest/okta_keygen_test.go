package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/syncbuf"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
)

var readScopes = []string{"okta.users.read", "okta.groups.read", "okta.apps.read", "okta.logs.read"}

// asServiceApp turns the CLI from the SSWS token to the OAuth service app
// clientID with the key at keyPath.
func asServiceApp(c *cli, clientID, keyPath string) {
	delete(c.env, "OKTA_API_TOKEN")
	c.env["ATTEST_OKTA_AUTH"] = "private_key"
	c.env["ATTEST_OKTA_CLIENT_ID"] = clientID
	c.env["ATTEST_OKTA_PRIVATE_KEY"] = keyPath
}

// keygen prints a JWKS the fake Okta accepts as the app's key; the key it
// wrote (mode 0600, never overwritten) authenticates an SDK-based sync of
// the whole org over OAuth with DPoP.
func TestOktaKeygenThenSyncAsServiceApp(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		kty  string
	}{{"RSA", nil, "RSA"}, {"EC", []string{"--ec"}, "EC"}} {
		t.Run(tc.name, func(t *testing.T) {
			c, srv := withOkta(t, smallOrg("managerId"))
			keyPath := filepath.Join(c.dir, "okta.pem")
			code, jwks, stderr := c.run(append([]string{"okta", "keygen", "--out", keyPath, "--kid", "attest-1"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("keygen: exit %d: %s", code, stderr)
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal([]byte(jwks), &set); err != nil || len(set.Keys) != 1 {
				t.Fatalf("stdout is not a one-key JWKS: %v\n%s", err, jwks)
			}
			k := set.Keys[0]
			if k["kid"] != "attest-1" || k["kty"] != tc.kty || k["use"] != "sig" || k["d"] != nil {
				t.Fatalf("JWKS key = %v, want a public %s key with kid attest-1", k, tc.kty)
			}
			if !strings.Contains(stderr, "Public key / Private key") || !strings.Contains(stderr, "okta.logs.read") {
				t.Errorf("next steps missing:\n%s", stderr)
			}
			st, err := os.Stat(keyPath)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode().Perm())
			}
			before, _ := os.ReadFile(keyPath)
			if code, _, errs := c.run("okta", "keygen", "--out", keyPath); code != 1 || !strings.Contains(errs, "already exists") {
				t.Fatalf("second keygen to the same file: exit %d: %s", code, errs)
			}
			if after, _ := os.ReadFile(keyPath); string(after) != string(before) {
				t.Fatal("the key file was overwritten")
			}

			app, err := oktatest.ServiceAppFromJWKS("0oaATTEST", []byte(jwks), readScopes...)
			if err != nil {
				t.Fatal(err)
			}
			srv.AddServiceApp(app)
			asServiceApp(c, "0oaATTEST", keyPath)
			c.env["ATTEST_OKTA_KEY_ID"] = "attest-1"
			var res campaign.SyncResult
			c.json(&res, "sync")
			org := srv.Org()
			if res.Counts.Users != len(org.Users) || res.Counts.Relations != org.Relations() {
				t.Fatalf("synced %d users, %d relations; org has %d, %d", res.Counts.Users, res.Counts.Relations, len(org.Users), org.Relations())
			}
			if st := srv.OAuthStats(); st.Issued != 1 || st.Refused != 0 {
				t.Fatalf("token endpoint: %+v, want one token", st)
			}
			if n := srv.Stats().Unauthorized; n != 0 {
				t.Fatalf("%d requests refused", n)
			}
		})
	}
}

// The PEM itself may come from OKTA_PRIVATE_KEY; a key Okta does not know
// fails the sync naming the client, the key id and the admin setting.
func TestSyncAsServiceAppRefusedKey(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	other := filepath.Join(c.dir, "other.pem")
	_, jwks, _ := c.run("okta", "keygen", "--out", filepath.Join(c.dir, "registered.pem"))
	c.ok("okta", "keygen", "--out", other)
	app, err := oktatest.ServiceAppFromJWKS("0oaATTEST", []byte(jwks), readScopes...)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddServiceApp(app)
	pemBytes, _ := os.ReadFile(other)
	asServiceApp(c, "0oaATTEST", "")
	delete(c.env, "ATTEST_OKTA_PRIVATE_KEY")
	c.env["OKTA_PRIVATE_KEY"] = string(pemBytes)
	c.env["ATTEST_OKTA_KEY_ID"] = "old-key"
	code, _, errs := c.run("sync")
	for _, want := range []string{"0oaATTEST", "old-key", "invalid_client", "Public key / Private key"} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Fatalf("sync with an unknown key: exit %d: %s\nwant it to name %q", code, errs, want)
		}
	}
	if strings.Contains(errs, "PRIVATE KEY") {
		t.Fatal("the error shows the key")
	}
}

// serve checks both service apps' scopes at start-up: a write client
// Okta did not grant okta.apps.manage stops serve before it runs, naming
// the scope and where to grant it.
func TestServeRefusesUngrantedScope(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	keyPath := filepath.Join(c.dir, "okta.pem")
	_, jwks, _ := c.run("okta", "keygen", "--out", keyPath)
	read, _ := oktatest.ServiceAppFromJWKS("0oaREAD", []byte(jwks), readScopes...)
	write, _ := oktatest.ServiceAppFromJWKS("0oaWRITE", []byte(jwks), "okta.users.read", "okta.groups.manage")
	srv.AddServiceApp(read)
	srv.AddServiceApp(write)
	asServiceApp(c, "0oaREAD", keyPath)
	c.env["ATTEST_OKTA_WRITE_CLIENT_ID"] = "0oaWRITE"
	c.env["ATTEST_CONFIG"] = c.write("attest.yaml", "http: {listen: \"127.0.0.1:0\"}\nokta: {sync_schedule: \"@every 1h\"}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stderr syncbuf.Buffer
	code := run(ctx, []string{"serve"}, io.Discard, &stderr, func(k string) string { return c.env[k] })
	if code != 1 || !strings.Contains(stderr.String(), "0oaWRITE was not granted okta.apps.manage") ||
		!strings.Contains(stderr.String(), "Okta API Scopes tab") {
		t.Fatalf("serve: exit %d: %s", code, stderr.String())
	}
	if ctx.Err() != nil {
		t.Fatal("serve ran until the timeout instead of failing at start-up")
	}
}
