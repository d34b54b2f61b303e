package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/hookevent"
)

// Triggers decides what an Okta event starts. A grant of a high or
// critical app, or a membership of a privileged (high or critical) group,
// opens an immediate one-case review with the user's manager. A
// user.risk.detect event raising a user to HIGH alerts the security team
// and reviews the user's high and critical access. Processing never writes
// to Okta: removals only ever follow the approval path.
type Triggers struct {
	Engine *campaign.Engine
	// Risk rates an entitlement (campaign.RiskRules.Level).
	Risk func(kind, id, label string) string
	// DecideWithin is how long the reviewer has (default 3 days).
	DecideWithin time.Duration
	IAMReviewers []string
	Approvers    []string
	// Alert tells the security team about a risk change (Slack); key is
	// the same for every delivery of one event, so a retried event alerts once.
	// text is plain text built from event fields (an attacker can choose a
	// login or display name): it carries no markup, and the Slack side
	// (handlers.Notifier.PostTo) escapes it whole, so "<!channel>" in a
	// login is shown, never acted on.
	Alert func(ctx context.Context, key, text string) error
	// Incident, when set, files a ServiceNow incident for a rise to HIGH
	// (queued: an outage delays it, never loses it).
	Incident func(ctx context.Context, key, text string) error
	// Access lists a user's entitlements rated at least high, for risk
	// events (from the latest snapshot).
	Access func(ctx context.Context, userID string) ([]campaign.Grant, error)
	// QuarantineGroup, when set, is the group a user rated HIGH is
	// proposed to join (and to leave when the level drops); the proposal
	// goes to the approvers like any plan.
	QuarantineGroup string
	// Directory reads a user, app or group from Okta by id, for an event
	// about one the latest snapshot does not hold yet (created since the
	// last sync); nil leaves such an event to Unreviewable.
	Directory Lookup
	// Unreviewable tells the IAM team about an event that could not be
	// reviewed (Failed calls it), in plain text like Alert's; key is the
	// same for every attempt of one event, so it is told once.
	Unreviewable func(ctx context.Context, key, text string) error
}

// Lookup reads one object from the directory by id. The okta package's
// Client implements it on the read token. Each method returns an error
// wrapping campaign.ErrNotFound when the directory has no such object,
// campaign.ErrTransient when a later call may succeed.
type Lookup interface {
	LookupUser(ctx context.Context, id string) (campaign.User, error)
	LookupApp(ctx context.Context, id string) (campaign.App, error)
	LookupGroup(ctx context.Context, id string) (campaign.Group, error)
}

// Handle is the Processor's Handle.
func (t *Triggers) Handle(ctx context.Context, ev hookevent.Event) error {
	if ev.Outcome.Result != "" && ev.Outcome.Result != "SUCCESS" {
		return fmt.Errorf("outcome %s: %w", ev.Outcome.Result, ErrIgnore)
	}
	switch ev.EventType {
	case "application.user_membership.add":
		app, okA := ev.AppInstance()
		user, okU := ev.UserTarget()
		if !okA || !okU {
			return fmt.Errorf("no app or user target: %w", ErrIgnore)
		}
		return t.review(ctx, ev, campaign.Grant{UserID: user.ID, Kind: campaign.KindApp, EntitlementID: app.ID,
			Label: firstOf(app.DisplayName, app.AlternateID)})
	case "group.user_membership.add":
		g, okG := ev.GroupTarget()
		user, okU := ev.UserTarget()
		if !okG || !okU {
			return fmt.Errorf("no group or user target: %w", ErrIgnore)
		}
		return t.review(ctx, ev, campaign.Grant{UserID: user.ID, Kind: campaign.KindGroup, EntitlementID: g.ID,
			Label: firstOf(g.DisplayName, g.AlternateID)})
	case "user.risk.detect":
		return t.riskDetected(ctx, ev)
	}
	return fmt.Errorf("event type %s: %w", ev.EventType, ErrIgnore)
}

// review opens a grant review when the entitlement is high or critical.
// A user the latest snapshot does not hold (created since the last sync)
// is read from the Directory; one that cannot be found anywhere, or an
// event that cannot be reviewed for another lasting reason, is given up
// (ErrGiveUp) so that Failed tells the IAM team at once.
func (t *Triggers) review(ctx context.Context, ev hookevent.Event, g campaign.Grant) error {
	if err := t.label(ctx, &g); err != nil {
		return err
	}
	if campaign.RiskRank(t.risk(g.Kind, g.EntitlementID, g.Label)) < campaign.RiskRank("high") {
		return fmt.Errorf("%s %q is not high or critical: %w", g.Kind, g.Label, ErrIgnore)
	}
	g.GrantedBy, g.At, g.EventID = firstOf(ev.Actor.AlternateID, ev.Actor.ID), ev.Published, ev.UUID
	_, err := t.Engine.LaunchEventReview(ctx, g, t.DecideWithin, t.IAMReviewers, t.Approvers)
	if errors.Is(err, campaign.ErrNotFound) && t.Directory != nil {
		u, lerr := t.Directory.LookupUser(ctx, g.UserID)
		if lerr != nil {
			return lasting(fmt.Errorf("user %s is not in the latest snapshot, and Okta: %w", g.UserID, lerr))
		}
		g.User = &u
		_, err = t.Engine.LaunchEventReview(ctx, g, t.DecideWithin, t.IAMReviewers, t.Approvers)
	}
	return lasting(err)
}

