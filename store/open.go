package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrNoDatabase is returned by OpenExisting and OpenReadOnly when there is
// no database file at the path: a command that only reads must not leave
// an empty database behind.
var ErrNoDatabase = errors.New("no database")

// Option tunes Open.
type Option func(*options)

type options struct {
	auditKey []byte
}

// WithAuditKey keys the audit chain with key (HMAC-SHA256): Open switches
// an unkeyed chain to keyed mode from the next entry, and refuses a chain
// keyed under another key. An empty key leaves the chain as it is; a
// store opened without the key cannot append to a keyed chain.
func WithAuditKey(key []byte) Option {
	return func(o *options) {
		if len(key) > 0 {
			o.auditKey = append([]byte(nil), key...)
		}
	}
}

// OpenExisting is Open for a database that must already exist (run
// `attest sync` to create it). It returns an error wrapping ErrNoDatabase,
// naming the path, when there is no file there, and creates nothing.
func OpenExisting(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if IsPostgres(path) {
		var o options
		for _, opt := range opts {
			opt(&o)
		}
		return openPostgresExisting(ctx, path, false, o)
	}
	path = sqlitePath(path)
	if err := CheckExists(path); err != nil {
		return nil, err
	}
	return Open(ctx, path, opts...)
}

// OpenReadOnly opens the database at path for reading only: SQLite's
// mode=ro, no migration, no write. Without a -wal file beside it nothing is
// writing the database (a copy kept as evidence, say, mode 0400 in a
// read-only directory), so it is opened immutable and no -shm file is
// created either; with one it is opened with SQLite's shared-memory
// locking, so a running attest may go on writing. The schema is the file's
// own: queries of tables newer than it fail. It returns an error wrapping
// ErrNoDatabase when there is no file at path, or one naming the path when
// SQLite cannot read it.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if IsPostgres(path) {
		return openPostgresExisting(ctx, path, true, options{})
	}
	path = sqlitePath(path)
	if err := CheckExists(path); err != nil {
		return nil, err
	}
	_, werr := os.Stat(path + "-wal")
	live := !errors.Is(werr, fs.ErrNotExist)
	s, err := openRO(ctx, path, !live)
	switch {
	case err != nil && live:
		return nil, fmt.Errorf("store: open %s read-only: %w (a -wal file is beside it: copy the database with its -wal and -shm files, or read it where it can be locked)", path, err)
	case err != nil:
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	return s, nil
}

// openRO opens path with mode=ro, and immutable=1 when immutable, and
// reads the schema version to prove the file is a database.
func openRO(ctx context.Context, path string, immutable bool) (*Store, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	if immutable {
		q.Set("immutable", "1")
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	raw, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db := &sqlDB{DB: raw}
	s := &Store{db: db, path: path, target: path, Now: time.Now, readOnly: true}
	if _, err := s.SchemaVersion(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// CheckExists returns an error wrapping ErrNoDatabase, naming path and
// saying how to create it, when no file is there, and one naming path when
// it cannot be read or is a directory. Commands that must not create a
// database call it before opening one some other way.
func CheckExists(path string) error {
	if path == "" {
		return fmt.Errorf("store: empty database path; set store.path or ATTEST_DB")
	}
	if IsPostgres(path) {
		s, err := openPostgresExisting(context.Background(), path, true, options{})
		if err != nil {
			return err
		}
		return s.Close()
	}
	path = sqlitePath(path)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store: %w at %s (store.path or ATTEST_DB): run `attest sync` to create it, or point ATTEST_DB at the database", ErrNoDatabase, path)
	case err != nil:
		return fmt.Errorf("store: %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("store: %s is a directory, not a database file", path)
	}
	return nil
}

// createPrivate creates an empty database file at path readable and
// writable by its owner only (0600), unless a file is there already. SQLite
// gives the -wal and -shm files it creates later the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return f.Close()
}

// uriPath escapes what an SQLite URI filename reads as syntax.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// ReadOnly reports whether the store was opened with OpenReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// LatestSchema returns the highest migration number this build applies.
func LatestSchema() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	latest := 0
	for _, name := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		if v, err := strconv.Atoi(num); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}
