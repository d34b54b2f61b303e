package servicenow

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
)

// Error kinds, shared with campaign so callers need test only one set of
// sentinels with errors.Is.
var (
	// ErrTransient marks a failure worth retrying: 429, 5xx, a timeout or
	// a connection that failed.
	ErrTransient = campaign.ErrTransient
	// ErrNotFound marks a 404: no such record, or an ACL hides it.
	ErrNotFound = campaign.ErrNotFound
	// ErrForbidden marks a 401 or 403: bad credentials, a missing role, an
	// ACL or a data policy.
	ErrForbidden = campaign.ErrForbidden
	// ErrInvalid marks any other 4xx: the request itself is wrong, and
	// sending it again will not help.
	ErrInvalid = campaign.ErrInvalid
)

// Error is a failed Table API call as ServiceNow described it. It never
// holds a credential: the client scrubs them from every message.
type Error struct {
	Op         string        // e.g. "create incident"
	Status     int           // HTTP status; 0 when no answer came
	Message    string        // error.message of the body, or the status text
	Detail     string        // error.detail of the body, may be empty
	RetryAfter time.Duration // from a 429's or 503's Retry-After, else 0
	kind       error
}

// Error renders "servicenow: create incident: 400 Bad Request: message (detail)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("servicenow: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Detail != "" && e.Detail != e.Message {
		b.WriteString(" (")
		b.WriteString(e.Detail)
		b.WriteString(")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the error's kind: ErrTransient, ErrNotFound, ErrForbidden
// or ErrInvalid.
func (e *Error) Unwrap() error { return e.kind }

// Transient reports whether err is worth retrying later.
func Transient(err error) bool { return errors.Is(err, ErrTransient) }

// RetryAfter returns the wait ServiceNow asked for in a Retry-After header,
// if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// kindOf is the one place that decides what a status means: 429 and 5xx
// are retried, every other 4xx is not.
func kindOf(status int) error {
	switch {
	case status == http.StatusTooManyRequests, status >= 500:
		return ErrTransient
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrForbidden
	default:
		return ErrInvalid
	}
}

// apiError builds the *Error for a non-success answer from its body,
// which ServiceNow shapes as {"error":{"message","detail"},"status":"failure"}.
// A body that is not that shape (a proxy's HTML page) gives the status text.
func apiError(op string, resp *http.Response, body []byte, now time.Time, clean func(string) string) *Error {
	e := &Error{Op: op, Status: resp.StatusCode, kind: kindOf(resp.StatusCode)}
	var env struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Message = oneLine(clean(env.Error.Message), 300)
		e.Detail = oneLine(clean(env.Error.Detail), 500)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// oneLine trims s, folds its whitespace and cuts it to n bytes, so a
// vendor's message fits a log line and a Slack reply.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// transportError wraps a failure to get an answer at all. The request may
// or may not have reached ServiceNow; the queue's correlation lookup makes
// retrying a create safe either way.
func transportError(op, why string) error {
	return fmt.Errorf("servicenow: %s: no answer: %s: %w", op, why, ErrTransient)
}

// describe names a transport failure without the request URL that
// *url.Error would repeat.
func describe(err error) string {
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return "timed out"
	}
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(err) {
		err = u
	}
	return err.Error()
}
