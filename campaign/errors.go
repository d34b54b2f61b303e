package campaign

import (
	"errors"
	"fmt"
)

// Error kinds. Vendors' errors are translated to these at the vendor's edge
// and wrapped with context, so callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("forbidden")
	ErrConflict  = errors.New("conflict")
	ErrInvalid   = errors.New("invalid")
	ErrTransient = errors.New("temporary failure")
)

// Error codes, one per kind; EInternal is everything else (a bug, a
// database failure) and is never explained to the person.
const (
	ENotFound  = "not_found"
	EForbidden = "forbidden"
	EConflict  = "conflict"
	EInvalid   = "invalid"
	ETransient = "transient"
	EInternal  = "internal"
)

// Error is an error with a kind and a sentence that is safe to show the
// person who caused it: it names nobody else, no other person's case and
// no internals. The wrapped cause keeps the whole story for the log.
type Error struct {
	// Code is one of the E* codes.
	Code string
	// Message is the user-safe sentence.
	Message string
	// Err is the cause, or nil.
	Err error
}

// Errorf returns an *Error of kind code whose message is the formatted
// sentence (no %w: the message is for people, not for errors.Is).
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithMessage wraps err in an *Error of err's own kind with a user-safe
// message, for the boundary where an error leaves the system for a person.
// A nil err stays nil.
func WithMessage(err error, message string) error {
	if err == nil {
		return nil
	}
	return &Error{Code: ErrorCode(err), Message: message, Err: err}
}

// Error returns the message and the cause, for logs.
func (e *Error) Error() string {
	switch {
	case e.Err != nil:
		return e.Message + ": " + e.Err.Error()
	case sentinel(e.Code) != nil:
		return e.Message + ": " + sentinel(e.Code).Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrForbidden) hold for an *Error of code
// EForbidden, so the sentinels keep working for typed errors.
func (e *Error) Is(target error) bool {
	s := sentinel(e.Code)
	return s != nil && target == s
}

// sentinel returns the sentinel error of a code, or nil.
func sentinel(code string) error {
	switch code {
	case ENotFound:
		return ErrNotFound
	case EForbidden:
		return ErrForbidden
	case EConflict:
		return ErrConflict
	case EInvalid:
		return ErrInvalid
	case ETransient:
		return ErrTransient
	}
	return nil
}

// ErrorCode returns the kind of err: the code of the outermost *Error in
// its chain, else the code of the sentinel it wraps, else EInternal; ""
// for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	for _, code := range []string{EForbidden, EConflict, ENotFound, EInvalid, ETransient} {
		if errors.Is(err, sentinel(code)) {
			return code
		}
	}
	return EInternal
}

// ErrorMessage returns the user-safe message of the outermost *Error in
// err's chain, or "" when there is none (the caller then says something
// generic: a plain error's text is for the log only).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
