package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/attestbot/attest/campaign"
	"golang.org/x/sync/errgroup"
)

// LoadSnapshot reads a whole snapshot, or returns campaign.ErrNotFound.
func (s *Store) LoadSnapshot(ctx context.Context, id int64) (*campaign.Snapshot, error) {
	return s.loadSnapshot(ctx, id, readWhole)
}

// LoadPlanSnapshot reads what a remediation plan reads of a snapshot:
// its users, groups, apps, memberships and app-to-group assignments, and
// of its app assignments only the direct ones (scope USER); no group
// rules and no sign-ins. For a close of millions of cases it is a third
// less to read and to hold. It returns campaign.ErrNotFound for no such
// snapshot.
func (s *Store) LoadPlanSnapshot(ctx context.Context, id int64) (*campaign.Snapshot, error) {
	return s.loadSnapshot(ctx, id, readPlan)
}

// LoadCaseSnapshot reads what building a campaign's cases reads of a
// snapshot: all of it but the app assignments implied by its own groups
// (campaign.ImpliedByGroups, recorded when the snapshot was saved), which
// add nothing to the relations cases come from. In a large org those are
// nearly all of its app assignments: two million rows of a 2M-relation
// snapshot, read in 2.5 s, of which a launch needs none. A snapshot saved
// before migration 0020 marks none implied and is read whole. It returns
// campaign.ErrNotFound for no such snapshot.
func (s *Store) LoadCaseSnapshot(ctx context.Context, id int64) (*campaign.Snapshot, error) {
	return s.loadSnapshot(ctx, id, readCases)
}

// snapshotRead is what loadSnapshot reads.
type snapshotRead int

const (
	readWhole snapshotRead = iota // LoadSnapshot
	readPlan                      // LoadPlanSnapshot
	readCases                     // LoadCaseSnapshot
)

