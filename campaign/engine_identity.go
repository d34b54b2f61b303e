package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// People are compared by Okta user id, never by email or login: an email
// changes (a rename, a marriage) and may be shared or reassigned, an Okta
// id never is. Every actor is resolved to an id at the moment they act,
// and every list of people (the definition's owner, approvers and IAM
// reviewers, the engine's Admins and Approvers) is resolved to ids when it
// is asked.
//
// Which directory answers:
//   - Who may act is the latest snapshot's business: an actor must be a
//     user of the latest sync whose account is not suspended or
//     deprovisioned. An Okta id (a Slack user through the user map) is
//     looked up as it is. A name (the CLI's --as, login or email) means
//     whoever holds it now; a name nobody holds any more is looked up in
//     the campaign's snapshot (someone renamed since launch typing their
//     old email), and the person found must still be in the latest sync.
//     A name that matches two users is refused as ambiguous.
//   - Lists of people in a definition mean the people of the directory
//     the campaign reviews: each name is looked up in the campaign's
//     snapshot first (so a rename keeps someone's rights, and an email
//     handed to somebody else later does not pass them on), then in the
//     latest one (someone who joined since). An ambiguous name grants
//     nothing.

// identify resolves an actor to the Okta user they are, at the moment of
// the action: UserID is set, and Email becomes the user's current email.
// c may be nil (nothing launched yet). The System actor passes unchanged.
// It returns ErrForbidden, with a sentence naming the actor, for someone
// who is not an active user of the directory, and the store's error when
// the directory cannot be read.
func (e *Engine) identify(ctx context.Context, c *Campaign, a Actor) (Actor, error) {
	if a.Via == System.Via {
		return a, nil
	}
	latest, err := e.Store.LatestSnapshot(ctx)
	if err != nil {
		return a, fmt.Errorf("identify %s: %w", a, err)
	}
	var u User
	switch {
	case a.UserID != "":
		if u, err = e.userByID(ctx, latest.ID, a.UserID); errors.Is(err, ErrNotFound) {
			return a, forbidden("Okta user %s is not in the directory (the latest sync); they may not act", a.UserID)
		}
	case a.Email != "":
		u, err = e.userByName(ctx, latest.ID, a.Email)
		if errors.Is(err, ErrNotFound) && c != nil && c.SnapshotID != latest.ID {
			var then User
			if then, err = e.userByName(ctx, c.SnapshotID, a.Email); err == nil {
				u, err = e.userByID(ctx, latest.ID, then.ID)
			}
		}
		if errors.Is(err, ErrNotFound) {
			return a, forbidden("%s is not a user in the directory (no Okta login or email is %s); they may not act", a.Email, a.Email)
		}
	default:
		return a, forbidden("who is acting is unknown: name an Okta user")
	}
	if err != nil {
		return a, err
	}
	if u.Inactive() {
		return a, forbidden("the Okta account of %s is %s: a suspended or deprovisioned user may not act",
			firstNonEmpty(u.Email, u.Login), u.Status)
	}
	if a.Via == "cli" && a.As == "" {
		a.As = firstNonEmpty(a.Email, a.UserID)
	}
	a.UserID, a.Email = u.ID, firstNonEmpty(u.Email, u.Login)
	return a, nil
}

// forbidden is an ErrForbidden whose sentence is safe to show the actor.
func forbidden(format string, args ...any) error {
	return &Error{Code: EForbidden, Message: fmt.Sprintf(format, args...)}
}

