package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/attestbot/attest/campaign"
)

// FindUsers returns every user of a snapshot whose Okta id is key, or
// whose login or email is key case-insensitively, ordered by id. Unlike
// FindUser it never picks one of several: Okta emails need not be unique,
// so a name that matches two people is seen as ambiguous by the caller.
// It returns an empty list when nobody matches, and an error if the query
// fails.
func (s *Store) FindUsers(ctx context.Context, snapshotID int64, key string) ([]campaign.User, error) {
	var out []campaign.User
	err := s.each(ctx, `SELECT id, login, email, first_name, last_name, status, created, last_login,
		department, title, manager_ref, manager_id FROM dir_users
		WHERE snapshot_id = ? AND (id = ? OR login = ? COLLATE NOCASE OR email = ? COLLATE NOCASE) ORDER BY id`,
		[]any{snapshotID, key, key, key}, func(r *sql.Rows) error {
			var u campaign.User
			var created, last int64
			if err := r.Scan(&u.ID, &u.Login, &u.Email, &u.FirstName, &u.LastName, &u.Status, &created, &last,
				&u.Department, &u.Title, &u.ManagerRef, &u.ManagerID); err != nil {
				return err
			}
			u.Created, u.LastLogin = fromUnix(created), fromUnix(last)
			out = append(out, u)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: find users %q in snapshot %d: %w", key, snapshotID, err)
	}
	return out, nil
}