// label fills in a grant's missing label (an event whose target carries
// no display name) from the Directory, since risk rules name apps and
// groups by label; without a Directory the id stands in.
func (t *Triggers) label(ctx context.Context, g *campaign.Grant) error {
	if g.Label != "" {
		return nil
	}
	g.Label = g.EntitlementID
	if t.Directory == nil {
		return nil
	}
	var err error
	switch g.Kind {
	case campaign.KindApp:
		var app campaign.App
		if app, err = t.Directory.LookupApp(ctx, g.EntitlementID); err == nil {
			g.Label = firstOf(app.Label, app.Name, app.ID)
		}
	case campaign.KindGroup:
		var grp campaign.Group
		if grp, err = t.Directory.LookupGroup(ctx, g.EntitlementID); err == nil {
			g.Label = firstOf(grp.Name, grp.ID)
		}
	}
	if err != nil && !errors.Is(err, campaign.ErrNotFound) {
		return lasting(fmt.Errorf("%s %s has no label in the event, and Okta: %w", g.Kind, g.EntitlementID, err))
	}
	return nil
}

// lasting marks err ErrGiveUp when retrying cannot help: something that
// does not exist, a request Okta refuses, a token without the right. A
// transient error (and a cancelled context) is returned as it is, to be
// retried.
func lasting(err error) error {
	switch {
	case err == nil, errors.Is(err, campaign.ErrTransient), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, campaign.ErrNotFound), errors.Is(err, campaign.ErrInvalid), errors.Is(err, campaign.ErrForbidden):
		return fmt.Errorf("%w: %w", ErrGiveUp, err)
	}
	return err
}

func (t *Triggers) risk(kind, id, label string) string {
	if t.Risk == nil {
		return ""
	}
	return t.Risk(kind, id, label)
}

// riskDetected alerts on a rise to HIGH and reviews the user's risky access.
func (t *Triggers) riskDetected(ctx context.Context, ev hookevent.Event) error {
	user, ok := ev.UserTarget()
	if !ok {
		user = hookevent.Target{ID: ev.Actor.ID, AlternateID: ev.Actor.AlternateID}
	}
	level := ev.RiskLevel()
	link := "System Log: eventType eq \"user.risk.detect\" and target.id eq \"" + user.ID + "\""
	if t.Alert != nil {
		text := fmt.Sprintf(":rotating_light: Okta rates %s's risk %s (event %s). %s", firstOf(user.AlternateID, user.ID), level, ev.UUID, link)
		if !strings.EqualFold(level, "HIGH") {
			text = fmt.Sprintf("Okta lowered %s's risk to %s (event %s).", firstOf(user.AlternateID, user.ID), level, ev.UUID)
		}
		if err := t.Alert(ctx, "risk-alert:"+ev.UUID, text); err != nil {
			return err
		}
	}
	if t.Incident != nil && strings.EqualFold(level, "HIGH") {
		if err := t.Incident(ctx, "risk:"+ev.UUID, fmt.Sprintf("Okta rates %s's risk HIGH (event %s). %s",
			firstOf(user.AlternateID, user.ID), ev.UUID, link)); err != nil {
			return err
		}
	}
	if t.QuarantineGroup != "" {
		kind, why := campaign.OpAddMembership, "Okta rated the user's risk "+level
		if !strings.EqualFold(level, "HIGH") {
			kind, why = campaign.OpRemoveMembership, "Okta lowered the user's risk to "+level
		}
		if _, err := t.Engine.ProposeGroupChange(ctx, ev.UUID, kind, user.ID, t.QuarantineGroup, why, t.Approvers); err != nil {
			return err
		}
	}
	if !strings.EqualFold(level, "HIGH") || t.Access == nil {
		return nil
	}
	grants, err := t.Access(ctx, user.ID)
	if err != nil {
		// A user created since the last sync has no known access yet.
		return lasting(fmt.Errorf("access of %s: %w", user.ID, err))
	}
	for _, g := range grants {
		g.GrantedBy, g.At, g.EventID = "risk detection", ev.Published, ev.UUID+":"+g.EntitlementID
		if _, err := t.Engine.LaunchEventReview(ctx, g, t.DecideWithin, t.IAMReviewers, t.Approvers); err != nil {
			return err
		}
	}
	return nil
}

func firstOf(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
