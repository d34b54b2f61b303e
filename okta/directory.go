package okta

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/attestbot/attest/campaign"
)

// ReadDirectory reads the whole org: users, groups with members and rules,
// apps with their user and group assignments, and app sign-ins from the
// System Log. Independent lists run side by side so that each rate-limit
// bucket is kept busy; the pacer keeps every bucket under its limit. Any
// failed read fails the whole read: a partial directory is never returned,
// and the error (a *campaign.IncompleteReadError) names each read that
// failed and its page. The snapshot's Read records the pages read and
// Okta's member count per group.
func (c *Client) ReadDirectory(ctx context.Context, opts campaign.ReadOptions) (*campaign.Snapshot, error) {
	snap := &campaign.Snapshot{OrgURL: c.orgURL, StartedAt: time.Now().UTC(), LogCursor: opts.LogUntil}
	rl := &readLog{pages: map[string]int{}, members: map[string]int{}, apps: map[string]int{}}
	ctx = withReadLog(ctx, rl)
	report := func(phase string, done, total int) {
		if opts.Progress != nil {
			opts.Progress(campaign.Progress{Phase: phase, Done: done, Total: total})
		}
	}
	// Enough fan-out goroutines to keep every request slot busy; the pacer
	// holds the real bound.
	fan := 2 * cap(c.pacer.slots)
	g, ctx := errgroup.WithContext(ctx)
	var mu sync.Mutex

	g.Go(func() error {
		users, err := c.readUsers(ctx)
		snap.Users = users
		report("users", len(users), len(users))
		return err
	})
	g.Go(func() error {
		rules, err := c.readRules(ctx)
		snap.Rules = rules
		return err
	})
	if !opts.LogUntil.IsZero() && opts.LogUntil.After(opts.LogSince) {
		g.Go(func() error {
			usage, err := c.readSignIns(ctx, opts.LogSince, opts.LogUntil, func(n int) { report("system log events", n, 0) })
			snap.Usage = usage
			return err
		})
	}
	g.Go(func() error {
		groups, err := c.readGroups(ctx)
		if err != nil {
			return err
		}
		snap.Groups = groups
		return fanOut(ctx, fan, len(groups), func(i int) error {
			ids, err := c.readGroupMembers(ctx, groups[i].ID)
			if err != nil {
				return err
			}
			mu.Lock()
			for _, uid := range ids {
				snap.Memberships = append(snap.Memberships, campaign.Membership{GroupID: groups[i].ID, UserID: uid})
			}
			mu.Unlock()
			return nil
		}, func(done int) { report("group members", done, len(groups)) })
	})
	g.Go(func() error {
		apps, err := c.readApps(ctx)
		if err != nil {
			return err
		}
		snap.Apps = apps
		// Two lists per app, each its own task, so one app's long user list
		// does not hold back the others.
		return fanOut(ctx, fan, 2*len(apps), func(i int) error {
			app := apps[i/2].ID
			if i%2 == 0 {
				users, err := c.readAppUsers(ctx, app)
				if err != nil {
					return err
				}
				mu.Lock()
				snap.AppAssignments = append(snap.AppAssignments, users...)
				mu.Unlock()
				return nil
			}
			groups, err := c.readAppGroups(ctx, app)
			if err != nil {
				return err
			}
			mu.Lock()
			snap.GroupAssignments = append(snap.GroupAssignments, groups...)
			mu.Unlock()
			return nil
		}, func(done int) { report("app assignments", done, 2*len(apps)) })
	})
	if err := g.Wait(); err != nil {
		if rec := rl.record(); len(rec.Failed) > 0 {
			return nil, &campaign.IncompleteReadError{Failed: rec.Failed, Err: err}
		}
		return nil, err
	}
	snap.Read = rl.record()
	snap.CompletedAt = time.Now().UTC()
	return snap, nil
}

// fanOut runs task(0..n-1) on at most workers goroutines, stopping at the
// first error, and reports the count of finished tasks.
func fanOut(ctx context.Context, workers, n int, task func(int) error, progress func(int)) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var mu sync.Mutex
	done := 0
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := task(i); err != nil {
				return err
			}
			mu.Lock()
			done++
			d := done
			mu.Unlock()
			progress(d)
			return nil
		})
	}
	return g.Wait()
}
