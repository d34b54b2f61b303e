package slacktest

// What refuses a call before its handler runs (per-method and per-channel
// rate limits, the failures tests script with FailNext and FailHTTP), and
// the record of every call.

import (
	"maps"
	"math"
	"net/http"
	"net/url"
	"time"
)

// Call is one Web API call the server received.
type Call struct {
	Method string
	// Form holds form-encoded parameters; JSON the decoded JSON body.
	Form url.Values
	JSON map[string]any
	// Token is the token used, from the Authorization header or the
	// token parameter.
	Token string
	At    time.Time
	// Status is the HTTP status answered and Error the Slack error, if any.
	Status int
	Error  string
}

// bucket is a token bucket: rate tokens a second, at most burst saved.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// newBucket returns a full bucket.
func newBucket(rate, burst float64, now time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take spends one token if there is one.
func (b *bucket) take(now time.Time) bool {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// allow applies the method's rate limit, then for chat.postMessage the
// channel's; a call refused by the second still spent the first.
func (st *state) allow(cfg config, r *request, now time.Time) bool {
	if rate, ok := cfg.rates[r.method]; ok && rate > 0 {
		b := st.methodLim[r.method]
		if b == nil {
			b = newBucket(rate, math.Max(1, rate), now)
			st.methodLim[r.method] = b
		}
		if !b.take(now) {
			return false
		}
	}
	if r.method == "chat.postMessage" && cfg.chanRate > 0 {
		ch := r.str("channel")
		b := st.chanLim[ch]
		if b == nil {
			b = newBucket(cfg.chanRate, float64(cfg.chanBurst), now)
			st.chanLim[ch] = b
		}
		if !b.take(now) {
			return false
		}
	}
	return true
}

// anyMethod in FailNext or FailHTTP matches every method.
const anyMethod = "*"

// takeHTTPFault pops the next scripted HTTP failure for method.
func (st *state) takeHTTPFault(method string) (int, bool) {
	for _, m := range []string{method, anyMethod} {
		if q := st.httpFaults[m]; len(q) > 0 {
			st.httpFaults[m] = q[1:]
			return q[0], true
		}
	}
	return 0, false
}

// takeErrFault pops the next scripted Slack error for method.
func (st *state) takeErrFault(method string) (string, bool) {
	for _, m := range []string{method, anyMethod} {
		if q := st.errFaults[m]; len(q) > 0 {
			st.errFaults[m] = q[1:]
			return q[0], true
		}
	}
	return "", false
}

// FailNext makes the next n calls of method (or of any method, with "*")
// answer {"ok":false,"error":slackError} once they pass authentication
// and rate limits.
func (s *Server) FailNext(method, slackError string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.st.errFaults[method] = append(s.st.errFaults[method], slackError)
	}
}

// FailHTTP makes the next n calls of method (or of any method, with "*")
// answer HTTP status before anything else is checked: 429 comes with
// "Retry-After: 1" and Slack's JSON body, 5xx with an HTML page.
func (s *Server) FailHTTP(method string, status, n int) {
	if status < 100 || status == http.StatusOK {
		panic("slacktest: FailHTTP needs a non-200 status")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.st.httpFaults[method] = append(s.st.httpFaults[method], status)
	}
}

// Counts returns the number of calls received per method, refused ones
// included, plus "429" (rate-limited answers, injected or not) and "5xx"
// (injected server errors).
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.st.counts)
}

// Calls returns the calls of method received so far, in order; method ""
// returns every call.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.st.calls {
		if method == "" || c.Method == method {
			c.Form, c.JSON = url.Values(maps.Clone(c.Form)), maps.Clone(c.JSON)
			out = append(out, c)
		}
	}
	return out
}
