package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// ReplaceSlackUsers makes users the whole Okta-to-Slack mapping, keeping
// the DM channels already known for unchanged Slack ids.
func (s *Store) ReplaceSlackUsers(ctx context.Context, users []slackrec.User) error {
	now := fmtTime(s.Now())
	return s.inTx(ctx, func(tx *sqlTx) error {
		dms := map[string]string{}
		if err := eachRow(ctx, tx, `SELECT slack_id, dm_channel FROM slack_users WHERE dm_channel <> ''`, nil, func(r *sql.Rows) error {
			var id, ch string
			if err := r.Scan(&id, &ch); err != nil {
				return err
			}
			dms[id] = ch
			return nil
		}); err != nil {
			return fmt.Errorf("store: slack users: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM slack_users`); err != nil {
			return fmt.Errorf("store: slack users: %w", err)
		}
		ins := newInserter(ctx, tx, "slack_users", "okta_user_id", "email", "slack_id", "team_id", "dm_channel", "updated_at")
		for _, u := range users {
			ins.add(u.OktaUserID, u.Email, u.SlackID, u.TeamID, dms[u.SlackID], now)
		}
		if err := ins.flush(); err != nil {
			return fmt.Errorf("store: slack users: %w", err)
		}
		return nil
	})
}

// SlackUserBySlack returns the mapping of a Slack user id.
func (s *Store) SlackUserBySlack(ctx context.Context, slackID string) (slackrec.User, error) {
	return s.slackUser(ctx, `slack_id = ?`, slackID)
}

// SlackUserByOkta returns the mapping of an Okta user id.
func (s *Store) SlackUserByOkta(ctx context.Context, oktaID string) (slackrec.User, error) {
	return s.slackUser(ctx, `okta_user_id = ?`, oktaID)
}

func (s *Store) slackUser(ctx context.Context, where, arg string) (slackrec.User, error) {
	var u slackrec.User
	err := s.db.QueryRowContext(ctx, `SELECT okta_user_id, email, slack_id, team_id FROM slack_users WHERE `+where, arg).
		Scan(&u.OktaUserID, &u.Email, &u.SlackID, &u.TeamID)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("store: no Slack mapping for %s: %w", arg, campaign.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store: slack user: %w", err)
	}
	return u, nil
}

// DMChannel returns the Slack id and cached DM channel of an Okta user.
func (s *Store) DMChannel(ctx context.Context, oktaID string) (string, string, error) {
	var id, ch string
	err := s.db.QueryRowContext(ctx, `SELECT slack_id, dm_channel FROM slack_users WHERE okta_user_id = ?`, oktaID).Scan(&id, &ch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("store: %s has no Slack account mapped: %w", oktaID, campaign.ErrNotFound)
	}
	return id, ch, err
}

// SetDMChannel caches the DM channel of an Okta user.
func (s *Store) SetDMChannel(ctx context.Context, oktaID, channel string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE slack_users SET dm_channel = ? WHERE okta_user_id = ?`, channel, oktaID)
	return err
}

// MarkHandled records an interaction key once.
func (s *Store) MarkHandled(ctx context.Context, key string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO slack_handled (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING`, key, fmtTime(at))
	if err != nil {
		return false, fmt.Errorf("store: mark handled: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Enqueue queues outbox items, skipping keys queued before.
func (s *Store) Enqueue(ctx context.Context, items ...slackrec.OutboxItem) (int, error) {
	now := s.Now()
	added := 0
	err := s.inTx(ctx, func(tx *sqlTx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO outbox (key, kind, target, ref, thread_ref, payload, next_at, created_at, priority)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, it := range items {
			payload, err := json.Marshal(it.Payload)
			if err != nil {
				return err
			}
			// No NextAt: due at once, whatever clock the sender keeps.
			next := ""
			if !it.NextAt.IsZero() {
				next = fmtSortable(it.NextAt)
			}
			res, err := stmt.ExecContext(ctx, it.Key, it.Kind, it.Target, it.Ref, it.ThreadRef, string(payload), next, fmtTime(now),
				slackrec.PriorityOf(it))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: enqueue: %w", err)
	}
	return added, nil
}

const outboxCols = `id, key, kind, target, ref, thread_ref, payload, state, attempts, next_at, channel, ts, created_at, priority`

func scanOutbox(r *sql.Rows) (slackrec.OutboxItem, error) {
	var it slackrec.OutboxItem
	var payload, next, created string
	if err := r.Scan(&it.ID, &it.Key, &it.Kind, &it.Target, &it.Ref, &it.ThreadRef, &payload, &it.State, &it.Attempts,
		&next, &it.Channel, &it.TS, &created, &it.Priority); err != nil {
		return it, err
	}
	it.NextAt, it.CreatedAt = parseTime(next), parseTime(created)
	return it, json.Unmarshal([]byte(payload), &it.Payload)
}

// ClaimOutbox moves due pending items to sending, oldest first.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, limit int) ([]slackrec.OutboxItem, error) {
	return s.claimOutbox(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = 'pending' AND next_at <= ? ORDER BY id LIMIT ?`+skipLocked,
		fmtSortable(now), limit)
}

// ClaimHeads moves to sending the first item still to send of each due
// target, highest priority first, then oldest, passing over the targets in
// skip.
func (s *Store) ClaimHeads(ctx context.Context, now time.Time, limit int, skip []string) ([]slackrec.OutboxItem, error) {
	// The index keeps the claim a walk in priority order that stops at
	// limit, instead of a sort of every pending row.
	q := `SELECT ` + outboxCols + ` FROM outbox o INDEXED BY outbox_claim WHERE state = 'pending' AND next_at <= ?
		AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.target = o.target AND p.state IN ('pending', 'sending') AND p.id < o.id)`
	args := []any{fmtSortable(now)}
	if len(skip) > 0 {
		q += ` AND target NOT IN (?` + strings.Repeat(`, ?`, len(skip)-1) + `)`
		for _, t := range skip {
			args = append(args, t)
		}
	}
	return s.claimOutbox(ctx, q+` ORDER BY priority DESC, id LIMIT ?`+skipLocked, append(args, limit)...)
}

// claimOutbox moves the pending items a query selects to sending, claimed
// by this store's worker now. On PostgreSQL the claim locks only the rows
// it takes and skips those another replica is taking.
func (s *Store) claimOutbox(ctx context.Context, query string, args ...any) ([]slackrec.OutboxItem, error) {
	var out []slackrec.OutboxItem
	now := s.Now()
	at := fmtSortable(now)
	err := s.inClaimTx(ctx, func(tx *sqlTx) error {
		out = out[:0]
		if err := eachRow(ctx, tx, query, args, func(r *sql.Rows) error {
			it, err := scanOutbox(r)
			out = append(out, it)
			return err
		}); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		// One statement for the whole claim: the rows are this
		// transaction's (SQLite's write lock, or PostgreSQL's row locks).
		args := []any{s.worker, at}
		for i := range out {
			args = append(args, out[i].ID)
			out[i].State, out[i].Attempts, out[i].ClaimedAt = "sending", out[i].Attempts+1, now
		}
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_by = ?, claimed_at = ?
			WHERE state = 'pending' AND id IN (`+placeholders(len(out))+`)`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(out)) {
			return fmt.Errorf("claimed %d of %d items: %v", n, len(out), err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	return out, nil
}

// OutboxSent records a sent item and the message it made.
func (s *Store) OutboxSent(ctx context.Context, id int64, channel, ts string) error {
	now := fmtTime(s.Now())
	// Row by row, like a claim: replicas record their sends side by side.
	return s.inClaimTx(ctx, func(tx *sqlTx) error {
		var ref, kind string
		if err := tx.QueryRowContext(ctx, `UPDATE outbox SET state = 'sent', channel = ?, ts = ?, sent_at = ?, last_error = ''
			WHERE id = ? RETURNING ref, kind`, channel, ts, now, id).Scan(&ref, &kind); err != nil {
			return fmt.Errorf("store: outbox %d: %w", id, err)
		}
		if ref != "" && kind == slackrec.KindPost && ts != "" {
			_, err := tx.ExecContext(ctx, `INSERT INTO slack_messages (ref, channel, ts, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (ref) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, updated_at = excluded.updated_at`,
				ref, channel, ts, now)
			return err
		}
		return nil
	})
}

// OutboxRetry puts an item back for a later attempt.
func (s *Store) OutboxRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET state = 'pending', next_at = ?, last_error = ? WHERE id = ?`,
		fmtSortable(next), truncate(reason, 500), id)
	return err
}

// OutboxFail gives up on an item.
func (s *Store) OutboxFail(ctx context.Context, id int64, reason string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ?`, truncate(reason, 500), id)
	return err
}

// ReclaimOutbox takes over, and returns, the items left in sending whose
// claim was made before `before` (by a process that stopped, or a replica
// that died): each is claimed again by this store's worker, in one
// statement per item that only one replica can win, so two replicas never
// settle the same item.
func (s *Store) ReclaimOutbox(ctx context.Context, before time.Time) ([]slackrec.OutboxItem, error) {
	out, err := s.claimOutboxWhere(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = 'sending' AND claimed_at < ? ORDER BY id`+skipLocked,
		`state = 'sending' AND claimed_at < ?`, fmtSortable(before))
	if err != nil {
		return nil, fmt.Errorf("store: reclaim outbox: %w", err)
	}
	return out, nil
}

// claimOutboxWhere re-claims the items query selects, each still matching
// cond (whose one argument is arg), for this store's worker.
func (s *Store) claimOutboxWhere(ctx context.Context, query, cond string, arg any) ([]slackrec.OutboxItem, error) {
	var out []slackrec.OutboxItem
	now := s.Now()
	at := fmtSortable(now)
	err := s.inClaimTx(ctx, func(tx *sqlTx) error {
		var found []slackrec.OutboxItem
		if err := eachRow(ctx, tx, query, []any{arg}, func(r *sql.Rows) error {
			it, err := scanOutbox(r)
			found = append(found, it)
			return err
		}); err != nil {
			return err
		}
		out = out[:0]
		for _, it := range found {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id = ? AND `+cond, s.worker, at, it.ID, arg)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				it.ClaimedAt = now
				out = append(out, it)
			}
		}
		return nil
	})
	return out, err
}

