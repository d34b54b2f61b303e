package blocks

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The codec below is the only place button values and routable block ids
// are written and read. A value is a route back to server state, never a
// grant: the handler re-reads the campaign and re-checks who clicked. The
// wire format, "kind:id:subject:page", is the one attest has always posted,
// so buttons in messages sent before an upgrade still work.

// ErrBadValue marks a button value, action id or block id that attest did
// not emit: unknown, malformed, or a value that does not fit its action.
var ErrBadValue = errors.New("not a value attest emits")

// RefKind says what a button value refers to; it is the value's first field.
type RefKind string

// Kinds of button values.
const (
	// RefMemberForm is one page of a member's self-attestation form.
	RefMemberForm RefKind = "m"
	// RefReviewerForm is one page of a reviewer's form about one member.
	RefReviewerForm RefKind = "r"
	// RefPlan is a campaign's removal plan in the approvals channel.
	RefPlan RefKind = "a"
	// RefHome is an App Home button about one campaign.
	RefHome RefKind = "h"
	// RefSweep is a stale-access sweep's "Start review of these" button.
	RefSweep RefKind = "s"
	// RefSignOff is a campaign's control-owner sign-off message; its
	// subject is the evidence digest the message shows.
	RefSignOff RefKind = "o"
	// RefOwnerForm is one page of an app owner's stage-3 form about one
	// app; its subject is the app's Okta id.
	RefOwnerForm RefKind = "w"
)

// Roles of an App Home button (Ref.Role).
const (
	HomeMember   = "m"      // open the viewer's own form
	HomeReviewer = "r"      // open the viewer's reviewer forms
	HomeOwner    = "w"      // open the viewer's app owner forms
	HomeRemind   = "remind" // send reminders (admins)
	HomeClose    = "close"  // close the campaign (admins)
)

// maxMember bounds the member field: an Okta user id is 20 characters.
const maxMember = 64

// maxPage bounds the page field; a form has at most a few hundred pages.
const maxPage = 10000

// Ref is a decoded button value.
type Ref struct {
	Kind RefKind
	// ID is the campaign (the sweep for RefSweep).
	ID int64
	// Member is the Okta user id a form is about (forms only); for an
	// owner form, the Okta id of the app.
	Member string
	// Role is what an App Home button does (RefHome only).
	Role string
	// Page is the 1-based form page (forms only; 1 otherwise).
	Page int
	// Digest is the evidence digest a sign-off message showed (RefSignOff
	// only): 64 lowercase hex digits.
	Digest string
}

// MemberFormRef returns the value of a member form page's buttons.
func MemberFormRef(campaignID int64, member string, page int) Ref {
	return Ref{Kind: RefMemberForm, ID: campaignID, Member: member, Page: page}
}

// ReviewerFormRef returns the value of a reviewer form page's buttons; the
// reviewer is whoever clicks, checked by the handler.
func ReviewerFormRef(campaignID int64, member string, page int) Ref {
	return Ref{Kind: RefReviewerForm, ID: campaignID, Member: member, Page: page}
}

// OwnerFormRef returns the value of an owner form page's buttons: the
// campaign, the app's Okta id and the page. Who may decide is checked by
// the engine at click time (the app's owners, by Okta id).
func OwnerFormRef(campaignID int64, appID string, page int) Ref {
	return Ref{Kind: RefOwnerForm, ID: campaignID, Member: appID, Page: page}
}

// PlanRef returns the value of a removal plan's buttons.
func PlanRef(campaignID int64) Ref { return Ref{Kind: RefPlan, ID: campaignID, Page: 1} }

// HomeRef returns the value of an App Home button (role HomeMember, ...).
func HomeRef(campaignID int64, role string) Ref {
	return Ref{Kind: RefHome, ID: campaignID, Role: role, Page: 1}
}

// SweepRef returns the value of a sweep's review button.
func SweepRef(sweepID int64) Ref { return Ref{Kind: RefSweep, ID: sweepID, Page: 1} }

// SignOffRef returns the value of a sign-off message's buttons: the
// campaign and the evidence digest shown, which the click binds to.
func SignOffRef(campaignID int64, digest string) Ref {
	return Ref{Kind: RefSignOff, ID: campaignID, Page: 1, Digest: digest}
}

// IsZero reports whether r is the zero Ref (a button with no value).
func (r Ref) IsZero() bool { return r == Ref{} }

