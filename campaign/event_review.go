package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Grant is access someone was just given, as an Okta event reports it.
type Grant struct {
	UserID        string
	Kind          string // KindApp or KindGroup
	EntitlementID string
	Label         string
	GrantedBy     string // who granted it (the event's actor)
	At            time.Time
	EventID       string
	// User is the user as the directory reports them now, read on demand
	// when the latest snapshot does not hold UserID (an account created
	// since the last sync); its ManagerRef is resolved against the
	// snapshot. nil means the snapshot must hold the user.
	User *User
}

// LaunchEventReview opens an immediate one-case review of a fresh grant:
// straight to the user's manager (the IAM reviewers when there is none),
// with the usual escalation, closing as soon as it is decided. A revoke
// becomes a small plan that follows the normal approval path. The review
// is keyed by the event, so a redelivered event opens nothing twice.
func (e *Engine) LaunchEventReview(ctx context.Context, g Grant, decideWithin time.Duration, iamReviewers, approvers []string) (*Campaign, error) {
	if g.EventID != "" {
		if c, err := e.campaignByTrigger(ctx, "event:"+g.EventID); c != nil || err != nil {
			return c, err // the event was handled before (a redelivery)
		}
	}
	info, err := e.Store.LatestSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := info.Launchable(); err != nil {
		return nil, err
	}
	u, err := e.grantee(ctx, info.ID, g)
	if err != nil {
		return nil, err
	}
	if decideWithin <= 0 {
		decideWithin = 3 * 24 * time.Hour
	}
	now := e.now()
	def := &Definition{Name: fmt.Sprintf("Grant review: %s → %s", firstNonEmpty(u.Email, u.Login), g.Label),
		Description: fmt.Sprintf("%s was given %s %q by %s at %s (Okta event %s).", firstNonEmpty(u.Email, u.Login), g.Kind, g.Label,
			g.GrantedBy, g.At.UTC().Format(time.RFC3339), g.EventID)}
	off := false
	def.Stages.SelfAttestation.Enabled = &off
	def.Stages.Manager.Duration = Period(decideWithin)
	def.Stages.CloseWhenDecided = true
	def.Escalation.IAMReviewers = iamReviewers
	def.Approval.Approvers = approvers
	def.setDefaults()
	if def.Escalation.After.D() >= decideWithin {
		def.Escalation.After = Period(decideWithin / 2)
	}
	reviewer := ""
	if m, err := e.Store.FindUser(ctx, info.ID, u.ManagerID); err == nil && u.ManagerID != "" && m.ID != u.ID {
		reviewer = m.ID
	}
	c := &Campaign{Name: def.Name, Description: def.Description, Owner: "okta-event", Definition: def,
		DefinitionYAML: eventDefinitionYAML(def), SnapshotID: info.ID, SnapshotDigest: info.Digest, State: StateStage2,
		CreatedAt: now, Stage2Started: now, Deadline: now.Add(decideWithin), Trigger: "event:" + g.EventID}
	cs := []CaseRecord{{UserID: u.ID, Kind: g.Kind, EntitlementID: g.EntitlementID, Label: g.Label, Direct: true,
		Risk: e.risk(g.Kind, g.EntitlementID, g.Label), ManagerID: u.ManagerID, ReviewerID: reviewer}}
	id, err := e.Store.CreateCampaign(ctx, c, cs, Event{At: now, Type: "campaign.launched", Actor: Actor{Via: "okta-event"},
		Detail: map[string]any{"event": g.EventID, "user": g.UserID, "entitlement": g.EntitlementID, "granted_by": g.GrantedBy}})
	if err != nil {
		return nil, err
	}
	c.ID = id
	// A fan-out cut short is resumed by the tick (resumeFanOut).
	_ = e.recordFanOut(ctx, c, StateStage2, e.notifyReviewers(ctx, c, NoteReviewerForm), now, false)
	return c, nil
}

// TriggerLookup finds the newest campaign launched by a trigger, or
// returns ErrNotFound. A store that offers it (the store package does,
// through an index) keeps an event's check for an earlier review of the
// same event independent of the number of campaigns; without it the
// engine reads every campaign.
type TriggerLookup interface {
	CampaignByTrigger(ctx context.Context, trigger string) (*Campaign, error)
}

// campaignByTrigger returns the newest campaign launched by trigger, nil
// when there is none, or the store's error.
func (e *Engine) campaignByTrigger(ctx context.Context, trigger string) (*Campaign, error) {
	if tl, ok := e.Store.(TriggerLookup); ok {
		c, err := tl.CampaignByTrigger(ctx, trigger)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return c, err
	}
	list, err := e.Store.ListCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Trigger == trigger {
			return &list[i], nil
		}
	}
	return nil, nil
}

// grantee returns the user a grant was given to: from the snapshot, else
// from g.User (a user created since the snapshot, their manager reference
// resolved against the snapshot by id, login or email). It returns an
// error wrapping ErrNotFound when neither holds them.
func (e *Engine) grantee(ctx context.Context, snapshotID int64, g Grant) (User, error) {
	u, err := e.Store.FindUser(ctx, snapshotID, g.UserID)
	switch {
	case err == nil:
		return u, nil
	case !errors.Is(err, ErrNotFound) || g.User == nil || g.User.ID != g.UserID:
		return u, fmt.Errorf("event review of %s: %w", g.UserID, err)
	}
	u = *g.User
	u.ManagerID = ""
	if ref := strings.TrimSpace(u.ManagerRef); ref != "" {
		if m, err := e.Store.FindUser(ctx, snapshotID, ref); err == nil && m.ID != u.ID {
			u.ManagerID = m.ID
		}
	}
	return u, nil
}

