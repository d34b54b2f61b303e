package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/attestbot/attest/campaign"
)

// APIError is an error answer from Okta, its fields as Okta sent them, and
// what it means for attest: Kind is the campaign error kind it unwraps to
// (ErrTransient: worth another try; every other kind: permanent) and
// Reason a sentence for people. Callers read it with errors.As and decide
// with errors.Is; nothing parses the text.
type APIError struct {
	Op      string   // what attest asked, e.g. "remove user 00u1 from group 00g1"
	Status  int      // HTTP status; 0 when the answer's status is unknown
	Code    string   // Okta's errorCode, e.g. E0000046
	Summary string   // Okta's errorSummary
	Causes  []string // the errorSummary of each errorCauses entry
	ID      string   // Okta's errorId, for Okta support
	Kind    error
	Reason  string
}

// Error returns the whole story, for logs and evidence.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "okta: %s: %s", e.Op, e.Summary)
	if len(e.Causes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Causes, "; "))
	}
	fmt.Fprintf(&b, " [%s", e.Code)
	if e.Status != 0 {
		fmt.Fprintf(&b, ", HTTP %d", e.Status)
	}
	b.WriteString("]")
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	return b.String() + ": " + e.Kind.Error()
}

// Unwrap returns the campaign kind, for errors.Is.
func (e *APIError) Unwrap() error { return e.Kind }

// VendorCode returns Okta's error code (campaign.VendorError).
func (e *APIError) VendorCode() string { return e.Code }

// VendorSummary returns Okta's summary with its causes and what it means
// (campaign.VendorError).
func (e *APIError) VendorSummary() string {
	s := e.Summary
	if len(e.Causes) > 0 {
		s += " (" + strings.Join(e.Causes, "; ") + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

var _ campaign.VendorError = (*APIError)(nil)

// codeMeaning is what one Okta error code means for attest.
type codeMeaning struct {
	kind   error
	reason string
}

// codes are the documented Okta error codes the directory reads and the
// executor's writes (DELETE and PUT of a group member, DELETE of an app
// user, GET of a user's groups or an app user) can meet, from Okta's error
// code reference. A code not listed is judged by its HTTP status.
var codes = map[string]codeMeaning{
	"E0000001": {campaign.ErrInvalid, "Okta refused the request as invalid"},
	"E0000003": {campaign.ErrInvalid, "Okta could not read the request body"},
	"E0000004": {campaign.ErrForbidden, "authentication failed: check the API token or OAuth client"},
	"E0000005": {campaign.ErrForbidden, "the session is invalid"},
	"E0000006": {campaign.ErrForbidden, "the admin behind the token may not make this change (its role or scope does not cover it)"},
	"E0000007": {campaign.ErrNotFound, "Okta finds no such user, group or app, or the admin behind the token cannot see it"},
	"E0000008": {campaign.ErrInvalid, "the API path does not exist on this org"},
	"E0000009": {campaign.ErrTransient, "Okta had an internal error"},
	"E0000010": {campaign.ErrTransient, "Okta is in read-only mode (maintenance)"},
	"E0000011": {campaign.ErrForbidden, "the API token is invalid, expired or revoked"},
	"E0000015": {campaign.ErrForbidden, "the feature is not enabled on this org, or the admin lacks the permission"},
	"E0000022": {campaign.ErrInvalid, "the endpoint does not support this method"},
	"E0000038": {campaign.ErrForbidden, "the user's status (deactivated, say) does not allow this change"},
	"E0000046": {campaign.ErrConflict, "a group membership still grants the app, and Okta unassigns an app only once no group grants it: " +
		"remove the granting membership instead"},
	"E0000047": {campaign.ErrTransient, "Okta's rate limit: the request was not carried out"},
	"E0000048": {campaign.ErrNotFound, "Okta finds no such entity"},
	"E0000112": {campaign.ErrTransient, "the user is still being activated"},
}

// translate turns an SDK error into one of campaign's kinds, for a call
// whose answer status is unknown; see translateStatus.
func translate(what string, err error) error { return translateStatus(what, nil, err) }

// translateStatus turns an SDK error into an *APIError of one of
// campaign's kinds, by Okta's error code, else by the HTTP status of resp
// (429 and 5xx transient, 401 and 403 forbidden, 404 not found, 409
// conflict, other 4xx invalid; unknown: transient). An error with no answer
// (a dropped connection, a timeout) is ErrTransient: a write may or may not
// have happened. A cancelled context stays as it is.
func translateStatus(what string, resp *sdk.Response, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("okta: %s: %w", what, err)
	}
	var se *ScopeError
	if errors.As(err, &se) {
		return &APIError{Op: what, Status: http.StatusForbidden, Code: "insufficient_scope",
			Summary: "The access token provided does not contain the required scopes.", Kind: campaign.ErrForbidden, Reason: se.reason()}
	}
	status := 0
	if resp != nil && resp.Response != nil {
		status = resp.StatusCode
	}
	var oe *sdk.Error
	if !errors.As(err, &oe) {
		return fmt.Errorf("okta: %s: %w: %w", what, campaign.ErrTransient, err)
	}
	ae := &APIError{Op: what, Status: status, Code: oe.ErrorCode, Summary: oe.ErrorSummary, ID: oe.ErrorId}
	if ae.Summary == "" {
		ae.Summary = oe.ErrorDescription // OAuth errors: error_description
	}
	for _, c := range oe.ErrorCauses {
		if s, ok := c["errorSummary"].(string); ok && s != "" {
			ae.Causes = append(ae.Causes, s)
		}
	}
	if m, ok := codes[ae.Code]; ok {
		ae.Kind, ae.Reason = m.kind, m.reason
		return ae
	}
	ae.Reason, ae.Kind = kindOfStatus(status)
	return ae
}

// kindOfStatus judges an answer whose code attest does not know: a
// reason to show, and the kind of error it is.
func kindOfStatus(status int) (string, error) {
	switch {
	case status == 0:
		return "Okta answered with an unknown error", campaign.ErrTransient
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Sprintf("Okta answered HTTP %d", status), campaign.ErrTransient
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Sprintf("Okta refused the request (HTTP %d)", status), campaign.ErrForbidden
	case status == http.StatusNotFound:
		return "Okta finds no such resource", campaign.ErrNotFound
	case status == http.StatusConflict:
		return "Okta refused the change as conflicting", campaign.ErrConflict
	}
	return fmt.Sprintf("Okta refused the request (HTTP %d)", status), campaign.ErrInvalid
}
