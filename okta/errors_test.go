package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/attestbot/attest/campaign"
)

// Okta's answers are judged by code, else by status, into permanent and
// transient kinds, and keep their fields for errors.As.
func TestTranslateStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		code   string
		want   error
		reason string // in the reason
	}{
		{"group grant on unassign", 403, "E0000046", campaign.ErrConflict, "group membership still grants the app"},
		{"not found", 404, "E0000007", campaign.ErrNotFound, "cannot see it"},
		{"access denied", 403, "E0000006", campaign.ErrForbidden, "role or scope"},
		{"user status", 403, "E0000038", campaign.ErrForbidden, "status"},
		{"validation", 400, "E0000001", campaign.ErrInvalid, "invalid"},
		{"invalid token", 401, "E0000011", campaign.ErrForbidden, "token"},
		{"rate limit", 429, "E0000047", campaign.ErrTransient, "rate limit"},
		{"internal error", 500, "E0000009", campaign.ErrTransient, "internal"},
		{"read-only mode", 503, "E0000010", campaign.ErrTransient, "read-only"},
		{"unknown code, 5xx", 502, "E0009999", campaign.ErrTransient, "HTTP 502"},
		{"unknown code, 403", 403, "E0009999", campaign.ErrForbidden, "HTTP 403"},
		{"unknown code, 404", 404, "E0009999", campaign.ErrNotFound, "no such"},
		{"unknown code, 409", 409, "E0009999", campaign.ErrConflict, "conflicting"},
		{"unknown code, 400", 400, "E0009999", campaign.ErrInvalid, "HTTP 400"},
		{"unknown code, no status", 0, "E0009999", campaign.ErrTransient, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *sdk.Response
			if tc.status != 0 {
				resp = &sdk.Response{Response: &http.Response{StatusCode: tc.status}}
			}
			oe := &sdk.Error{ErrorCode: tc.code, ErrorSummary: "summary", ErrorId: "oae1",
				ErrorCauses: []map[string]interface{}{{"errorSummary": "cause"}}}
			err := translateStatus("unassign user u from app a", resp, fmt.Errorf("sdk: %w", oe))
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v: not %v", err, tc.want)
			}
			for _, other := range []error{campaign.ErrNotFound, campaign.ErrForbidden, campaign.ErrConflict, campaign.ErrInvalid, campaign.ErrTransient} {
				if other != tc.want && errors.Is(err, other) {
					t.Fatalf("%v is also %v", err, other)
				}
			}
			var ve campaign.VendorError
			if !errors.As(err, &ve) || ve.VendorCode() != tc.code {
				t.Fatalf("errors.As: %v", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Summary != "summary" || len(ae.Causes) != 1 || ae.ID != "oae1" {
				t.Fatalf("fields: %+v", ae)
			}
			if !strings.Contains(ae.Reason, tc.reason) || !strings.Contains(ve.VendorSummary(), ae.Reason) {
				t.Fatalf("reason %q does not say %q", ae.Reason, tc.reason)
			}
		})
	}
}

// No answer is transient (a write may or may not have happened); a
// cancelled context is not an Okta error at all.
func TestTranslateWithoutAnswer(t *testing.T) {
	if err := translateStatus("x", nil, errors.New("connection reset")); !errors.Is(err, campaign.ErrTransient) {
		t.Fatalf("dropped connection: %v", err)
	}
	err := translateStatus("x", nil, fmt.Errorf("do: %w", context.Canceled))
	if !errors.Is(err, context.Canceled) || errors.Is(err, campaign.ErrTransient) {
		t.Fatalf("cancelled: %v", err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Fatal("a cancelled call carries no Okta error")
	}
	if translateStatus("x", nil, nil) != nil {
		t.Fatal("nil error translated to non-nil")
	}
}
