package oktatest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// oauthRig is a fake org with one service app and the keys of a client.
type oauthRig struct {
	t    *testing.T
	srv  *Server
	org  *Org
	key  *rsa.PrivateKey   // the app's registered key
	dpop *ecdsa.PrivateKey // the client's DPoP key
}

func newOAuthRig(t *testing.T, requireDPoP bool, scopes ...string) *oauthRig {
	t.Helper()
	srv, org := serve(t, small(4))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	app := NewServiceApp("0oaAPP", key.Public(), "k1", scopes...)
	app.RequireDPoP = requireDPoP
	srv.AddServiceApp(app)
	return &oauthRig{t: t, srv: srv, org: org, key: key, dpop: dk}
}

func sign(t *testing.T, key crypto.Signer, alg jose.SignatureAlgorithm, opts *jose.SignerOptions, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *oauthRig) assertion(jti string) string {
	now := time.Now()
	return sign(r.t, r.key, jose.RS256, (&jose.SignerOptions{}).WithHeader("kid", "k1"), jwt.Claims{
		Issuer: "0oaAPP", Subject: "0oaAPP", Audience: jwt.Audience{r.srv.URL + "/oauth2/v1/token"},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: jti})
}

// proof is a DPoP proof signed with key for method and u.
func (r *oauthRig) proof(key *ecdsa.PrivateKey, method, u, token, nonce string) string {
	c := map[string]any{"jti": randomToken(8), "htm": method, "htu": u, "iat": time.Now().Unix()}
	if token != "" {
		h := sha256.Sum256([]byte(token))
		c["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	return sign(r.t, key, jose.ES256, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"), c)
}

// tokenRequest posts a client_credentials request.
func (r *oauthRig) tokenRequest(assertion, scope, proof string) (*http.Response, map[string]any) {
	r.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/oauth2/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return r.do(req)
}

func (r *oauthRig) do(req *http.Request) (*http.Response, map[string]any) {
	r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

// dpopToken runs the nonce handshake and returns a DPoP-bound token.
func (r *oauthRig) dpopToken(scope string) string {
	r.t.Helper()
	tokURL := r.srv.URL + "/oauth2/v1/token"
	resp, body := r.tokenRequest(r.assertion(randomToken(8)), scope, r.proof(r.dpop, "POST", tokURL, "", ""))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 400 || body["error"] != "use_dpop_nonce" || nonce == "" {
		r.t.Fatalf("first token request: %d %v, want 400 use_dpop_nonce with a DPoP-Nonce", resp.StatusCode, body)
	}
	resp, body = r.tokenRequest(r.assertion(randomToken(8)), scope, r.proof(r.dpop, "POST", tokURL, "", nonce))
	if resp.StatusCode != 200 || body["token_type"] != "DPoP" {
		r.t.Fatalf("token request with the nonce: %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

func (r *oauthRig) api(method, path, authz, proof string) (*http.Response, map[string]any) {
	req, _ := http.NewRequest(method, r.srv.URL+path, nil)
	req.Header.Set("Authorization", authz)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return r.do(req)
}

// A client assertion's jti is single-use: the same assertion twice is
// refused the second time, while a fresh jti is accepted.
func TestTokenAssertionReplayRefused(t *testing.T) {
	r := newOAuthRig(t, false, "okta.users.read")
	a := r.assertion("jti-1")
	if resp, body := r.tokenRequest(a, "okta.users.read", ""); resp.StatusCode != 200 || body["token_type"] != "Bearer" {
		t.Fatalf("first use: %d %v", resp.StatusCode, body)
	}
	resp, body := r.tokenRequest(a, "okta.users.read", "")
	if resp.StatusCode != 401 || body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), "jti") {
		t.Fatalf("replay: %d %v, want 401 invalid_client naming the jti", resp.StatusCode, body)
	}
	if resp, _ := r.tokenRequest(r.assertion("jti-2"), "okta.users.read", ""); resp.StatusCode != 200 {
		t.Fatalf("fresh jti: %d", resp.StatusCode)
	}
}

// The assertion must be signed by the registered key, for this audience,
// with iss = sub = the client id, and not expire more than an hour ahead.
func TestTokenAssertionChecks(t *testing.T) {
	r := newOAuthRig(t, false, "okta.users.read")
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now()
	aud := jwt.Audience{r.srv.URL + "/oauth2/v1/token"}
	claims := func(mut func(*jwt.Claims)) jwt.Claims {
		c := jwt.Claims{Issuer: "0oaAPP", Subject: "0oaAPP", Audience: aud, IssuedAt: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: randomToken(8)}
		mut(&c)
		return c
	}
	for name, a := range map[string]string{
		"wrong key":      sign(t, other, jose.RS256, nil, claims(func(*jwt.Claims) {})),
		"wrong aud":      sign(t, r.key, jose.RS256, nil, claims(func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://x/oauth2/v1/token"} })),
		"sub differs":    sign(t, r.key, jose.RS256, nil, claims(func(c *jwt.Claims) { c.Subject = "someone" })),
		"expired":        sign(t, r.key, jose.RS256, nil, claims(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-time.Minute)) })),
		"exp too far":    sign(t, r.key, jose.RS256, nil, claims(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(3 * time.Hour)) })),
		"no exp":         sign(t, r.key, jose.RS256, nil, claims(func(c *jwt.Claims) { c.Expiry = nil })),
		"unknown client": sign(t, r.key, jose.RS256, nil, claims(func(c *jwt.Claims) { c.Issuer, c.Subject = "0oaNOPE", "0oaNOPE" })),
	} {
		resp, body := r.tokenRequest(a, "okta.users.read", "")
		if resp.StatusCode != 401 || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", name, resp.StatusCode, body)
		}
	}
	if st := r.srv.OAuthStats(); st.Issued != 0 || st.Refused != 7 {
		t.Fatalf("stats = %+v", st)
	}
}

