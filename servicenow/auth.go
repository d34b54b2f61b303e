package servicenow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// authenticator puts credentials on a request.
type authenticator interface {
	// authorize sets the Authorization header, fetching a token if needed.
	authorize(ctx context.Context, req *http.Request) error
	// invalidate forgets a token ServiceNow refused.
	invalidate()
	// renewable reports whether a refused request may succeed with new
	// credentials (a fresh token), so is worth one more try.
	renewable() bool
	// token returns the current bearer token, "" for none, so error
	// text can be scrubbed of it.
	token() string
}

// basic is HTTP basic auth with the integration user.
type basic struct{ user, pass string }

func (b basic) authorize(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(b.user, b.pass)
	return nil
}

func (basic) invalidate()     {}
func (basic) renewable() bool { return false }
func (basic) token() string   { return "" }

// tokenMargin is how long before its announced expiry a token is renewed,
// so a request never leaves with a token that dies on the way.
const tokenMargin = time.Minute

// oauth is the client credentials grant against {base}/oauth_token.do. The
// token is cached until shortly before it expires; a 401 drops it.
type oauth struct {
	c          *Client
	id, secret string

	fetching sync.Mutex // held while a token is fetched, so only one fetch runs
	mu       sync.Mutex // guards bearer and expires
	bearer   string
	expires  time.Time
}

func (o *oauth) authorize(ctx context.Context, req *http.Request) error {
	tok, err := o.current(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func (o *oauth) invalidate() {
	o.mu.Lock()
	o.bearer, o.expires = "", time.Time{}
	o.mu.Unlock()
}

func (o *oauth) renewable() bool { return true }

func (o *oauth) token() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bearer
}

// current returns the cached token or fetches a new one.
func (o *oauth) current(ctx context.Context) (string, error) {
	if tok, ok := o.cached(); ok {
		return tok, nil
	}
	o.fetching.Lock()
	defer o.fetching.Unlock()
	if tok, ok := o.cached(); ok {
		return tok, nil // another request fetched it meanwhile
	}
	now := o.c.now()
	tok, ttl, err := o.fetch(ctx)
	if err != nil {
		return "", err
	}
	margin := tokenMargin
	if ttl <= 2*margin {
		margin = ttl / 2
	}
	o.mu.Lock()
	o.bearer, o.expires = tok, now.Add(ttl-margin)
	o.mu.Unlock()
	return tok, nil
}

func (o *oauth) cached() (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bearer, o.bearer != "" && o.c.now().Before(o.expires)
}

// fetch asks the token endpoint for a new token and its lifetime.
func (o *oauth) fetch(ctx context.Context) (string, time.Duration, error) {
	const op = "get OAuth token"
	u := *o.c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/oauth_token.do"
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {o.id},
		"client_secret": {o.secret},
	}
	rctx, cancel := context.WithTimeout(ctx, o.c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("servicenow: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := o.c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("servicenow: %s: %w", op, ctx.Err())
		}
		return "", 0, transportError(op, o.c.clean(describe(err)))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, transportError(op, o.c.clean(describe(err)))
	}
	var answer struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
	}
	_ = json.Unmarshal(body, &answer)
	if resp.StatusCode != http.StatusOK {
		e := apiError(op, resp, body, o.c.now(), o.c.clean)
		if e.Message == "" {
			// The token endpoint speaks OAuth, not the Table API.
			e.Message = oneLine(o.c.clean(answer.Error), 100)
			e.Detail = oneLine(o.c.clean(answer.Description), 300)
		}
		return "", 0, e
	}
	if answer.AccessToken == "" {
		return "", 0, fmt.Errorf("servicenow: %s: answer has no access_token", op)
	}
	return answer.AccessToken, expiresIn(answer.ExpiresIn), nil
}

// expiresIn reads expires_in, a number or a numeric string; ServiceNow's
// default lifetime (30 minutes) when absent.
func expiresIn(raw json.RawMessage) time.Duration {
	s := strings.Trim(string(raw), `"`)
	var n float64
	if _, err := fmt.Sscanf(s, "%g", &n); err != nil || n <= 0 {
		return 30 * time.Minute
	}
	return time.Duration(n * float64(time.Second))
}
