package okta_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/okta"
)

var readScopes = []string{"okta.users.read", "okta.groups.read", "okta.apps.read", "okta.logs.read"}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// oauthClient is a client of srv authenticating as the service app
// clientID with key, asking for scopes.
func oauthClient(t *testing.T, srv *oktatest.Server, clientID string, key crypto.Signer, kid string, dpop bool,
	scopes []string, mut ...func(*okta.Options)) *okta.Client {
	t.Helper()
	o := okta.Options{OrgURL: srv.URL, Concurrency: 4, MaxRetries: 1, Logger: zerolog.Nop(),
		OAuth: &okta.OAuth{ClientID: clientID, Key: key, KeyID: kid, Scopes: scopes, DPoP: dpop}}
	for _, m := range mut {
		m(&o)
	}
	c, err := okta.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A service app with an RSA or an EC key gets one DPoP-bound token (after
// Okta's nonce handshake) and reads the whole directory with it, exactly
// as an SSWS client does.
func TestOAuthReadsDirectoryWithRSAAndECKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  crypto.Signer
	}{{"RSA", rsaKey(t)}, {"EC", ecKey(t)}} {
		t.Run(tc.name, func(t *testing.T) {
			org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 60, Apps: 6, Groups: 8, Now: refNow})
			srv := oktatest.NewServer(org, oktatest.WithWindow(time.Second))
			defer srv.Close()
			srv.AddServiceApp(oktatest.NewServiceApp("0oaREAD", tc.key.Public(), "k1", readScopes...))
			c := oauthClient(t, srv, "0oaREAD", tc.key, "k1", true, readScopes)
			if err := c.CheckAuth(context.Background()); err != nil {
				t.Fatal(err)
			}
			snap, err := readAll(t, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Users) != len(org.Users) || len(snap.Apps) != len(org.Apps) || len(snap.Groups) != len(org.Groups) {
				t.Fatalf("read %d users, %d apps, %d groups; org has %d, %d, %d",
					len(snap.Users), len(snap.Apps), len(snap.Groups), len(org.Users), len(org.Apps), len(org.Groups))
			}
			st := srv.OAuthStats()
			if st.Issued != 1 || st.NonceChallenges != 1 || st.TokenRequests != 2 || st.Refused != 0 {
				t.Fatalf("token endpoint = %+v, want one nonce challenge then one token for the whole read", st)
			}
			if n := srv.Stats().Unauthorized; n != 0 {
				t.Fatalf("%d API calls refused", n)
			}
		})
	}
}

// The token is cached while it has more than a minute to live, fetched
// once by many concurrent calls, and fetched again before it expires.
func TestOAuthTokenCachedAndRefreshedBeforeExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 30, Apps: 3, Groups: 4, Now: refNow})
	srv := oktatest.NewServer(org, oktatest.WithClock(clock))
	defer srv.Close()
	key := ecKey(t)
	app := oktatest.NewServiceApp("0oaREAD", key.Public(), "", readScopes...)
	app.TokenLifetime = 10 * time.Minute
	srv.AddServiceApp(app)
	c := oauthClient(t, srv, "0oaREAD", key, "", true, readScopes, func(o *okta.Options) { o.OAuth.Now = clock })
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.LookupUser(ctx, org.Users[0].ID)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := srv.OAuthStats(); st.Issued != 1 {
		t.Fatalf("8 concurrent calls got %d tokens, want 1", st.Issued)
	}
	advance(8*time.Minute + 30*time.Second) // 90 s left: still cached
	if _, err := c.LookupUser(ctx, org.Users[1].ID); err != nil {
		t.Fatal(err)
	}
	if st := srv.OAuthStats(); st.Issued != 1 {
		t.Fatalf("tokens = %d after 8.5 min, want 1", st.Issued)
	}
	advance(time.Minute) // 30 s left: refreshed before use
	if _, err := c.LookupUser(ctx, org.Users[2].ID); err != nil {
		t.Fatal(err)
	}
	if st := srv.OAuthStats(); st.Issued != 2 {
		t.Fatalf("tokens = %d with 30 s left, want a second one", st.Issued)
	}
	if n := srv.Stats().Unauthorized; n != 0 {
		t.Fatalf("%d API calls refused", n)
	}
}

