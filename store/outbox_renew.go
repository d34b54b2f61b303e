package store

import (
	"context"
	"fmt"
	"time"
)

// RenewOutboxClaim reports whether the claim of the outbox item id made at
// claimedAt (the item's ClaimedAt, as the claim returned it) still holds:
// the item is in sending, claimed by this store's worker at that very
// time. If so it starts the claim's lease again. A sender on a shared
// store calls it just before the Slack call and before it puts an unsent
// item back. An item claimed and then held back by the sender's pacing or
// a rate-limit pause for longer than the lease may meanwhile have been
// taken over (ReclaimOutbox) by another replica, or by this one's own
// recovery, and been sent, or queued and claimed again; the first claim
// must then be dropped, or the message is posted twice. Worker and time
// together name one claim. It fails only when the database does.
func (s *Store) RenewOutboxClaim(ctx context.Context, id int64, claimedAt time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET claimed_at = ?
		WHERE id = ? AND state = 'sending' AND claimed_by = ? AND claimed_at = ?`,
		fmtSortable(s.Now()), id, s.worker, fmtSortable(claimedAt))
	if err != nil {
		return false, fmt.Errorf("store: renew outbox claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: renew outbox claim %d: %w", id, err)
	}
	return n == 1, nil
}