// loadSnapshot is LoadSnapshot, LoadPlanSnapshot or LoadCaseSnapshot.
func (s *Store) loadSnapshot(ctx context.Context, id int64, read snapshotRead) (*campaign.Snapshot, error) {
	info, err := s.Snapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	snap := &campaign.Snapshot{ID: info.ID, OrgURL: info.OrgURL, StartedAt: info.StartedAt,
		CompletedAt: info.CompletedAt, LogCursor: info.LogCursor, Digest: info.Digest}
	// Three lanes read at once, each on its own connection with its own
	// interner: the directory, the memberships, the app assignments. A
	// snapshot's rows never change once saved, so the lanes agree.
	ids, mids, aids := newInterner(), newInterner(), newInterner()
	args := []any{id}
	c := info.Counts
	snap.Users = make([]campaign.User, 0, c.Users)
	snap.Memberships = make([]campaign.Membership, 0, c.Memberships)
	snap.Usage = make([]campaign.AppUsage, 0, c.SignIns)
	// Each app user is a distinct (user, app) pair, so there are at most
	// as many as effective relations; a plan reads only direct ones.
	switch read {
	case readWhole:
		snap.AppAssignments = make([]campaign.AppAssignment, 0, c.Relations)
	case readPlan:
		snap.AppAssignments = make([]campaign.AppAssignment, 0, c.DirectAssignments)
	}

	// Each step says whether a plan reads its rows (LoadPlanSnapshot) and
	// what a read adds to its query (cond, by what is read).
	steps := []struct {
		lane    int
		plan    bool
		cond    map[snapshotRead]string
		what, q string
		fn      func(*sql.Rows) error
	}{
		{0, true, nil, "users", `SELECT id, login, email, first_name, last_name, status, created, last_login, department, title, manager_ref, manager_id
			FROM dir_users WHERE snapshot_id = ? ORDER BY id`, func(r *sql.Rows) error {
			var u campaign.User
			var id sql.RawBytes
			var created, last int64
			if err := r.Scan(&id, &u.Login, &u.Email, &u.FirstName, &u.LastName, &u.Status, &created, &last,
				&u.Department, &u.Title, &u.ManagerRef, &u.ManagerID); err != nil {
				return err
			}
			u.ID, u.Created, u.LastLogin = ids.get(id), fromUnix(created), fromUnix(last)
			snap.Users = append(snap.Users, u)
			return nil
		}},
		{0, true, nil, "groups", `SELECT id, name, description, type, rule_ids FROM dir_groups WHERE snapshot_id = ? ORDER BY id`, func(r *sql.Rows) error {
			var g campaign.Group
			var id sql.RawBytes
			var rules string
			if err := r.Scan(&id, &g.Name, &g.Description, &g.Type, &rules); err != nil {
				return err
			}
			g.ID, g.RuleIDs = ids.get(id), strings.Fields(rules)
			snap.Groups = append(snap.Groups, g)
			return nil
		}},
		{0, false, nil, "group rules", `SELECT id, name, status, group_ids FROM dir_group_rules WHERE snapshot_id = ? ORDER BY id`, func(r *sql.Rows) error {
			var g campaign.GroupRule
			var groups string
			if err := r.Scan(&g.ID, &g.Name, &g.Status, &groups); err != nil {
				return err
			}
			g.GroupIDs = strings.Fields(groups)
			snap.Rules = append(snap.Rules, g)
			return nil
		}},
		{0, true, nil, "apps", `SELECT id, name, label, status, sign_on_mode, link_url, owners FROM dir_apps WHERE snapshot_id = ? ORDER BY id`, func(r *sql.Rows) error {
			var a campaign.App
			var id sql.RawBytes
			if err := r.Scan(&id, &a.Name, &a.Label, &a.Status, &a.SignOnMode, &a.LinkURL, &a.Owners); err != nil {
				return err
			}
			a.ID = ids.get(id)
			snap.Apps = append(snap.Apps, a)
			return nil
		}},
		{1, true, nil, "memberships", `SELECT group_id, user_id FROM dir_memberships WHERE snapshot_id = ?`, func(r *sql.Rows) error {
			var g, u sql.RawBytes
			if err := r.Scan(&g, &u); err != nil {
				return err
			}
			snap.Memberships = append(snap.Memberships, campaign.Membership{GroupID: mids.get(g), UserID: mids.get(u)})
			return nil
		}},
		{2, true, map[snapshotRead]string{readPlan: ` AND implied = 0 AND scope = '` + campaign.ScopeUser + `'`, readCases: ` AND implied = 0`}, "app users", `SELECT app_id, user_id, scope = '` + campaign.ScopeUser + `', created FROM dir_app_users WHERE snapshot_id = ?`, func(r *sql.Rows) error {
			var a, u sql.RawBytes
			var direct bool
			var created int64
			if err := r.Scan(&a, &u, &direct, &created); err != nil {
				return err
			}
			sc := campaign.ScopeGroup
			if direct {
				sc = campaign.ScopeUser
			}
			// Rows come in app order.
			snap.AppAssignments = append(snap.AppAssignments, campaign.AppAssignment{AppID: aids.run(a), UserID: aids.get(u), Scope: sc, Created: fromUnix(created)})
			return nil
		}},
		{0, true, nil, "app groups", `SELECT app_id, group_id, priority FROM dir_app_groups WHERE snapshot_id = ?`, func(r *sql.Rows) error {
			var a, g sql.RawBytes
			var p int
			if err := r.Scan(&a, &g, &p); err != nil {
				return err
			}
			snap.GroupAssignments = append(snap.GroupAssignments, campaign.GroupAssignment{AppID: ids.get(a), GroupID: ids.get(g), Priority: p})
			return nil
		}},
		{0, false, nil, "app usage", `SELECT user_id, app_id, last_used FROM dir_app_usage WHERE snapshot_id = ?`, func(r *sql.Rows) error {
			var u, a sql.RawBytes
			var t int64
			if err := r.Scan(&u, &a, &t); err != nil {
				return err
			}
			snap.Usage = append(snap.Usage, campaign.AppUsage{UserID: ids.get(u), AppID: ids.get(a), LastUsed: fromUnix(t)})
			return nil
		}},
	}
	if read == readPlan {
		snap.Usage = nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for lane := range 3 {
		g.Go(func() error {
			for _, st := range steps {
				if st.lane != lane || read == readPlan && !st.plan {
					continue
				}
				if err := s.each(gctx, st.q+st.cond[read], args, st.fn); err != nil {
					return fmt.Errorf("store: load snapshot %d %s: %w", id, st.what, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return snap, nil
}
