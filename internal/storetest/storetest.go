// Package storetest opens SQLite stores for tests, seeded with a synthetic
// org's snapshot.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/store"
)

// WithOrg opens a store in a temporary directory, closed when the test
// ends, holding org's snapshot as the latest.
func WithOrg(t testing.TB, org *oktatest.Org) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap := org.Snapshot()
	if _, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap)); err != nil {
		t.Fatal(err)
	}
	return st
}
