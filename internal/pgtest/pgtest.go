// Package pgtest gives tests a PostgreSQL schema of their own on the
// server named by ATTEST_TEST_DATABASE_URL. Without it the tests that need
// PostgreSQL are skipped, naming the variable, except under CI=true, where
// they fail: CI must never pass by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the test server's URL.
const EnvURL = "ATTEST_TEST_DATABASE_URL"

// BaseURL returns the test server's URL, or "" and why there is none.
func BaseURL() (string, string) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, ""
	}
	return "", fmt.Sprintf("%s is not set (e.g. %s=postgres://postgres@127.0.0.1:5432/test)", EnvURL, EnvURL)
}

// Required reports whether a missing server fails the tests (CI=true).
func Required() bool { return os.Getenv("CI") == "true" }

// URL returns the URL of a new, empty schema on the test server, dropped
// when the test ends. Without a server it skips the test, or fails it
// under CI=true.
func URL(t testing.TB) string {
	t.Helper()
	base, why := BaseURL()
	if base == "" {
		if Required() {
			t.Fatalf("PostgreSQL tests must run under CI=true: %s", why)
		}
		t.Skipf("no PostgreSQL for this test: %s", why)
	}
	u, err := NewSchema(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DropSchema(context.Background(), u); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return u
}

// NewSchema creates an empty schema on the server at base and returns
// base with its search_path set to it.
func NewSchema(ctx context.Context, base string) (string, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "attest_test_" + hex.EncodeToString(b)
	if err := exec(ctx, base, `CREATE SCHEMA `+schema); err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("pgtest: %s: %w", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// DropSchema drops the schema a URL from NewSchema names.
func DropSchema(ctx context.Context, schemaURL string) error {
	u, err := url.Parse(schemaURL)
	if err != nil {
		return err
	}
	schema := u.Query().Get("search_path")
	if schema == "" {
		return fmt.Errorf("pgtest: %s names no schema", schemaURL)
	}
	return exec(ctx, schemaURL, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
}

func exec(ctx context.Context, target, stmt string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		return fmt.Errorf("pgtest: connect to the server in %s: %w", EnvURL, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("pgtest: %s: %w", stmt, err)
	}
	return nil
}
