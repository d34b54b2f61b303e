package campaign

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorKinds(t *testing.T) {
	cause := fmt.Errorf("store: update: %w", ErrConflict)
	tests := []struct {
		name     string
		err      error
		sentinel error
		code     string
		message  string
	}{
		{"Errorf", Errorf(EForbidden, "Only %s may do this.", "admins"), ErrForbidden, EForbidden, "Only admins may do this."},
		{"wrapped Errorf", fmt.Errorf("slash: %w", Errorf(ENotFound, "No campaign 4.")), ErrNotFound, ENotFound, "No campaign 4."},
		{"WithMessage keeps the cause's kind", WithMessage(cause, "Already decided."), ErrConflict, EConflict, "Already decided."},
		{"plain sentinel", fmt.Errorf("x: %w", ErrInvalid), ErrInvalid, EInvalid, ""},
		{"transient", fmt.Errorf("okta: %w", ErrTransient), ErrTransient, ETransient, ""},
		{"internal", errors.New("disk full"), nil, EInternal, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sentinel != nil && !errors.Is(tc.err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.sentinel)
			}
			for _, other := range []error{ErrNotFound, ErrForbidden, ErrConflict, ErrInvalid, ErrTransient} {
				if other != tc.sentinel && errors.Is(tc.err, other) {
					t.Errorf("errors.Is(%v, %v) = true", tc.err, other)
				}
			}
			if got := ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := ErrorMessage(tc.err); got != tc.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.message)
			}
		})
	}
}

func TestErrorKeepsTheWholeStoryForTheLog(t *testing.T) {
	cause := fmt.Errorf("00uCF's case for Payroll is assigned to another reviewer: %w", ErrForbidden)
	err := WithMessage(cause, "Not yours.")
	if !strings.Contains(err.Error(), "00uCF") || !errors.Is(err, cause) {
		t.Errorf("Error() = %q loses the cause", err.Error())
	}
	if got := Errorf(EConflict, "Closed.").Error(); got != "Closed.: conflict" {
		t.Errorf("Error() = %q", got)
	}
	if ErrorCode(nil) != "" || ErrorMessage(nil) != "" || WithMessage(nil, "x") != nil {
		t.Error("nil is not an error of any kind")
	}
}
