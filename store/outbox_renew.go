package store

import (
	"context"
	"fmt"
)

// RenewOutboxClaim reports whether the outbox item id, in sending, is
// still claimed by this store's worker and, if so, starts its lease again:
// a sender on a shared store calls it just before the Slack call, and
// before it puts an unsent item back. An item claimed and then held back
// by the sender's pacing or a rate-limit pause for longer than the lease
// may meanwhile have been taken over by another replica (ReclaimOutbox)
// and sent by it; its first claimer must then leave it alone, or it is
// posted twice. It fails only when the database does.
func (s *Store) RenewOutboxClaim(ctx context.Context, id int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET claimed_at = ? WHERE id = ? AND state = 'sending' AND claimed_by = ?`,
		fmtSortable(s.Now()), id, s.worker)
	if err != nil {
		return false, fmt.Errorf("store: renew outbox claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: renew outbox claim %d: %w", id, err)
	}
	return n == 1, nil
}
