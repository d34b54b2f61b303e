package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
)

func TestUserMessage(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   string
		logged bool // the whole error went to the log
	}{
		{"domain message", campaign.Errorf(campaign.EForbidden, "Only IAM admins may close campaigns."),
			":no_entry: Only IAM admins may close campaigns.", false},
		{"wrapped domain message", fmt.Errorf("slash close: %w", campaign.Errorf(campaign.EConflict, "Campaign 3 is not open.")),
			":lock: Campaign 3 is not open.", false},
		{"engine text naming someone else", fmt.Errorf("00uCF's case for AWS Production is assigned to another reviewer: %w", campaign.ErrForbidden),
			":no_entry: " + msgNotYours, false},
		{"conflict without a message", fmt.Errorf("campaign 3 (Q4) is closed: %w", campaign.ErrConflict), ":lock: " + msgConflict, false},
		{"not found without a message", fmt.Errorf("store: campaign 9: %w", campaign.ErrNotFound), ":warning: " + msgNotFound, false},
		{"invalid without a message", fmt.Errorf("decision \"maybe\": %w", campaign.ErrInvalid), ":warning: " + msgInvalid, false},
		{"raw database error", errors.New("store: update cases: database is locked (SQLITE_BUSY)"), ":warning: " + msgInternal, true},
		{"transient", fmt.Errorf("okta: 503: %w", campaign.ErrTransient), ":hourglass: " + msgTransient, true},
		{"data in a message is escaped", campaign.Errorf(campaign.ENotFound, "No definition named “<!channel>”."),
			":warning: No definition named “&lt;!channel&gt;”.", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			got := userMessage(zerolog.New(&buf), tc.err)
			if got != tc.want {
				t.Errorf("userMessage = %q, want %q", got, tc.want)
			}
			if logged := strings.Contains(buf.String(), tc.err.Error()); logged != tc.logged {
				t.Errorf("logged = %v (%s), want %v", logged, buf.String(), tc.logged)
			}
		})
	}
}

func TestRefuse(t *testing.T) {
	msgs := map[string]string{campaign.EForbidden: "Not yours."}
	tests := []struct {
		name     string
		err      error
		wantMsg  string
		wantCode string
	}{
		{"mapped kind gets the sentence", fmt.Errorf("x: %w", campaign.ErrForbidden), "Not yours.", campaign.EForbidden},
		{"unmapped kind keeps none", fmt.Errorf("x: %w", campaign.ErrConflict), "", campaign.EConflict},
		{"a message already there stays", campaign.Errorf(campaign.EForbidden, "Only admins."), "Only admins.", campaign.EForbidden},
		{"internal stays internal", errors.New("disk full"), "", campaign.EInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := refuse(tc.err, msgs)
			if campaign.ErrorMessage(got) != tc.wantMsg || campaign.ErrorCode(got) != tc.wantCode {
				t.Errorf("refuse = %v (code %s, message %q), want %s %q", got, campaign.ErrorCode(got), campaign.ErrorMessage(got), tc.wantCode, tc.wantMsg)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("refuse lost the cause: %v", got)
			}
		})
	}
	if refuse(nil, msgs) != nil {
		t.Error("refuse(nil) is not nil")
	}
}
