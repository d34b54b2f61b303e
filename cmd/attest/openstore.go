package main

import (
	"context"
	"fmt"

	"github.com/attestbot/attest/store"
)

// currentSchema returns an error, naming path, when a store opened
// read-only is older than this attest's schema, so a reader does not fail
// on a missing column halfway.
func currentSchema(ctx context.Context, st *store.Store, path string) error {
	have, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if want := store.LatestSchema(); have < want {
		return fmt.Errorf("the database at %s has schema version %d, this attest %d: run `attest sync` once to migrate it", path, have, want)
	}
	return nil
}
