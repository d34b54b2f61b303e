package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// Okta event hook deliveries live in a database file of their own beside
// the main one. Okta waits 3 s for a delivery's answer and retries once;
// a snapshot write, a launch or a close holds the main database's single
// write lock for far longer, so a delivery stored there could wait out
// both tries and be lost. The events file has its own lock, its own WAL
// and nothing slow writing it: a delivery is a few-millisecond
// transaction whatever the main database is doing.

//go:embed events_migrations/*.sql
var eventsMigrations embed.FS

// eventsBusyTimeout bounds a wait for the events file's write lock (ms).
// Its writers are short (a delivery, a claim, a finish), so a wait this
// long means something is wrong, and Okta is still answered within its
// 3 s and gets a 500, and retries, rather than silence.
const eventsBusyTimeout = 2000

// EventsPath returns where the events database of the main database at
// path lives: the same name with "-events.db" appended (attest.db ->
// attest.db-events.db), so store.path stays the only setting and the two
// files are copied, backed up and permissioned together.
func EventsPath(path string) string { return path + "-events.db" }

// openEvents opens (creating it readable by its owner only) the events
// database beside the main one, applies its migrations and moves into it
// any events an older attest kept in the main database. synchronous=FULL
// makes every commit durable before the 200 goes out: an event Okta was
// told we have survives a power cut, not only a crash of the process.
func (s *Store) openEvents(ctx context.Context) error {
	path := EventsPath(s.path)
	if err := createPrivate(path); err != nil {
		return err
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(" + strconv.Itoa(eventsBusyTimeout) + ")", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	raw, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("store: open events database %s: %w", path, err)
	}
	db := &sqlDB{DB: raw}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("store: open events database %s: %w", path, err)
	}
	if err := applyMigrations(ctx, db, eventsMigrations, "events_migrations", s.Now()); err != nil {
		db.Close()
		return fmt.Errorf("store: events database %s: %w", path, err)
	}
	s.events = db
	if err := s.moveLegacyHookEvents(ctx); err != nil {
		s.events = nil
		db.Close()
		return fmt.Errorf("store: move hook events from %s to %s: %w", s.path, path, err)
	}
	return nil
}

// closeEvents closes the events database, joining its error to err (the
// main database's).
func (s *Store) closeEvents(err error) error {
	if s.events == nil {
		return err
	}
	return errors.Join(err, s.events.Close())
}

// eventsDB returns the events database, or an error for a store opened
// without one (OpenReadOnly).
func (s *Store) eventsDB() (*sqlDB, error) {
	if s.events == nil {
		return nil, errors.New("store: the events database is not open (read-only store)")
	}
	return s.events, nil
}

// legacyBatch is how many events one step of the move copies.
const legacyBatch = 500

// hookEventColumns are every column of hook_events, in both databases.
const hookEventColumns = `uuid, received_at, published, event_type, actor_id, target_json, raw, state, attempts, last_error,
	processed_at, claimed_at`

// moveLegacyHookEvents moves the events an older attest stored in the
// main database's hook_events table into the events database, state,
// attempts and lease included, a batch at a time: a batch is committed
// in the events database before it is deleted from the main one, so a
// crash between the two leaves copies the next Open skips (the uuid is
// the key, and the copy already there wins), never a lost event. With
// nothing to move it only reads.
func (s *Store) moveLegacyHookEvents(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'hook_events'`).
		Scan(&n); err != nil || n == 0 {
		return err
	}
	for {
		var rows [][]any
		err := s.each(ctx, `SELECT `+hookEventColumns+` FROM hook_events ORDER BY rowid LIMIT ?`, []any{legacyBatch},
			func(r *sql.Rows) error {
				var uuid, received, published, typ, actor, targets, raw, state, lastErr, processed, claimed string
				var attempts int
				if err := r.Scan(&uuid, &received, &published, &typ, &actor, &targets, &raw, &state, &attempts, &lastErr,
					&processed, &claimed); err != nil {
					return err
				}
				rows = append(rows, []any{uuid, received, published, typ, actor, targets, raw, state, attempts, lastErr, processed, claimed})
				return nil
			})
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := inTxOn(ctx, s.events, func(tx *sqlTx) error {
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO hook_events (`+hookEventColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, row := range rows {
				if _, err := stmt.ExecContext(ctx, row...); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		uuids := make([]any, len(rows))
		for i, row := range rows {
			uuids[i] = row[0]
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM hook_events WHERE uuid IN (`+placeholders(len(uuids))+`)`, uuids...); err != nil {
			return err
		}
	}
}
