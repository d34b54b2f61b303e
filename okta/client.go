// Package okta reads the Okta directory through okta-sdk-golang/v2, paced by
// Okta's rate-limit headers, and turns it into a campaign.Snapshot.
package okta

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
)

// Options configure a Client. OrgURL and one of Token or OAuth are
// required.
type Options struct {
	OrgURL string // https://example.okta.com; http:// only for a loopback test server
	Token  string // SSWS API token; never logged
	// OAuth, when set, authenticates as an OAuth 2.0 service app instead of
	// with Token (see CheckAuth).
	OAuth *OAuth
	// Concurrency bounds the requests in flight (default 4; Okta allows 75
	// per org, shared with every other integration).
	Concurrency int
	// RequestTimeout bounds the wait for one answer (default 30 s).
	RequestTimeout time.Duration
	// MaxRetries bounds the retries of one read after 5xx answers or
	// timeouts (default 5).
	MaxRetries int
	// Headroom is the fraction of each rate-limit window left unused.
	Headroom float64
	// ManagerAttribute is the profile attribute holding the manager
	// (default managerId).
	ManagerAttribute string
	// AppOwnerAttribute, when set, is the app profile attribute whose
	// value (owners' emails or logins) the sync keeps as campaign.App's
	// Owners; "" reads none.
	AppOwnerAttribute string
	// Transport replaces the HTTP transport under the pacer (tests).
	Transport http.RoundTripper
	// Observe, when set, hears every answer's status (0: no answer), for
	// metrics.
	Observe func(status int)
	Logger  zerolog.Logger
}

// Client reads an Okta org. It is safe for concurrent use.
type Client struct {
	sdk     *sdk.Client
	pacer   *pacer
	orgURL  string
	mgrAttr string
	// ownerAttr is Options.AppOwnerAttribute.
	ownerAttr string
	log       zerolog.Logger
	oauth     *tokenSource // nil with an SSWS token
}

var _ campaign.Directory = (*Client)(nil)

// New builds a Client. It returns an error when the org URL is malformed,
// uses http:// on a non-loopback host, or the token (or, with OAuth, the
// client id, key or scopes) is missing. It sends no request.
func New(ctx context.Context, o Options) (*Client, error) {
	org := strings.TrimRight(strings.TrimSpace(o.OrgURL), "/")
	u, err := url.Parse(org)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("okta: org URL %q is not a URL like https://example.okta.com", o.OrgURL)
	}
	insecure := false
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("okta: org URL %q uses http:// on a non-loopback host; use https://", o.OrgURL)
		}
		insecure = true
	default:
		return nil, fmt.Errorf("okta: org URL %q must start with https://", o.OrgURL)
	}
	if o.Token == "" && o.OAuth == nil {
		return nil, errors.New("okta: API token is empty; set OKTA_API_TOKEN")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	} else if o.MaxRetries == 0 {
		o.MaxRetries = 5
	}
	if o.ManagerAttribute == "" {
		o.ManagerAttribute = "managerId"
	}
	base := o.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = o.RequestTimeout
		t.MaxIdleConnsPerHost = o.Concurrency
		base = t
	}
	token, mode := o.Token, "SSWS"
	var src *tokenSource
	if o.OAuth != nil {
		if src, err = newTokenSource(org, *o.OAuth, base, o.Logger); err != nil {
			return nil, err
		}
		// The SDK's Bearer mode with a placeholder: oauthTransport, under
		// the pacer, replaces it on every attempt.
		base, token, mode = &oauthTransport{base: base, src: src}, "attest-oauth-placeholder", "Bearer"
	}
	p := newPacer(base, o.Concurrency, o.MaxRetries, o.Headroom, o.Logger)
	p.observe = o.Observe
	hc := &http.Client{Transport: p}
	// Every option is passed explicitly: the SDK otherwise also reads
	// ~/.okta/okta.yaml, .okta.yaml and OKTA_CLIENT_* variables, and caches
	// GETs (lists included) for five minutes.
	_, c, err := sdk.NewClient(ctx,
		sdk.WithOrgUrl(org),
		sdk.WithToken(token),
		sdk.WithAuthorizationMode(mode),
		sdk.WithCache(false),
		sdk.WithHttpClientPtr(hc),
		sdk.WithRateLimitMaxRetries(0),
		sdk.WithRequestTimeout(0),
		sdk.WithUserAgentExtra("attest"),
		sdk.WithTestingDisableHttpsCheck(insecure),
	)
	if err != nil {
		return nil, fmt.Errorf("okta: configure client: %w", err)
	}
	return &Client{sdk: c, pacer: p, orgURL: org, mgrAttr: o.ManagerAttribute, ownerAttr: o.AppOwnerAttribute, log: o.Logger, oauth: src}, nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CallStats counts the requests this client has sent.
type CallStats struct {
	Calls   int64 `json:"api_calls"`
	TooMany int64 `json:"rate_limited"`
	Retries int64 `json:"retries"`
}

// Stats returns the requests sent so far, the 429s met and the retries made.
func (c *Client) Stats() CallStats {
	return CallStats{Calls: c.pacer.calls.Load(), TooMany: c.pacer.tooMany.Load(), Retries: c.pacer.retries.Load()}
}

// CallCounts reports the requests sent, 429s met and retries made, for
// campaign.CallCounter.
func (c *Client) CallCounts() (calls, rateLimited, retries int64) {
	s := c.Stats()
	return s.Calls, s.TooMany, s.Retries
}
