package campaign

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Due is one entitlement and when it next needs certifying.
type Due struct {
	EntitlementKey
	Label string
	DueAt time.Time
	// Since is what the due date counts from: the last certification, or
	// the assignment (or the user's creation) when never certified.
	Since  time.Time
	Reason string // "certified", "accept-until", "never certified"
}

// NextDue lists, for a definition with a recertification period, every
// entitlement in its scope in the latest snapshot and when it is due:
// the last certification plus the period (earlier when a reviewer's keep
// carried an accept-until date), or, when never certified, the assignment
// date plus the period. Sorted by due date.
func (e *Engine) NextDue(ctx context.Context, def *Definition) ([]Due, error) {
	period := def.Recertification.Period.D()
	if period <= 0 {
		return nil, fmt.Errorf("definition %q has no recertification.period: %w", def.Name, ErrInvalid)
	}
	snap, err := e.latestSnapshot(ctx, false)
	if err != nil {
		return nil, err
	}
	ix := NewIndex(snap)
	cs, err := BuildCases(ix, def, e.now())
	if err != nil {
		return nil, err
	}
	certs, err := e.Store.Certifications(ctx)
	if err != nil {
		return nil, err
	}
	created := map[pair]time.Time{}
	for _, a := range snap.AppAssignments {
		created[pair{a.UserID, a.AppID}] = a.Created
	}
	var out []Due
	add := func(k EntitlementKey, label string, granted time.Time) {
		d := Due{EntitlementKey: k, Label: label}
		if cert, ok := certs[k]; ok && cert.Outcome == OutcomeKept {
			d.Since, d.DueAt, d.Reason = cert.CertifiedAt, cert.CertifiedAt.Add(period), "certified"
			if !cert.AcceptUntil.IsZero() && cert.AcceptUntil.Before(d.DueAt) {
				d.DueAt, d.Reason = cert.AcceptUntil, "accept-until"
			}
		} else {
			d.Since, d.DueAt, d.Reason = granted, granted.Add(period), "never certified"
		}
		out = append(out, d)
	}
	if def.Entitlements.ReviewsApps() {
		for i := range cs.Cases {
			c := &cs.Cases[i]
			u, a := &snap.Users[c.User], &snap.Apps[c.App]
			granted := created[pair{u.ID, a.ID}]
			if granted.IsZero() {
				granted = u.Created
			}
			add(EntitlementKey{u.ID, KindApp, a.ID}, a.Label, granted)
		}
	}
	for _, gc := range cs.GroupCases {
		u, g := &snap.Users[gc.User], &snap.Groups[gc.Group]
		add(EntitlementKey{u.ID, KindGroup, g.ID}, g.Name, u.Created)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].DueAt.Equal(out[j].DueAt) {
			return out[i].DueAt.Before(out[j].DueAt)
		}
		return out[i].UserID+out[i].EntitlementID < out[j].UserID+out[j].EntitlementID
	})
	return out, nil
}

// LaunchDue launches a small campaign over the entitlements of a
// recertification definition that are due now. It does nothing (nil, nil)
// when nothing is due or a recertification campaign of the definition is
// still open, so it can run on every tick.
func (e *Engine) LaunchDue(ctx context.Context, def *Definition, yaml string) (*Campaign, error) {
	open, err := e.Store.ListCampaigns(ctx, StateStage1, StateStage2, StateStage3)
	if err != nil {
		return nil, err
	}
	name := def.Name + " (recertification)"
	for _, c := range open {
		if c.Name == name && c.Trigger == "recertification" {
			return nil, nil
		}
	}
	due, err := e.NextDue(ctx, def)
	if err != nil {
		return nil, err
	}
	now := e.now()
	only := map[EntitlementKey]bool{}
	for _, d := range due {
		if d.DueAt.After(now) {
			break
		}
		only[d.EntitlementKey] = true
	}
	if len(only) == 0 {
		return nil, nil
	}
	small := *def
	small.Name = name
	return e.Launch(ctx, LaunchRequest{Definition: &small, YAML: yaml, Owner: System, Trigger: "recertification", Only: only})
}
