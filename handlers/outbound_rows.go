package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// snapLookup caches what forms show about a snapshot's apps and groups.
type snapLookup struct {
	apps   map[string]campaign.App
	groups map[string]string
}

// snapshot returns the display data of a snapshot, read once.
func (n *Notifier) snapshot(ctx context.Context, id int64) (*snapLookup, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l, ok := n.lookup[id]; ok {
		return l, nil
	}
	apps, err := n.Outbox.SnapshotApps(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("apps of snapshot %d: %w", id, err)
	}
	groups, err := n.Outbox.SnapshotGroupNames(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("groups of snapshot %d: %w", id, err)
	}
	l := &snapLookup{apps: map[string]campaign.App{}, groups: groups}
	for _, a := range apps {
		l.apps[a.ID] = a
	}
	if n.lookup == nil {
		n.lookup = map[int64]*snapLookup{}
	}
	n.lookup[id] = l
	return l, nil
}

// entitlements renders cases as form rows, with links, paths and last use.
func (n *Notifier) entitlements(ctx context.Context, c *campaign.Campaign, cases []campaign.CaseRecord, member bool) ([]blocks.Entitlement, error) {
	look, err := n.snapshot(ctx, c.SnapshotID)
	if err != nil {
		return nil, err
	}
	out := make([]blocks.Entitlement, 0, len(cases))
	lastUse := map[string]map[string]int64{}
	for i := range cases {
		cs := &cases[i]
		e := blocks.Entitlement{CaseID: cs.ID, Kind: cs.Kind, Label: cs.Label, Flags: cs.Flags.Names(), Risk: cs.Risk,
			SignInWindowDays: n.Settings.SignInWindowDays}
		if cs.Direct {
			e.GrantedBy = append(e.GrantedBy, "direct")
		}
		for _, g := range cs.ViaGroups {
			name := look.groups[g]
			if name == "" {
				name = g
			}
			e.GrantedBy = append(e.GrantedBy, "group "+name)
		}
		if cs.Kind == campaign.KindApp {
			e.LinkURL = look.apps[cs.EntitlementID].LinkURL
			if _, ok := lastUse[cs.UserID]; !ok {
				u, err := n.Outbox.UserUsage(ctx, c.SnapshotID, cs.UserID)
				if err != nil {
					return nil, fmt.Errorf("usage of %s: %w", cs.UserID, err)
				}
				m := map[string]int64{}
				for app, t := range u {
					m[app] = t.Unix()
				}
				lastUse[cs.UserID] = m
			}
			if t, ok := lastUse[cs.UserID][cs.EntitlementID]; ok {
				e.LastSignIn = time.Unix(t, 0).UTC()
			}
		}
		if member {
			e.Current = cs.MemberDecision
		} else {
			e.Current, e.MemberAnswer, e.MemberComment = cs.ReviewerDecision, cs.MemberDecision, cs.MemberComment
		}
		out = append(out, e)
	}
	return out, nil
}
