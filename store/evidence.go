package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
)

// Read-only queries for evidence bundles (package evidence): a campaign's
// audit entries as hashed, the chain's head, when each review form reached
// Slack, and a snapshot's users without the rest of the snapshot.

// AuditEntry is one audit_log row as the chain hashes it: Fields are the
// column texts in ChainColumns order, ending with prev_hash, so anyone can
// recompute Hash from them (the encoding is described in audit_chain.go).
type AuditEntry struct {
	ID     int64
	Fields []string
	Hash   string
	// Keyed reports whether the entry is hashed with HMAC-SHA256 under the
	// audit key rather than SHA-256.
	Keyed bool
}

// ChainColumns returns the names of the hashed columns after the id, in
// encoding order; the last is prev_hash.
func ChainColumns() []string { return append([]string(nil), chainColumnNames...) }

// AuditHead is the newest entry of the whole chain when it was read.
type AuditHead struct {
	ID        int64
	Hash      string
	Keyed     bool
	KeyedFrom int64 // first keyed entry, 0 when the chain is not keyed
}

// AuditEntries returns a campaign's audit entries in id order with every
// hashed column as stored, and the head of the whole chain, read in one
// transaction so the head is not older than the entries. It returns an
// error if a query fails.
func (s *Store) AuditEntries(ctx context.Context, campaignID int64) ([]AuditEntry, AuditHead, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, AuditHead{}, fmt.Errorf("store: audit entries of campaign %d: %w", campaignID, err)
	}
	defer tx.Rollback()
	var head AuditHead
	err = tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&head.ID, &head.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, AuditHead{}, fmt.Errorf("store: audit head: %w", err)
	}
	var tables int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_chain_mode'`).Scan(&tables); err != nil {
		return nil, AuditHead{}, fmt.Errorf("store: audit chain mode: %w", err)
	}
	if tables > 0 {
		err := tx.QueryRowContext(ctx, `SELECT keyed_from FROM audit_chain_mode ORDER BY id LIMIT 1`).Scan(&head.KeyedFrom)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, AuditHead{}, fmt.Errorf("store: audit chain mode: %w", err)
		}
	}
	head.Keyed = head.KeyedFrom > 0 && head.ID >= head.KeyedFrom
	q := `SELECT id, ` + strings.Join(chainColumnNames, ", ") + `, hash FROM audit_log WHERE campaign_id = ? ORDER BY id`
	rows, err := tx.QueryContext(ctx, q, campaignID)
	if err != nil {
		return nil, AuditHead{}, fmt.Errorf("store: audit entries of campaign %d: %w", campaignID, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e := AuditEntry{Fields: make([]string, len(chainColumnNames))}
		dest := make([]any, 0, len(e.Fields)+2)
		dest = append(dest, &e.ID)
		for i := range e.Fields {
			dest = append(dest, &e.Fields[i])
		}
		dest = append(dest, &e.Hash)
		if err := rows.Scan(dest...); err != nil {
			return nil, AuditHead{}, fmt.Errorf("store: audit entries of campaign %d: %w", campaignID, err)
		}
		e.Keyed = head.KeyedFrom > 0 && e.ID >= head.KeyedFrom
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, AuditHead{}, fmt.Errorf("store: audit entries of campaign %d: %w", campaignID, err)
	}
	return out, head, nil
}

// FormDelivery is one review form message Slack accepted: Ref names it
// (the handlers' "m:<campaign>:<member>:<page>" and
// "r:<campaign>:<reviewer>:<member>:<page>") and SentAt is when.
type FormDelivery struct {
	Ref    string
	SentAt time.Time
}

// FormDeliveries returns when each of a campaign's review form pages was
// first posted, oldest first; nothing when it never used Slack. It returns
// an error if the query fails.
func (s *Store) FormDeliveries(ctx context.Context, campaignID int64) ([]FormDelivery, error) {
	first := map[string]time.Time{}
	var order []string
	m, r := fmt.Sprintf("m:%d:%%", campaignID), fmt.Sprintf("r:%d:%%", campaignID)
	// sent_at is RFC 3339 with trimmed zeros, which does not sort as
	// text: the earliest is found here rather than by MIN().
	err := s.each(ctx, `SELECT ref, sent_at FROM outbox
		WHERE kind = 'post' AND state = 'sent' AND sent_at <> '' AND (ref LIKE ? OR ref LIKE ?)
		ORDER BY id`, []any{m, r}, func(rows *sql.Rows) error {
		var ref, at string
		if err := rows.Scan(&ref, &at); err != nil {
			return err
		}
		t := parseTime(at)
		if old, ok := first[ref]; !ok {
			order = append(order, ref)
			first[ref] = t
		} else if t.Before(old) {
			first[ref] = t
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: form deliveries of campaign %d: %w", campaignID, err)
	}
	out := make([]FormDelivery, 0, len(order))
	for _, ref := range order {
		out = append(out, FormDelivery{Ref: ref, SentAt: first[ref]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SentAt.Before(out[j].SentAt) })
	return out, nil
}

// SnapshotUsers returns a snapshot's users ordered by id, without the
// rest of the snapshot. It returns an error if the query fails.
func (s *Store) SnapshotUsers(ctx context.Context, snapshotID int64) ([]campaign.User, error) {
	var out []campaign.User
	err := s.each(ctx, `SELECT id, login, email, first_name, last_name, status, created, last_login, department, title, manager_ref, manager_id
		FROM dir_users WHERE snapshot_id = ? ORDER BY id`, []any{snapshotID}, func(r *sql.Rows) error {
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
		return nil, fmt.Errorf("store: users of snapshot %d: %w", snapshotID, err)
	}
	return out, nil
}
