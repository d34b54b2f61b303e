package campaign

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// RiskTarget is an app or group of a snapshot as a risk rule sees it.
type RiskTarget struct {
	Kind  string // KindApp or KindGroup
	ID    string
	Label string // an app's label, a group's name
}

// RiskBinding records that a label or pattern rule rated an Okta app or
// group: the id keeps the rule's level after a rename, until the rule
// leaves the configuration or the app or group leaves Okta.
type RiskBinding struct {
	Kind  string
	ID    string
	Rule  string // the rule's key in risk.apps or risk.groups
	Level string // the rule's level at the last sync
	// Label is the label the entitlement had when the rule first bound it.
	Label string
	// BoundAt and SnapshotID say when and from which snapshot it was first
	// bound; later syncs keep them.
	BoundAt    time.Time
	SnapshotID int64
}

// RiskBindingStore keeps the bindings between syncs.
type RiskBindingStore interface {
	// RiskTargets returns a snapshot's apps and groups.
	RiskTargets(ctx context.Context, snapshotID int64) ([]RiskTarget, error)
	// RiskBindings returns every binding.
	RiskBindings(ctx context.Context) ([]RiskBinding, error)
	// ReplaceRiskBindings replaces every binding with b in one transaction.
	// It fails with ErrConflict when a snapshot newer than snapshotID
	// exists, since that snapshot's sync binds the newer directory.
	ReplaceRiskBindings(ctx context.Context, snapshotID int64, b []RiskBinding) error
}

// Bind computes the bindings after a sync from the snapshot's apps and
// groups and the bindings before it. A previous binding is kept, at its
// rule's current level, while its rule is still configured and its id is
// still in the snapshot, whatever the label is now. Every app or group
// that a label or pattern rule matches now (an exact label first, else the
// riskiest pattern, as in Level) is bound to that rule; ids with an
// explicit id rule need no binding. The result is sorted.
func (r RiskRules) Bind(targets []RiskTarget, prev []RiskBinding, snapshotID int64, now time.Time) []RiskBinding {
	type key struct{ kind, id, rule string }
	present := make(map[[2]string]bool, len(targets))
	for _, t := range targets {
		present[[2]string{t.Kind, t.ID}] = true
	}
	out := map[key]RiskBinding{}
	for _, b := range prev {
		lvl, ok := r.of(b.Kind)[b.Rule]
		if !ok || !present[[2]string{b.Kind, b.ID}] {
			continue
		}
		if _, byID := r.byID(b.Kind, b.ID); byID {
			continue
		}
		b.Level = strings.ToLower(lvl)
		out[key{b.Kind, b.ID, b.Rule}] = b
	}
	for _, t := range targets {
		if _, byID := r.byID(t.Kind, t.ID); byID {
			continue
		}
		lvl, rule := r.byLabel(t.Kind, t.Label)
		if rule == "" {
			continue
		}
		k := key{t.Kind, t.ID, rule}
		if _, ok := out[k]; !ok {
			out[k] = RiskBinding{Kind: t.Kind, ID: t.ID, Rule: rule, Level: lvl, Label: t.Label, BoundAt: now.UTC(), SnapshotID: snapshotID}
		}
	}
	list := make([]RiskBinding, 0, len(out))
	for _, b := range out {
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Rule < b.Rule
	})
	return list
}

// RiskBook rates entitlements by the configured rules and the bindings the
// syncs made. Its Level is the engine's Risk. The precedence:
//
//  1. an explicit id rule decides alone;
//  2. otherwise the riskiest of the id's bindings (at their rules' current
//     levels) and of the level its current label gets from the rules
//     (exact label over pattern, riskiest pattern) wins.
//
// So a rename never lowers a rating; removing the rule from the
// configuration does (its bindings are ignored at once and dropped at the
// next sync). The bindings are read from Store on first use, re-read when
// older than MaxAge (a sync in another process) and replaced by Bind.
type RiskBook struct {
	Rules RiskRules
	// Store holds the bindings; without it the book rates by label only.
	Store RiskBindingStore
	// Now is the clock for MaxAge and BoundAt (default time.Now).
	Now func() time.Time
	// MaxAge is how long read bindings are used before they are read again
	// (default one minute).
	MaxAge time.Duration
	// OnError hears a failed read; the book then keeps the bindings it has
	// and tries again after MaxAge.
	OnError func(error)

	mu     sync.Mutex
	bound  map[[2]string][]RiskBinding
	readAt time.Time
	read   bool
}

// Level returns an entitlement's risk level, "" when unrated.
func (b *RiskBook) Level(kind, id, label string) string {
	if lvl, ok := b.Rules.byID(kind, id); ok {
		return lvl
	}
	best, _ := b.Rules.byLabel(kind, label)
	for _, bd := range b.bindings(kind, id) {
		if lvl, ok := b.Rules.of(kind)[bd.Rule]; ok && RiskRank(lvl) > RiskRank(best) {
			best = strings.ToLower(lvl)
		}
	}
	return best
}

// bindings returns an id's bindings, reading them first when they are
// missing or stale.
func (b *RiskBook) bindings(kind, id string) []RiskBinding {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Store != nil && (!b.read || b.now().Sub(b.readAt) > b.maxAge()) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		list, err := b.Store.RiskBindings(ctx)
		cancel()
		b.readAt, b.read = b.now(), true
		if err != nil {
			if b.OnError != nil {
				b.OnError(fmt.Errorf("risk: read bindings: %w", err))
			}
		} else {
			b.set(list)
		}
	}
	return b.bound[[2]string{kind, id}]
}

// Bind binds the rules to the apps and groups of a snapshot just saved,
// keeping the earlier bindings that still hold, persists the result and
// uses it from now on. It returns the bindings, or an error when the store
// fails (the earlier bindings then stay in place).
func (b *RiskBook) Bind(ctx context.Context, snapshotID int64) ([]RiskBinding, error) {
	if b.Store == nil {
		return nil, nil
	}
	targets, err := b.Store.RiskTargets(ctx, snapshotID)
	if err != nil {
		return nil, fmt.Errorf("risk: read snapshot %d: %w", snapshotID, err)
	}
	prev, err := b.Store.RiskBindings(ctx)
	if err != nil {
		return nil, fmt.Errorf("risk: read bindings: %w", err)
	}
	list := b.Rules.Bind(targets, prev, snapshotID, b.now())
	if err := b.Store.ReplaceRiskBindings(ctx, snapshotID, list); err != nil {
		return nil, fmt.Errorf("risk: save bindings of snapshot %d: %w", snapshotID, err)
	}
	b.mu.Lock()
	b.set(list)
	b.readAt, b.read = b.now(), true
	b.mu.Unlock()
	return list, nil
}

// set indexes bindings by kind and id; b.mu is held.
func (b *RiskBook) set(list []RiskBinding) {
	m := make(map[[2]string][]RiskBinding, len(list))
	for _, bd := range list {
		k := [2]string{bd.Kind, bd.ID}
		m[k] = append(m[k], bd)
	}
	b.bound = m
}

func (b *RiskBook) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *RiskBook) maxAge() time.Duration {
	if b.MaxAge > 0 {
		return b.MaxAge
	}
	return time.Minute
}