// userByID returns the user with exactly this Okta id, or ErrNotFound.
func (e *Engine) userByID(ctx context.Context, snapshotID int64, id string) (User, error) {
	list, err := e.Store.FindUsers(ctx, snapshotID, id)
	if err != nil {
		return User{}, err
	}
	for _, u := range list {
		if u.ID == id {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("no Okta user %s in snapshot %d: %w", id, snapshotID, ErrNotFound)
}

// userByName returns the one user whose login, else whose email, is name
// (an Okta id is accepted too). Logins are unique in Okta; emails are
// not, so an email two users share is refused with ErrForbidden.
func (e *Engine) userByName(ctx context.Context, snapshotID int64, name string) (User, error) {
	name = strings.TrimSpace(name)
	list, err := e.Store.FindUsers(ctx, snapshotID, name)
	if err != nil {
		return User{}, err
	}
	var byEmail []User
	for _, u := range list {
		if u.ID == name || strings.EqualFold(u.Login, name) {
			return u, nil // an id or a login names exactly one user
		}
		byEmail = append(byEmail, u)
	}
	switch len(byEmail) {
	case 0:
		return User{}, fmt.Errorf("no Okta user %q in snapshot %d: %w", name, snapshotID, ErrNotFound)
	case 1:
		return byEmail[0], nil
	}
	return User{}, forbidden("%s is the email of %d Okta users; name the person by their Okta login", name, len(byEmail))
}

// idsOf resolves a list of people (ids, logins or emails) to Okta ids:
// each in the campaign's snapshot first, then in the latest (see above).
// Names that match nobody, or several people, are left out.
func (e *Engine) idsOf(ctx context.Context, c *Campaign, names []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(names) == 0 {
		return out, nil
	}
	var snaps []int64
	if c != nil {
		snaps = append(snaps, c.SnapshotID)
	}
	latest, err := e.Store.LatestSnapshot(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err == nil && (c == nil || latest.ID != c.SnapshotID) {
		snaps = append(snaps, latest.ID)
	}
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			continue
		}
		for _, snap := range snaps {
			u, err := e.userByName(ctx, snap, name)
			if err == nil {
				out[u.ID] = true
				break
			}
			if errors.Is(err, ErrForbidden) {
				break // ambiguous: grants nothing
			}
			if !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		}
	}
	return out, nil
}

// listed reports whether the (identified) actor is one of the people a
// list names. A lookup failure counts as not listed: a right is never
// granted on an error.
func (e *Engine) listed(ctx context.Context, c *Campaign, a Actor, names ...[]string) bool {
	if a.UserID == "" {
		return false
	}
	var all []string
	for _, l := range names {
		all = append(all, l...)
	}
	ids, err := e.idsOf(ctx, c, all)
	return err == nil && ids[a.UserID]
}

// ownerID is the Okta id of whoever launched c: the id kept at launch, or,
// for a campaign launched before ids were kept, its owner text resolved
// like a list entry. "" for automatic launches.
func (e *Engine) ownerID(ctx context.Context, c *Campaign) (string, error) {
	if c.OwnerID != "" || c.Owner == "" || c.Owner == System.Via || c.Owner == "okta-event" {
		return c.OwnerID, nil
	}
	ids, err := e.idsOf(ctx, c, []string{c.Owner})
	if err != nil {
		return "", err
	}
	for id := range ids {
		return id, nil
	}
	return "", nil
}

// isOwner reports whether the actor launched the campaign.
func (e *Engine) isOwner(ctx context.Context, c *Campaign, a Actor) (bool, error) {
	id, err := e.ownerID(ctx, c)
	return err == nil && id != "" && id == a.UserID, err
}

// mayAdminister: the launcher, the definition's owner and IAM reviewers,
// and the admins.
func (e *Engine) mayAdminister(ctx context.Context, c *Campaign, a Actor) bool {
	if a.Via == System.Via {
		return true
	}
	if owner, _ := e.isOwner(ctx, c, a); owner {
		return true
	}
	return e.listed(ctx, c, a, []string{c.Definition.Owner}, c.Definition.Escalation.IAMReviewers, e.Admins) ||
		e.IsAdmin != nil && e.IsAdmin(ctx, a)
}

// mayApprove: the definition's approvers and the configured ones.
func (e *Engine) mayApprove(ctx context.Context, c *Campaign, a Actor) bool {
	return e.listed(ctx, c, a, c.Definition.Approval.Approvers, e.Approvers) || e.IsApprover != nil && e.IsApprover(ctx, a)
}

// mayDecideForIAM reports whether the actor may decide a case that is the
// IAM team's (a member without a manager, an escalation whose chain
// ended): the IAM reviewers, the definition's owner, the launcher and the
// engine's Admins; and, when the definition names no IAM reviewers of its
// own (the list is empty or only the owner, as defaults leave it), the
// Slack admins too, so such a case is never undecidable.
func (e *Engine) mayDecideForIAM(ctx context.Context, c *Campaign, a Actor) bool {
	def := c.Definition
	if e.listed(ctx, c, a, def.Escalation.IAMReviewers, []string{def.Owner}, e.Admins) {
		return true
	}
	if owner, _ := e.isOwner(ctx, c, a); owner {
		return true
	}
	named := len(def.Escalation.IAMReviewers) > 1 ||
		len(def.Escalation.IAMReviewers) == 1 && def.Escalation.IAMReviewers[0] != def.Owner
	return !named && e.IsAdmin != nil && e.IsAdmin(ctx, a)
}

// MayDecideForIAM reports whether the actor may decide the IAM team's
// cases of c (the check Answer applies to a case without a reviewer), so
// the Slack layer opens the team's forms to exactly those people, compared
// by Okta id. False, never an error, for anyone who cannot be identified.
func (e *Engine) MayDecideForIAM(ctx context.Context, c *Campaign, a Actor) bool {
	a, err := e.identify(ctx, c, a)
	return err == nil && a.UserID != "" && e.mayDecideForIAM(ctx, c, a)
}

// stamp adds a CLI actor's evidence (the --as name as typed, the
// operating-system user and host) to an audit event's detail.
func (a Actor) stamp(d map[string]any) map[string]any {
	if a.As == "" && a.OSUser == "" && a.Host == "" {
		return d
	}
	out := make(map[string]any, len(d)+3)
	for k, v := range d {
		out[k] = v
	}
	for k, v := range map[string]string{"as": a.As, "os_user": a.OSUser, "host": a.Host} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}
