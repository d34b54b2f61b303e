package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/attestbot/attest/internal/pgtest"
)

// The store's tests are its contract: TestMain runs them once on SQLite
// and once more on PostgreSQL (ATTEST_TEST_DATABASE_URL), where every
// store a test opens gets a schema of its own. Under CI=true a missing
// server fails the run.

// testBackend is the backend of the current run: "sqlite" or "postgres".
var testBackend = "sqlite"

// pgBase is the PostgreSQL server of the second run.
var pgBase string

func TestMain(m *testing.M) {
	code := m.Run()
	base, why := pgtest.BaseURL()
	switch {
	case base != "":
		testBackend, pgBase = "postgres", base
		fmt.Println("store: the same tests again, on PostgreSQL")
		if c := m.Run(); c != 0 {
			code = c
		}
	case pgtest.Required():
		fmt.Fprintln(os.Stderr, "store: CI=true, but the PostgreSQL run cannot happen:", why)
		code = 1
	default:
		fmt.Println("store: the PostgreSQL run is skipped:", why)
	}
	os.Exit(code)
}

// pgSchemas maps a test's SQLite path to its PostgreSQL schema's URL, so
// a test that reopens "the same file" reopens the same schema.
var pgSchemas sync.Map

// target returns where the store a test would keep at path lives on this
// run's backend: path itself, or a new PostgreSQL schema, dropped when the
// test ends.
func target(t testing.TB, path string) string {
	t.Helper()
	if testBackend != "postgres" {
		return path
	}
	if u, ok := pgSchemas.Load(path); ok {
		return u.(string)
	}
	u, err := pgtest.NewSchema(context.Background(), pgBase)
	if err != nil {
		t.Fatal(err)
	}
	pgSchemas.Store(path, u)
	t.Cleanup(func() {
		pgSchemas.Delete(path)
		if err := pgtest.DropSchema(context.Background(), u); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return u
}

// sqliteOnly skips a test of SQLite's files on the PostgreSQL run.
func sqliteOnly(t testing.TB, why string) {
	t.Helper()
	if testBackend == "postgres" {
		t.Skip("SQLite only: " + why)
	}
}
