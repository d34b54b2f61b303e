package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// NoteSignOff asks a campaign's owner to sign off its evidence: sent once
// the executor has finished and read back every removal.
const NoteSignOff = "sign_off"

// Audit events of a control owner's sign-off and of their refusal to sign.
const (
	EventSignedOff       = "campaign.signed_off"
	EventSignOffDeclined = "campaign.sign_off_declined"
)

// SignOffRequest is a control owner's sign-off of a campaign's evidence,
// or their refusal to sign (Decline, with a Reason). It is bound to the
// evidence digest the owner was shown: when EvidenceSHA256 is set and the
// evidence has changed since, nothing is recorded.
type SignOffRequest struct {
	CampaignID int64
	Actor      Actor
	// EvidenceSHA256 is the digest shown to the owner (see SignOffFacts).
	EvidenceSHA256 string
	Decline        bool
	Reason         string
	Statement      string
}

// SignOffFacts are what the sign-off message shows: the evidence digest
// the sign-off binds to and what the owner should read before signing.
type SignOffFacts struct {
	EvidenceSHA256 string
	// Summary is one sentence of outcomes and removals.
	Summary string
	// Exceptions are removals not done as planned, conflicts, late or
	// returned access, leavers kept.
	Exceptions []string
	// ManualOpen are the manual items (tickets) not closed yet.
	ManualOpen []string
	// Signed is the latest sign-off or decline recorded, nil if none.
	Signed *Event
}

// SignOffRecorder records sign-offs in the evidence (package evidence
// implements it over the store; `attest evidence sign-off` uses the same
// function).
type SignOffRecorder interface {
	// SignOffFacts returns the campaign's evidence digest now and what the
	// sign-off message shows.
	SignOffFacts(ctx context.Context, campaignID int64) (SignOffFacts, error)
	// RecordSignOff checks the actor is the campaign's control owner and
	// the digest is current (an *EvidenceChangedError otherwise), then
	// appends the sign-off or decline to the audit log.
	RecordSignOff(ctx context.Context, req SignOffRequest) (Event, error)
}

// ReviewerFlagger reads the rubber-stamping flags of a campaign's
// reviewers, as the evidence computes them (package evidence).
type ReviewerFlagger interface {
	ReviewerFlags(ctx context.Context, campaignID int64) ([]string, error)
}

// ReviewerFlags returns the reviewer flags the approval message shows:
// none when no Flags reader is configured, else its lines or its error.
func (e *Engine) ReviewerFlags(ctx context.Context, id int64) ([]string, error) {
	if e.Flags == nil {
		return nil, nil
	}
	return e.Flags.ReviewerFlags(ctx, id)
}

// EvidenceChangedError is a sign-off bound to a digest that is no longer
// the evidence's: something was recorded since the owner was shown it.
type EvidenceChangedError struct {
	Shown, Current string
}

func (e *EvidenceChangedError) Error() string {
	return fmt.Sprintf("the evidence changed since it was shown (shown %.12s…, now %.12s…): read it again before signing off",
		e.Shown, e.Current)
}

// Unwrap makes it a conflict.
func (e *EvidenceChangedError) Unwrap() error { return ErrConflict }

// SignOffFacts returns what the sign-off message shows. It returns an
// ErrInvalid error when no SignOffs recorder is configured.
func (e *Engine) SignOffFacts(ctx context.Context, id int64) (SignOffFacts, error) {
	if e.SignOffs == nil {
		return SignOffFacts{}, fmt.Errorf("sign-off is not configured: %w", ErrInvalid)
	}
	return e.SignOffs.SignOffFacts(ctx, id)
}

// SignOff records the control owner's sign-off (or decline) from Slack:
// the clicking person is identified as the Okta user they are now and
// must be the campaign's owner (by Okta id; the definition's owner, by
// the Okta user their name resolves to, also counts); with StepUp set the
// Okta Verify push must be accepted first. The evidence package then
// binds it to the digest shown and appends it, exactly as the CLI does.
// It returns ErrForbidden for anyone else or a refused push, ErrConflict
// (an *EvidenceChangedError) when the evidence changed since it was shown
// or the campaign is still open, ErrInvalid for a decline without reason.
func (e *Engine) SignOff(ctx context.Context, req SignOffRequest) (Event, error) {
	if e.SignOffs == nil {
		return Event{}, fmt.Errorf("sign-off is not configured: %w", ErrInvalid)
	}
	c, err := e.Store.GetCampaign(ctx, req.CampaignID)
	if err != nil {
		return Event{}, err
	}
	actor, err := e.identify(ctx, c, req.Actor)
	if err != nil {
		return Event{}, err
	}
	if !e.isControlOwner(ctx, c, actor) {
		return Event{}, Errorf(EForbidden, "Only the control owner of campaign %d may sign off its evidence.", c.ID)
	}
	if req.Decline && strings.TrimSpace(req.Reason) == "" {
		return Event{}, Errorf(EInvalid, "Say why you do not sign off.")
	}
	what := "signing off"
	if req.Decline {
		what = "declining the sign-off"
	}
	if err := e.stepUp(ctx, c.ID, actor, what); err != nil {
		return Event{}, err
	}
	req.Actor = actor
	ev, err := e.SignOffs.RecordSignOff(ctx, req)
	var changed *EvidenceChangedError
	if errors.As(err, &changed) {
		return Event{}, &Error{Code: EConflict, Message: "The evidence changed after this message was posted, so it was not signed; a fresh sign-off message with the new digest follows.", Err: err}
	}
	return ev, err
}

// isControlOwner reports whether a (identified) is the campaign's owner,
// by Okta id, or the definition's owner.
func (e *Engine) isControlOwner(ctx context.Context, c *Campaign, a Actor) bool {
	if a.UserID == "" {
		return false
	}
	if c.OwnerID != "" && a.UserID == c.OwnerID {
		return true
	}
	var names []string
	if c.OwnerID == "" && c.Owner != "" {
		names = append(names, c.Owner)
	}
	if c.Definition != nil && c.Definition.Owner != "" {
		names = append(names, c.Definition.Owner)
	}
	ids, err := e.idsOf(ctx, c, names)
	return err == nil && ids[a.UserID]
}
