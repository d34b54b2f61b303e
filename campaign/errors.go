package campaign

import "errors"

// Error kinds. Vendors' errors are translated to these at the vendor's edge
// and wrapped with context, so callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("forbidden")
	ErrConflict  = errors.New("conflict")
	ErrInvalid   = errors.New("invalid")
	ErrTransient = errors.New("temporary failure")
)