// Okta issues a token with only the granted scopes among those asked for,
// and refuses when none is granted.
func TestTokenGrantsOnlyGrantedScopes(t *testing.T) {
	r := newOAuthRig(t, false, "okta.users.read", "okta.groups.read")
	resp, body := r.tokenRequest(r.assertion(randomToken(8)), "okta.users.read okta.groups.manage", "")
	if resp.StatusCode != 200 || body["scope"] != "okta.users.read" {
		t.Fatalf("%d %v, want a token with okta.users.read only", resp.StatusCode, body)
	}
	resp, body = r.tokenRequest(r.assertion(randomToken(8)), "okta.apps.manage", "")
	if resp.StatusCode != 400 || body["error"] != "invalid_scope" {
		t.Fatalf("%d %v, want 400 invalid_scope", resp.StatusCode, body)
	}
}

// With DPoP required: no proof is refused as Okta refuses it, a nonce is
// demanded, and the token is bound to the proof's key: API calls need the
// DPoP scheme, a proof by that key for this request with ath, used once.
func TestDPoPBoundTokens(t *testing.T) {
	r := newOAuthRig(t, true, "okta.users.read")
	resp, body := r.tokenRequest(r.assertion(randomToken(8)), "okta.users.read", "")
	if resp.StatusCode != 400 || body["error"] != "invalid_dpop_proof" || body["error_description"] != "The DPoP proof JWT header is missing." {
		t.Fatalf("no proof: %d %v", resp.StatusCode, body)
	}
	tok := r.dpopToken("okta.users.read")
	path := "/api/v1/users/" + r.org.Users[0].ID
	u := r.srv.URL + path
	good := r.proof(r.dpop, "GET", u, tok, "")
	if resp, _ := r.api("GET", path, "DPoP "+tok, good); resp.StatusCode != 200 {
		t.Fatalf("good proof: %d", resp.StatusCode)
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := map[string]struct{ authz, proof, want string }{
		"replayed proof": {"DPoP " + tok, good, "invalid_dpop_proof"},
		"bearer scheme":  {"Bearer " + tok, "", "invalid_token"},
		"no proof":       {"DPoP " + tok, "", "invalid_dpop_proof"},
		"other key":      {"DPoP " + tok, r.proof(otherKey, "GET", u, tok, ""), "invalid_dpop_proof"},
		"wrong method":   {"DPoP " + tok, r.proof(r.dpop, "DELETE", u, tok, ""), "invalid_dpop_proof"},
		"wrong url":      {"DPoP " + tok, r.proof(r.dpop, "GET", r.srv.URL+"/api/v1/users", tok, ""), "invalid_dpop_proof"},
		"no ath":         {"DPoP " + tok, r.proof(r.dpop, "GET", u, "", ""), "invalid_dpop_proof"},
		"unknown token":  {"DPoP nope", r.proof(r.dpop, "GET", u, "nope", ""), "invalid_token"},
	}
	for name, tc := range cases {
		resp, _ := r.api("GET", path, tc.authz, tc.proof)
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="`+tc.want+`"`) {
			t.Errorf("%s: %d %q, want 401 %s", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.want)
		}
	}
	// A demanded API nonce: 401 use_dpop_nonce with the nonce, then accepted.
	r.srv.DemandAPINonce(true)
	resp, _ = r.api("GET", path, "DPoP "+tok, r.proof(r.dpop, "GET", u, tok, ""))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) || nonce == "" {
		t.Fatalf("nonce demanded: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := r.api("GET", path, "DPoP "+tok, r.proof(r.dpop, "GET", u, tok, nonce)); resp.StatusCode != 200 {
		t.Fatalf("with the nonce: %d", resp.StatusCode)
	}
}

// Every route checks the token's scopes: reads need okta.<object>.read or
// .manage, writes .manage; a missing one is Okta's 403 with the
// insufficient_scope challenge and no change. SSWS keeps full rights.
func TestScopeEnforcement(t *testing.T) {
	r := newOAuthRig(t, false, "okta.users.read", "okta.groups.read", "okta.apps.manage")
	_, body := r.tokenRequest(r.assertion(randomToken(8)), "okta.users.read okta.groups.read okta.apps.manage", "")
	tok := "Bearer " + body["access_token"].(string)
	g := r.org.Everyone()
	var member string
	for _, grp := range r.org.Groups {
		if grp.Type == "OKTA_GROUP" && len(r.org.Members[grp.ID]) > 0 {
			g, member = grp.ID, r.org.Members[grp.ID][0]
			break
		}
	}
	tests := []struct {
		method, path string
		status       int
		scope        string
	}{
		{"GET", "/api/v1/users", 200, ""},
		{"GET", "/api/v1/groups/" + g + "/users", 200, ""},
		{"GET", "/api/v1/apps", 200, ""}, // okta.apps.manage covers reads
		{"GET", "/api/v1/logs", 403, "okta.logs.read"},
		{"DELETE", "/api/v1/groups/" + g + "/users/" + member, 403, "okta.groups.manage"},
		{"PUT", "/api/v1/groups/" + g + "/users/" + r.org.Users[0].ID, 403, "okta.groups.manage"},
	}
	for _, tc := range tests {
		resp, body := r.api(tc.method, tc.path, tok, "")
		if resp.StatusCode != tc.status {
			t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if tc.status != 403 {
			continue
		}
		want := `Bearer authorization_uri="` + r.srv.URL + `/oauth2/v1/authorize", realm="` + r.srv.URL + `", scope="` + tc.scope +
			`", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="` + tc.path + `"`
		if got := resp.Header.Get("WWW-Authenticate"); got != want {
			t.Errorf("%s %s: WWW-Authenticate = %s\nwant %s", tc.method, tc.path, got, want)
		}
		if body["errorCode"] != CodeForbidden {
			t.Errorf("%s %s: body %v, want %s", tc.method, tc.path, body, CodeForbidden)
		}
	}
	if !contains(r.srv.Org().Members[g], member) {
		t.Fatal("a refused DELETE removed the member")
	}
	if resp, _ := r.api("DELETE", "/api/v1/groups/"+g+"/users/"+member, "SSWS "+r.srv.Token, ""); resp.StatusCode != 204 {
		t.Fatalf("SSWS DELETE: %d", resp.StatusCode)
	}
	if r.srv.OAuthStats().ScopeRefusals != 3 {
		t.Fatalf("scope refusals = %d, want 3", r.srv.OAuthStats().ScopeRefusals)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