// OutboxCounts counts items by state.
func (s *Store) OutboxCounts(ctx context.Context) (map[string]int, error) {
	return s.countBy(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
}

// MessageRef returns where a message attest posted lives.
func (s *Store) MessageRef(ctx context.Context, ref string) (string, string, error) {
	var ch, ts string
	err := s.db.QueryRowContext(ctx, `SELECT channel, ts FROM slack_messages WHERE ref = ?`, ref).Scan(&ch, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("store: no message %q: %w", ref, campaign.ErrNotFound)
	}
	return ch, ts, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// SnapshotApps returns a snapshot's apps.
func (s *Store) SnapshotApps(ctx context.Context, snapshotID int64) ([]campaign.App, error) {
	var out []campaign.App
	err := s.each(ctx, `SELECT id, name, label, status, sign_on_mode, link_url FROM dir_apps WHERE snapshot_id = ?`, []any{snapshotID},
		func(r *sql.Rows) error {
			var a campaign.App
			if err := r.Scan(&a.ID, &a.Name, &a.Label, &a.Status, &a.SignOnMode, &a.LinkURL); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	return out, err
}

// SnapshotGroupNames maps a snapshot's group ids to names.
func (s *Store) SnapshotGroupNames(ctx context.Context, snapshotID int64) (map[string]string, error) {
	out := map[string]string{}
	err := s.each(ctx, `SELECT id, name FROM dir_groups WHERE snapshot_id = ?`, []any{snapshotID}, func(r *sql.Rows) error {
		var id, name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		out[id] = name
		return nil
	})
	return out, err
}

// UserUsage returns a user's last sign-in per app id in a snapshot.
func (s *Store) UserUsage(ctx context.Context, snapshotID int64, userID string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.each(ctx, `SELECT app_id, last_used FROM dir_app_usage WHERE snapshot_id = ? AND user_id = ?`, []any{snapshotID, userID},
		func(r *sql.Rows) error {
			var app string
			var t int64
			if err := r.Scan(&app, &t); err != nil {
				return err
			}
			out[app] = fromUnix(t)
			return nil
		})
	return out, err
}

// OutboxProgress counts the items whose key starts with prefix, by state.
func (s *Store) OutboxProgress(ctx context.Context, prefix string) (map[string]int, error) {
	return s.countBy(ctx, `SELECT state, COUNT(*) FROM outbox WHERE key >= ? AND key < ? GROUP BY state`, prefix, prefix+"\uffff")
}

// PruneHandled forgets the interaction keys recorded before `before`:
// Slack redelivers an envelope or retries an event within minutes, so a
// key a week old guards nothing, and the table would otherwise grow with
// every click and event forever. It returns how many were removed.
func (s *Store) PruneHandled(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM slack_handled WHERE at < ?`, fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune handled interactions: %w", err)
	}
	return res.RowsAffected()
}