// Encode returns the wire form of r, at most a few dozen characters (far
// under Slack's 2000 for a value and 3000 for private_metadata). An
// invalid Ref encodes as "", which ParseRef refuses: attest never emits a
// value it would not accept back.
func (r Ref) Encode() string {
	if r.IsZero() || r.Validate() != nil {
		return ""
	}
	subject := "-"
	switch r.Kind {
	case RefMemberForm, RefReviewerForm, RefOwnerForm:
		subject = r.Member
	case RefHome:
		subject = r.Role
	case RefSignOff:
		subject = r.Digest
	}
	return string(r.Kind) + ":" + strconv.FormatInt(r.ID, 10) + ":" + subject + ":" + strconv.Itoa(r.Page)
}

// String is Encode, for logs.
func (r Ref) String() string { return r.Encode() }

// Validate returns an ErrBadValue error naming what is wrong with r.
func (r Ref) Validate() error {
	if r.ID < 1 {
		return fmt.Errorf("id %d: %w", r.ID, ErrBadValue)
	}
	if r.Page < 1 || r.Page > maxPage {
		return fmt.Errorf("page %d: %w", r.Page, ErrBadValue)
	}
	switch r.Kind {
	case RefMemberForm, RefReviewerForm, RefOwnerForm:
		if !validMember(r.Member) || r.Role != "" || r.Digest != "" {
			return fmt.Errorf("form member %q: %w", r.Member, ErrBadValue)
		}
	case RefHome:
		switch r.Role {
		case HomeMember, HomeReviewer, HomeOwner, HomeRemind, HomeClose:
		default:
			return fmt.Errorf("home role %q: %w", r.Role, ErrBadValue)
		}
		if r.Member != "" || r.Page != 1 || r.Digest != "" {
			return fmt.Errorf("home button with member, page or digest: %w", ErrBadValue)
		}
	case RefPlan, RefSweep:
		if r.Member != "" || r.Role != "" || r.Page != 1 || r.Digest != "" {
			return fmt.Errorf("%s button with member, role, page or digest: %w", r.Kind, ErrBadValue)
		}
	case RefSignOff:
		if !validDigest(r.Digest) || r.Member != "" || r.Role != "" || r.Page != 1 {
			return fmt.Errorf("sign-off button with digest %q, member, role or page: %w", cutRunes(r.Digest, 70), ErrBadValue)
		}
	default:
		return fmt.Errorf("kind %q: %w", r.Kind, ErrBadValue)
	}
	return nil
}

// ParseRef decodes a value made by Encode. Anything else (an unknown kind,
// a missing or extra field, a number with a sign or leading zeros, a
// member with odd characters) is an ErrBadValue error.
func ParseRef(s string) (Ref, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 4 {
		return Ref{}, fmt.Errorf("%d fields: %w", len(parts), ErrBadValue)
	}
	id, ok := parseCanonical(parts[1])
	if !ok {
		return Ref{}, fmt.Errorf("id %q: %w", parts[1], ErrBadValue)
	}
	page, ok := parseCanonical(parts[3])
	if !ok || page > maxPage {
		return Ref{}, fmt.Errorf("page %q: %w", parts[3], ErrBadValue)
	}
	r := Ref{Kind: RefKind(parts[0]), ID: id, Page: int(page)}
	switch r.Kind {
	case RefMemberForm, RefReviewerForm, RefOwnerForm:
		r.Member = parts[2]
	case RefHome:
		r.Role = parts[2]
	case RefSignOff:
		r.Digest = parts[2]
	default:
		if parts[2] != "-" {
			return Ref{}, fmt.Errorf("subject %q: %w", parts[2], ErrBadValue)
		}
	}
	if err := r.Validate(); err != nil {
		return Ref{}, err
	}
	return r, nil
}

// parseCanonical parses a positive decimal written the way
// strconv.FormatInt writes it, so one value has one spelling.
func parseCanonical(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return n, true
}

// validMember accepts an Okta user id (or a login, for old values):
// letters, digits and . _ - @ +, at most maxMember characters.
func validMember(s string) bool {
	if s == "" || len(s) > maxMember {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == '-', c == '@', c == '+':
		default:
			return false
		}
	}
	return true
}

// validDigest accepts a SHA-256 in lowercase hex.
func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
