package campaign

import "errors"

// VendorError is an error a vendor answered, translated at the vendor's
// edge (okta.APIError): it unwraps to one of this package's kinds, which
// say what to do (ErrTransient: try again after re-reading; any other kind:
// never), and carries the vendor's own code and summary as fields, for the
// evidence. The executor reads them with errors.As, never from text.
type VendorError interface {
	error
	// VendorCode is the vendor's code, such as Okta's E0000046.
	VendorCode() string
	// VendorSummary is the vendor's summary and what it means.
	VendorSummary() string
}

// vendorFields returns the vendor code and a summary of err for an
// operation's evidence: the vendor's code and summary when err carries a
// VendorError, else no code and err's text. A note, when given, leads the
// summary: it says what the executor concluded.
func vendorFields(err error, note string) (code, summary string) {
	summary = err.Error()
	var ve VendorError
	if errors.As(err, &ve) {
		code, summary = ve.VendorCode(), ve.VendorSummary()
	}
	if note != "" {
		summary = note + ": " + summary
	}
	return code, summary
}
