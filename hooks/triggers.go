package hooks

import (
	"context"
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
func (t *Triggers) review(ctx context.Context, ev hookevent.Event, g campaign.Grant) error {
	if campaign.RiskRank(t.risk(g.Kind, g.EntitlementID, g.Label)) < campaign.RiskRank("high") {
		return fmt.Errorf("%s %q is not high or critical: %w", g.Kind, g.Label, ErrIgnore)
	}
	g.GrantedBy, g.At, g.EventID = firstOf(ev.Actor.AlternateID, ev.Actor.ID), ev.Published, ev.UUID
	_, err := t.Engine.LaunchEventReview(ctx, g, t.DecideWithin, t.IAMReviewers, t.Approvers)
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
		return err
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