// When the API asks for a DPoP nonce (401 use_dpop_nonce with DPoP-Nonce),
// the call is answered with a new proof carrying it, once; a rotated
// nonce later is handled the same way.
func TestOAuthDPoPNonceOnAPICalls(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 30, Apps: 3, Groups: 4, Now: refNow})
	srv := oktatest.NewServer(org)
	defer srv.Close()
	key := rsaKey(t)
	srv.AddServiceApp(oktatest.NewServiceApp("0oaREAD", key.Public(), "k1", readScopes...))
	srv.DemandAPINonce(true)
	c := oauthClient(t, srv, "0oaREAD", key, "k1", true, readScopes)
	ctx := context.Background()
	if _, err := c.LookupUser(ctx, org.Users[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupUser(ctx, org.Users[1].ID); err != nil {
		t.Fatal(err)
	}
	// One challenge at the token endpoint, one at the first API call; the
	// second call already carried the nonce.
	if st := srv.OAuthStats(); st.NonceChallenges != 2 || st.Issued != 1 {
		t.Fatalf("stats = %+v, want 2 nonce challenges and 1 token", st)
	}
	srv.RotateDPoPNonce()
	if _, err := c.LookupGroup(ctx, org.Groups[0].ID); err != nil {
		t.Fatalf("after a nonce rotation: %v", err)
	}
	if st := srv.OAuthStats(); st.NonceChallenges != 3 {
		t.Fatalf("nonce challenges = %d after the rotation, want 3", st.NonceChallenges)
	}
}

// A service app without "Require DPoP" gets a Bearer token with okta.dpop
// off; an app that requires DPoP refuses a client with it off, and the
// error says which switch to flip.
func TestOAuthWithoutDPoP(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 30, Apps: 3, Groups: 4, Now: refNow})
	srv := oktatest.NewServer(org)
	defer srv.Close()
	key := rsaKey(t)
	app := oktatest.NewServiceApp("0oaBEARER", key.Public(), "", readScopes...)
	app.RequireDPoP = false
	srv.AddServiceApp(app)
	srv.AddServiceApp(oktatest.NewServiceApp("0oaDPOP", key.Public(), "", readScopes...))
	ctx := context.Background()
	if _, err := oauthClient(t, srv, "0oaBEARER", key, "", false, readScopes).LookupUser(ctx, org.Users[0].ID); err != nil {
		t.Fatal(err)
	}
	err := oauthClient(t, srv, "0oaDPOP", key, "", false, readScopes).CheckAuth(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_dpop_proof") || !strings.Contains(err.Error(), "okta.dpop: true") {
		t.Fatalf("err = %v, want the DPoP refusal naming okta.dpop", err)
	}
}

// A key Okta does not know is refused; the error names the client, the
// key id and the admin setting to fix, and is permanent.
func TestOAuthRefusedAssertionNamesKeyAndFix(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 10, Apps: 2, Groups: 2, Now: refNow})
	srv := oktatest.NewServer(org)
	defer srv.Close()
	srv.AddServiceApp(oktatest.NewServiceApp("0oaREAD", rsaKey(t).Public(), "", readScopes...))
	c := oauthClient(t, srv, "0oaREAD", rsaKey(t), "attest-2026", true, readScopes)
	err := c.CheckAuth(context.Background())
	for _, want := range []string{"0oaREAD", "attest-2026", "invalid_client", "Public key / Private key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to name %q", err, want)
		}
	}
	if !errors.Is(err, campaign.ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden", err)
	}
	// A read fails the same way, through the SDK.
	if _, err := c.LookupUser(context.Background(), org.Users[0].ID); err == nil || !strings.Contains(err.Error(), "attest-2026") {
		t.Fatalf("lookup err = %v", err)
	}
}

// Okta grants only the granted scopes among those asked for: CheckAuth
// names the missing ones and where to grant them.
func TestOAuthMissingScopeNamed(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 10, Apps: 2, Groups: 2, Now: refNow})
	srv := oktatest.NewServer(org)
	defer srv.Close()
	key := ecKey(t)
	srv.AddServiceApp(oktatest.NewServiceApp("0oaREAD", key.Public(), "", "okta.users.read", "okta.groups.read", "okta.apps.read"))
	err := oauthClient(t, srv, "0oaREAD", key, "", true, readScopes).CheckAuth(context.Background())
	if err == nil || !strings.Contains(err.Error(), "was not granted okta.logs.read") || !strings.Contains(err.Error(), "Okta API Scopes tab") {
		t.Fatalf("err = %v, want okta.logs.read named as missing", err)
	}
	if strings.Contains(err.Error(), "not granted okta.users.read") {
		t.Fatalf("err = %v names a granted scope", err)
	}
}

