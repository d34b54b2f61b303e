package servicenow_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/snowtest"
	"github.com/attestbot/attest/servicenow"
)

func TestOAuthTokenCaching(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := snowtest.New(snowtest.WithClock(clk.Now), snowtest.WithTokenTTL(30*time.Minute))
	defer s.Close()
	c, err := servicenow.New(servicenow.Options{BaseURL: s.URL(), ClientID: snowtest.ClientID,
		ClientSecret: snowtest.ClientSecret, HTTPClient: s.Client(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	create := func() error {
		_, err := c.Create(ctx, "incident", map[string]string{"short_description": "x"})
		return err
	}
	steps := []struct {
		name   string
		before func()
		calls  int
		tokens int
	}{
		{"first call fetches a token", nil, 1, 1},
		{"later calls reuse it", nil, 5, 1},
		{"still valid before the margin", func() { clk.Add(28 * time.Minute) }, 1, 1},
		{"renewed a minute before expiry", func() { clk.Add(90 * time.Second) }, 1, 2},
		{"a refused token is replaced at once", s.ExpireTokens, 1, 3},
		{"concurrent calls share one fetch", func() { clk.Add(time.Hour) }, 8, 4},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			var wg sync.WaitGroup
			errs := make(chan error, st.calls)
			for i := 0; i < st.calls; i++ {
				wg.Add(1)
				go func() { defer wg.Done(); errs <- create() }()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := s.TokensIssued(); got != st.tokens {
				t.Fatalf("tokens issued = %d, want %d", got, st.tokens)
			}
		})
	}
	for _, call := range s.Calls() {
		if call.Path != "/oauth_token.do" && call.Status == 201 && call.Auth != "bearer" {
			t.Fatalf("call %+v did not use the bearer token", call)
		}
	}
	s.Down(true)
	c2, _ := servicenow.New(servicenow.Options{BaseURL: s.URL(), ClientID: snowtest.ClientID,
		ClientSecret: snowtest.ClientSecret, HTTPClient: s.Client(), Now: clk.Now})
	if _, err := c2.Create(ctx, "incident", nil); !errors.Is(err, servicenow.ErrTransient) || !strings.Contains(err.Error(), "OAuth token") {
		t.Fatalf("token fetch while down = %v; want a transient OAuth token error", err)
	}
	s.Down(false)
	c3, _ := servicenow.New(servicenow.Options{BaseURL: s.URL(), ClientID: snowtest.ClientID,
		ClientSecret: "wrong", HTTPClient: s.Client(), Now: clk.Now})
	if _, err := c3.Create(ctx, "incident", nil); !errors.Is(err, servicenow.ErrForbidden) || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("wrong client secret = %v; want ErrForbidden with access_denied", err)
	}
}

// echoServer answers every Table API call with an error that repeats the
// request's credentials, and the token endpoint with one that repeats the
// client secret (or a token, when ok is set), as a careless proxy might.
func echoServer(tokenOK bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth_token.do" {
			_ = r.ParseForm()
			if tokenOK {
				fmt.Fprint(w, `{"access_token":"tok-S3CRET-bearer","token_type":"Bearer","expires_in":1799}`)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s"}`, r.PostForm.Get("client_secret"))
			return
		}
		user, pass, _ := r.BasicAuth()
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"error":{"message":"denied for %s:%s","detail":"header %s"},"status":"failure"}`,
			user, pass, r.Header.Get("Authorization"))
	}))
}

func TestSecretsNeverInErrors(t *testing.T) {
	ctx := context.Background()
	const password, clientSecret = "pw-S3CRET-basic", "cs-S3CRET-oauth"
	secrets := []string{password, clientSecret, "tok-S3CRET-bearer", "S3CRET",
		base64.StdEncoding.EncodeToString([]byte("attest:" + password))}
	echo, echoFail := echoServer(true), echoServer(false)
	defer echo.Close()
	defer echoFail.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		opts servicenow.Options
	}{
		{"basic auth echoed", servicenow.Options{BaseURL: echo.URL, Username: "attest", Password: password}},
		{"bearer token echoed", servicenow.Options{BaseURL: echo.URL, ClientID: "id", ClientSecret: clientSecret}},
		{"client secret echoed", servicenow.Options{BaseURL: echoFail.URL, ClientID: "id", ClientSecret: clientSecret}},
		{"no server", servicenow.Options{BaseURL: closed.URL, Username: "attest", Password: password}},
		{"no token server", servicenow.Options{BaseURL: closed.URL, ClientID: "id", ClientSecret: clientSecret}},
		{"password in the URL", servicenow.Options{BaseURL: "https://attest:" + password + "@acme.service-now.com", Username: "attest", Password: password}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := servicenow.New(tt.opts)
			if err == nil {
				_, err = c.Create(ctx, "incident", map[string]string{"short_description": "x"})
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, secret := range secrets {
					if strings.Contains(text, secret) {
						t.Fatalf("error shows a secret: %s", text)
					}
				}
			}
		})
	}
}