// eventDefinitionYAML is the stored text of an event review's definition.
func eventDefinitionYAML(d *Definition) string {
	out, err := yaml.Marshal(d)
	if err != nil {
		return "name: " + d.Name + "\n"
	}
	return string(out)
}

// closeIfDecided closes a campaign whose definition says so once no case
// is left for a reviewer.
func (e *Engine) closeIfDecided(ctx context.Context, c *Campaign, actor Actor) error {
	if !c.Definition.Stages.CloseWhenDecided || c.State != StateStage2 {
		return nil
	}
	p, err := e.Store.CaseProgress(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, n := range p.ReviewerOpen {
		if n > 0 {
			return nil
		}
	}
	if c.Definition.Stages.AppOwner.On() {
		_, err = e.endStage2(ctx, c, e.now(), "every case decided")
		return err
	}
	_, _, err = e.close(ctx, c, actor, e.now(), "every case decided")
	return err
}

// RiskyAccess lists a user's entitlements rated at least minLevel in the
// latest snapshot, as grants to review.
func (e *Engine) RiskyAccess(ctx context.Context, userID, minLevel string) ([]Grant, error) {
	snap, err := e.latestSnapshot(ctx, false)
	if err != nil {
		return nil, err
	}
	ix := NewIndex(snap)
	u, ok := ix.UserByID[userID]
	if !ok {
		return nil, fmt.Errorf("user %s is not in the latest snapshot: %w", userID, ErrNotFound)
	}
	min := RiskRank(minLevel)
	var out []Grant
	seen := map[int32]bool{}
	for _, g := range ix.GroupsOfUser[u] {
		grp := &snap.Groups[g]
		if RiskRank(e.risk(KindGroup, grp.ID, grp.Name)) >= min {
			out = append(out, Grant{UserID: userID, Kind: KindGroup, EntitlementID: grp.ID, Label: grp.Name})
		}
		for _, a := range ix.AppsOfGroup[g] {
			seen[a] = true
		}
	}
	for a, users := range ix.AppUsers {
		for _, au := range users {
			if au.User == u {
				seen[int32(a)] = true
			}
		}
	}
	for a := range seen {
		app := &snap.Apps[a]
		if RiskRank(e.risk(KindApp, app.ID, app.Label)) >= min {
			out = append(out, Grant{UserID: userID, Kind: KindApp, EntitlementID: app.ID, Label: app.Label})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+out[i].Label < out[j].Kind+out[j].Label })
	return out, nil
}

// ProposeGroupChange puts a one-operation plan up for approval: add the
// user to the group (quarantine) or remove them from it (release). Nothing
// happens in Okta until approvers approve it like any plan; the proposal
// is keyed by key, so a redelivered event proposes once.
func (e *Engine) ProposeGroupChange(ctx context.Context, key, kind, userID, groupID, why string, approvers []string) (*Campaign, error) {
	if c, err := e.campaignByTrigger(ctx, "proposal:"+key); c != nil || err != nil {
		return c, err
	}
	info, err := e.Store.LatestSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	verb := "Quarantine"
	if kind == OpRemoveMembership {
		verb = "Release from quarantine"
	}
	now := e.now()
	def := &Definition{Name: fmt.Sprintf("%s: %s", verb, userID), Description: why}
	def.Approval.Approvers = approvers
	def.setDefaults()
	c := &Campaign{Name: def.Name, Description: why, Owner: "okta-event", Definition: def, DefinitionYAML: eventDefinitionYAML(def),
		SnapshotID: info.ID, SnapshotDigest: info.Digest, State: StateDraft, CreatedAt: now, Deadline: now, Trigger: "proposal:" + key}
	id, err := e.Store.CreateCampaign(ctx, c, nil, Event{At: now, Type: "proposal.created", Actor: Actor{Via: "okta-event"},
		Detail: map[string]any{"kind": kind, "user": userID, "group": groupID, "why": why}})
	if err != nil {
		return nil, err
	}
	c.ID = id
	plan := []PlanItem{{Seq: 1, Kind: kind, UserID: userID, GroupID: groupID, Reason: why}}
	closed := *c
	closed.State, closed.ClosedAt = StateClosed, now
	if err := e.Store.CloseCampaign(ctx, &closed, StateDraft, map[int64]string{}, plan, nil, Event{At: now, CampaignID: id,
		Type: "campaign.closed", Actor: Actor{Via: "okta-event"}, Detail: map[string]any{"note": "proposal awaiting approval"}}); err != nil {
		return nil, err
	}
	if err := e.announceClosed(ctx, &closed, Notification{Kind: NoteClosed, CampaignID: id, Campaign: c.Name, Open: 1, Text: why}, now, false); err != nil {
		e.reportNotify(Notification{Kind: NoteClosed, CampaignID: id}, err)
	}
	return &closed, nil
}
