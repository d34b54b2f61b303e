package oktatest

import "sync"

// writeScope is the set of users the token's admin may read but not
// change: a scoped admin (a group or app admin whose role covers some users
// only). Okta answers such a write 404 E0000007, as if the user did not
// exist, so a 404 on a write is no proof the access is gone.
type writeScope struct {
	mu  sync.Mutex
	out map[string]bool
}

// RestrictWrites makes every write that touches one of the users (DELETE
// or PUT of a group membership, DELETE of an app user) answer 404 E0000007,
// as Okta answers an admin whose role does not cover them, while reads
// still see them. Called again, it replaces the set; with no ids, writes
// are unrestricted again.
func (s *Server) RestrictWrites(userIDs ...string) {
	s.writeScope.mu.Lock()
	defer s.writeScope.mu.Unlock()
	s.writeScope.out = map[string]bool{}
	for _, id := range userIDs {
		s.writeScope.out[id] = true
	}
}

// outOfScope returns the 404 Okta answers a write on a user the admin's
// role does not cover, or nil.
func (s *Server) outOfScope(userID string) *apiError {
	s.writeScope.mu.Lock()
	defer s.writeScope.mu.Unlock()
	if s.writeScope.out[userID] {
		return notFound(userID, "User")
	}
	return nil
}