// A read-only client that tries a removal through the executor gets
// Okta's 403 insufficient_scope, recorded as a permanent failure naming
// the scope; the membership stays in Okta.
func TestOAuthReadClientCannotRemove(t *testing.T) {
	r := newExecRig(t, 0)
	key := rsaKey(t)
	r.srv.AddServiceApp(oktatest.NewServiceApp("0oaREAD", key.Public(), "", readScopes...))
	r.c = oauthClient(t, r.srv, "0oaREAD", key, "", true, readScopes)
	target := r.firstOp(campaign.OpRemoveMembership, nil)
	before := r.remaining()
	sum := r.run(r.executor("w1"))
	if sum.ByResult[campaign.ResultRemoved] != 0 || sum.Failed == 0 {
		t.Fatalf("summary = %+v, want nothing removed", sum)
	}
	op := r.op(target.Seq)
	if op.State != campaign.OpFailed || op.ErrorCode != "insufficient_scope" || !strings.Contains(op.ErrorSummary, "okta.groups.manage") ||
		!strings.Contains(op.ErrorSummary, "0oaREAD") {
		t.Fatalf("op = %+v, want a failure naming okta.groups.manage and the client", op)
	}
	if left := r.remaining(); left != before {
		t.Fatalf("%d accesses left, want all %d", left, before)
	}
	if r.srv.OAuthStats().ScopeRefusals == 0 {
		t.Fatal("the fake refused no call for its scope")
	}
}

// A write client granted the manage scopes (and okta.users.read, for the
// read-back of a user's groups) carries the plan out.
func TestOAuthWriteClientRemoves(t *testing.T) {
	r := newExecRig(t, 0)
	key := ecKey(t)
	scopes := []string{"okta.users.read", "okta.groups.manage", "okta.apps.manage"}
	r.srv.AddServiceApp(oktatest.NewServiceApp("0oaWRITE", key.Public(), "w1", scopes...))
	r.c = oauthClient(t, r.srv, "0oaWRITE", key, "w1", true, scopes)
	if err := r.c.CheckAuth(r.ctx); err != nil {
		t.Fatal(err)
	}
	sum := r.run(r.executor("w1"))
	if !sum.Done || sum.ByResult[campaign.ResultRemoved] != r.ops() || sum.Failed != 0 {
		t.Fatalf("summary = %+v, want %d removed", sum, r.ops())
	}
	if left := r.remaining(); left != 0 {
		t.Fatalf("%d accesses still present", left)
	}
}

// A token Okta revoked (401 invalid_token) is dropped and replaced once,
// so the call still succeeds; nothing secret reaches the log meanwhile.
func TestOAuthRevokedTokenReplacedAndNothingSecretLogged(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 10, Apps: 2, Groups: 2, Now: refNow})
	srv := oktatest.NewServer(org)
	defer srv.Close()
	key := rsaKey(t)
	srv.AddServiceApp(oktatest.NewServiceApp("0oaREAD", key.Public(), "", readScopes...))
	var logs bytes.Buffer
	c := oauthClient(t, srv, "0oaREAD", key, "", true, readScopes, func(o *okta.Options) {
		o.Logger = zerolog.New(&logs).Level(zerolog.TraceLevel)
	})
	ctx := context.Background()
	if _, err := c.LookupUser(ctx, org.Users[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := srv.RevokeTokens("0oaREAD"); n != 1 {
		t.Fatalf("revoked %d tokens, want 1", n)
	}
	if _, err := c.LookupUser(ctx, org.Users[1].ID); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if st := srv.OAuthStats(); st.Issued != 2 {
		t.Fatalf("tokens issued = %d, want a second one after the revocation", st.Issued)
	}
	// A refused key too, so the error paths log as well.
	_ = oauthClient(t, srv, "0oaREAD", rsaKey(t), "", true, readScopes, func(o *okta.Options) {
		o.Logger = zerolog.New(&logs).Level(zerolog.TraceLevel)
	}).CheckAuth(ctx)
	pemBytes, _ := okta.PrivateKeyPEM(key)
	body := strings.Split(string(pemBytes), "\n")[1]
	if strings.Contains(logs.String(), "eyJ") || strings.Contains(logs.String(), body) {
		t.Fatalf("the log holds a JWT (assertion, proof) or the key:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "okta access token fetched") {
		t.Fatalf("nothing logged at all, the check proves nothing:\n%s", logs.String())
	}
}

// The assertion carries okta.key_id as its kid: Okta picks the app's key
// by it, so the right key under another kid is refused.
func TestOAuthAssertionCarriesKeyID(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 10, Apps: 2, Groups: 2, Now: refNow})
	srv := oktatest.NewServer(org)
	defer srv.Close()
	key := ecKey(t)
	srv.AddServiceApp(oktatest.NewServiceApp("0oaREAD", key.Public(), "k1", readScopes...))
	if err := oauthClient(t, srv, "0oaREAD", key, "k1", true, readScopes).CheckAuth(context.Background()); err != nil {
		t.Fatalf("kid k1: %v", err)
	}
	err := oauthClient(t, srv, "0oaREAD", key, "k2", true, readScopes).CheckAuth(context.Background())
	if err == nil || !strings.Contains(err.Error(), "key id k2") {
		t.Fatalf("kid k2: err = %v, want a refusal naming key id k2", err)
	}
}
