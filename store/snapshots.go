package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/attestbot/attest/campaign"
	"github.com/jackc/pgx/v5"
)

// SaveSnapshot writes a whole snapshot in one transaction and returns its
// id. Until the transaction commits the previous snapshot stays the latest;
// on error nothing of the new one is visible.
func (s *Store) SaveSnapshot(ctx context.Context, snap *campaign.Snapshot, counts campaign.SyncCounts) (int64, error) {
	if snap.Digest == "" {
		snap.Digest = campaign.Digest(snap)
	}
	countsJSON, err := json.Marshal(counts)
	if err != nil {
		return 0, err
	}
	var id int64
	if s.db.d == dialectPostgres {
		// COPY: a 2M-relation snapshot in seconds rather than minutes.
		err = s.inPgTx(ctx, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `INSERT INTO snapshots (org_url, started_at, completed_at, log_cursor, counts, digest)
				VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
				snap.OrgURL, fmtTime(snap.StartedAt), fmtTime(snap.CompletedAt), fmtTime(snap.LogCursor), string(countsJSON), snap.Digest).
				Scan(&id); err != nil {
				return err
			}
			return writeRows(id, snap, func(table string, cols ...string) rowWriter { return newPgCopier(ctx, tx, table, cols...) })
		})
		if err != nil {
			return 0, fmt.Errorf("store: save snapshot: %w", err)
		}
		snap.ID = id
		return id, nil
	}
	err = s.inTx(ctx, func(tx *sqlTx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO snapshots (org_url, started_at, completed_at, log_cursor, counts, digest)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			snap.OrgURL, fmtTime(snap.StartedAt), fmtTime(snap.CompletedAt), fmtTime(snap.LogCursor), string(countsJSON), snap.Digest).
			Scan(&id); err != nil {
			return err
		}
		return writeRows(id, snap, func(table string, cols ...string) rowWriter { return newInserter(ctx, tx, table, cols...) })
	})
	if err != nil {
		return 0, fmt.Errorf("store: save snapshot: %w", err)
	}
	snap.ID = id
	return id, nil
}

// writeRows writes a snapshot's rows, each table through a writer from
// newWriter.
func writeRows(id int64, snap *campaign.Snapshot, newWriter func(table string, cols ...string) rowWriter) error {
	ins := newWriter("dir_users", "snapshot_id", "id", "login", "email", "first_name", "last_name",
		"status", "created", "last_login", "department", "title", "manager_ref", "manager_id")
	for i := range snap.Users {
		u := &snap.Users[i]
		ins.add(id, u.ID, u.Login, u.Email, u.FirstName, u.LastName, u.Status, unix(u.Created), unix(u.LastLogin),
			u.Department, u.Title, u.ManagerRef, u.ManagerID)
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	ins = newWriter("dir_groups", "snapshot_id", "id", "name", "description", "type", "rule_ids")
	for _, g := range snap.Groups {
		ins.add(id, g.ID, g.Name, g.Description, g.Type, strings.Join(g.RuleIDs, " "))
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	ins = newWriter("dir_group_rules", "snapshot_id", "id", "name", "status", "group_ids")
	for _, r := range snap.Rules {
		ins.add(id, r.ID, r.Name, r.Status, strings.Join(r.GroupIDs, " "))
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("group rules: %w", err)
	}
	ins = newWriter("dir_apps", "snapshot_id", "id", "name", "label", "status", "sign_on_mode", "link_url", "owners")
	for _, a := range snap.Apps {
		ins.add(id, a.ID, a.Name, a.Label, a.Status, a.SignOnMode, a.LinkURL, a.Owners)
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("apps: %w", err)
	}
	ins = newWriter("dir_memberships", "snapshot_id", "group_id", "user_id")
	for _, m := range snap.Memberships {
		ins.add(id, m.GroupID, m.UserID)
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("memberships: %w", err)
	}
	// An app assignment its own groups imply is marked so, for the
	// launch's reading (LoadCaseSnapshot) to leave out.
	implied := campaign.ImpliedByGroups(snap)
	ins = newWriter("dir_app_users", "snapshot_id", "app_id", "user_id", "scope", "created", "implied")
	for i, a := range snap.AppAssignments {
		ins.add(id, a.AppID, a.UserID, a.Scope, unix(a.Created), int64(boolInt(implied[i])))
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("app users: %w", err)
	}
	ins = newWriter("dir_app_groups", "snapshot_id", "app_id", "group_id", "priority")
	for _, g := range snap.GroupAssignments {
		ins.add(id, g.AppID, g.GroupID, g.Priority)
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("app groups: %w", err)
	}
	ins = newWriter("dir_app_usage", "snapshot_id", "user_id", "app_id", "last_used")
	for _, u := range snap.Usage {
		ins.add(id, u.UserID, u.AppID, unix(u.LastUsed))
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("app usage: %w", err)
	}
	return nil
}

// LatestSnapshot returns the newest snapshot, or campaign.ErrNotFound.
func (s *Store) LatestSnapshot(ctx context.Context) (campaign.SnapshotInfo, error) {
	return s.snapshotInfo(ctx, `SELECT id, org_url, started_at, completed_at, log_cursor, counts, digest FROM snapshots ORDER BY id DESC LIMIT 1`)
}

// Snapshot returns one snapshot's description, or campaign.ErrNotFound.
func (s *Store) Snapshot(ctx context.Context, id int64) (campaign.SnapshotInfo, error) {
	return s.snapshotInfo(ctx, `SELECT id, org_url, started_at, completed_at, log_cursor, counts, digest FROM snapshots WHERE id = ?`, id)
}

func (s *Store) snapshotInfo(ctx context.Context, q string, args ...any) (campaign.SnapshotInfo, error) {
	var info campaign.SnapshotInfo
	var started, completed, cursor, counts string
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&info.ID, &info.OrgURL, &started, &completed, &cursor, &counts, &info.Digest)
	if errors.Is(err, sql.ErrNoRows) {
		return info, fmt.Errorf("store: no directory snapshot yet; run `attest sync`: %w", campaign.ErrNotFound)
	}
	if err != nil {
		return info, fmt.Errorf("store: read snapshot: %w", err)
	}
	info.StartedAt, info.CompletedAt, info.LogCursor = parseTime(started), parseTime(completed), parseTime(cursor)
	if err := json.Unmarshal([]byte(counts), &info.Counts); err != nil {
		return info, fmt.Errorf("store: snapshot %d counts: %w", info.ID, err)
	}
	return info, nil
}

// LoadUsage returns the app sign-ins recorded in a snapshot.
func (s *Store) LoadUsage(ctx context.Context, id int64) ([]campaign.AppUsage, error) {
	var out []campaign.AppUsage
	err := s.each(ctx, `SELECT user_id, app_id, last_used FROM dir_app_usage WHERE snapshot_id = ?`, []any{id},
		func(r *sql.Rows) error {
			var u campaign.AppUsage
			var t int64
			if err := r.Scan(&u.UserID, &u.AppID, &t); err != nil {
				return err
			}
			u.LastUsed = fromUnix(t)
			out = append(out, u)
			return nil
		})
	return out, err
}

// each runs a query and calls fn for every row.
func (s *Store) each(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FindUser finds a snapshot's user by Okta id, login or email, ignoring
// case, or returns campaign.ErrNotFound.
func (s *Store) FindUser(ctx context.Context, snapshotID int64, key string) (campaign.User, error) {
	var u campaign.User
	var created, last int64
	err := s.db.QueryRowContext(ctx, `SELECT id, login, email, first_name, last_name, status, created, last_login,
		department, title, manager_ref, manager_id FROM dir_users
		WHERE snapshot_id = ? AND (id = ? OR login = ? COLLATE NOCASE OR email = ? COLLATE NOCASE)
		ORDER BY id = ? DESC, login = ? COLLATE NOCASE DESC LIMIT 1`, snapshotID, key, key, key, key, key).
		Scan(&u.ID, &u.Login, &u.Email, &u.FirstName, &u.LastName, &u.Status, &created, &last,
			&u.Department, &u.Title, &u.ManagerRef, &u.ManagerID)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("no user %q in snapshot %d: %w", key, snapshotID, campaign.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store: find user: %w", err)
	}
	u.Created, u.LastLogin = fromUnix(created), fromUnix(last)
	return u, nil
}
