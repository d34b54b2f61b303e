package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A keyed chain (migration 0010): once a store is opened with an audit key,
// entries from the next one on are hashed with HMAC-SHA256 under the key
// (keyedChainVersion), audit_chain_mode records that, once, signed, and
// audit_chain_head holds the newest entry's id and hash, signed, rewritten
// with every append. The signatures are hex HMAC-SHA256 of the usual
// encoding of modeVersion, keyed_from, last_legacy_id, at, and of
// headVersion, last_id, last_hash.
const (
	keyedChainVersion = "attest-audit-hmac-v1"
	modeVersion       = "attest-audit-mode-v1"
	headVersion       = "attest-audit-head-v1"
)

// ErrAuditKeyMismatch is returned by Open when the audit chain is keyed
// under another key than the one given.
var ErrAuditKeyMismatch = errors.New("the audit chain is keyed under another key")

// chainMode is the audit_chain_mode row of a keyed chain.
type chainMode struct {
	keyedFrom, lastLegacy int64
	at, signature         string
}

// sign returns the signature of m under key.
func (m chainMode) sign(key []byte) string {
	return mac(key, modeVersion, strconv.FormatInt(m.keyedFrom, 10), strconv.FormatInt(m.lastLegacy, 10), m.at)
}

// signHead returns the signature of a chain head under key.
func signHead(key []byte, lastID int64, lastHash string) string {
	return mac(key, headVersion, strconv.FormatInt(lastID, 10), lastHash)
}

// mac returns the hex HMAC-SHA256 under key of fields' encoding.
func mac(key []byte, fields ...string) string {
	var b []byte
	for _, f := range fields {
		b = appendField(b, f)
	}
	h := hmac.New(sha256.New, key)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// readChainMode returns the chain's mode rows (none for an unkeyed chain)
// and the legacy prefix's end with the count of audit_chain_start rows
// (one, written by migration 0005). A database from before migration 0010,
// opened read-only, has no mode table: it is read as unkeyed.
func readChainMode(ctx context.Context, q querier) (modes []chainMode, lastLegacy int64, startRows int, err error) {
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE((SELECT last_legacy_id FROM audit_chain_start ORDER BY rowid LIMIT 1), 0)
		FROM audit_chain_start`).Scan(&startRows, &lastLegacy); err != nil {
		return nil, 0, 0, fmt.Errorf("chain start: %w", err)
	}
	var tables int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_chain_mode'`).Scan(&tables); err != nil || tables == 0 {
		return nil, lastLegacy, startRows, err
	}
	rows, err := q.QueryContext(ctx, `SELECT keyed_from, last_legacy_id, at, signature FROM audit_chain_mode ORDER BY id`)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("chain mode: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m chainMode
		if err := rows.Scan(&m.keyedFrom, &m.lastLegacy, &m.at, &m.signature); err != nil {
			return nil, 0, 0, fmt.Errorf("chain mode: %w", err)
		}
		modes = append(modes, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, 0, fmt.Errorf("chain mode: %w", err)
	}
	return modes, lastLegacy, startRows, nil
}

// querier is what readChainMode needs of a *sqlTx or *sqlDB.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// useAuditKey makes key the store's audit key. A chain keyed already must
// be keyed under key: otherwise it returns an error wrapping
// ErrAuditKeyMismatch. An unkeyed chain is keyed from the entry after its
// head: the mode is recorded and the head signed, in one transaction. It
// refuses to key a chain whose mode record is gone while its signed head
// is there, since only someone altering the database removes it.
func (s *Store) useAuditKey(ctx context.Context, key []byte) error {
	err := s.inTx(ctx, func(tx *sqlTx) error {
		modes, lastLegacy, _, err := readChainMode(ctx, tx)
		if err != nil {
			return err
		}
		if len(modes) > 0 {
			if !hmac.Equal([]byte(modes[0].signature), []byte(modes[0].sign(key))) {
				return fmt.Errorf("%w (keyed from entry %d): check store.audit_key or ATTEST_AUDIT_KEY", ErrAuditKeyMismatch, modes[0].keyedFrom)
			}
			return checkSignedHead(ctx, tx, key)
		}
		var heads int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_chain_head`).Scan(&heads); err != nil {
			return err
		}
		if heads > 0 {
			return errors.New("the audit chain has a signed head but no mode record: the database was altered; run `attest audit verify`")
		}
		id, hash, err := chainHead(ctx, tx)
		if err != nil {
			return err
		}
		if keyed, err := newestIsKeyed(ctx, tx, key); err != nil || keyed {
			if err == nil {
				err = errors.New("the newest audit entry is keyed but the chain has no mode record: the database was altered; run `attest audit verify`")
			}
			return err
		}
		m := chainMode{keyedFrom: id + 1, lastLegacy: lastLegacy, at: fmtTime(s.Now())}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_chain_mode (keyed_from, last_legacy_id, at, signature) VALUES (?, ?, ?, ?)`,
			m.keyedFrom, m.lastLegacy, m.at, m.sign(key)); err != nil {
			return err
		}
		return writeHead(ctx, tx, key, id, hash)
	})
	if err != nil {
		return fmt.Errorf("key the audit chain: %w", err)
	}
	s.auditKey = key
	return nil
}

// writeHead records id and hash, signed with key, as the chain's head.
func writeHead(ctx context.Context, tx *sqlTx, key []byte, id int64, hash string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_chain_head (id, last_id, last_hash, signature) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, signature = excluded.signature`,
		id, hash, signHead(key, id, hash))
	return err
}

// checkSignedHead returns an error unless the signed head of a keyed chain
// is there, signed with key, and names the chain's newest entry: a writer
// must not extend, and so launder, a chain whose newest entries were
// removed.
func checkSignedHead(ctx context.Context, tx *sqlTx, key []byte) error {
	id, hash, err := chainHead(ctx, tx)
	if err != nil {
		return err
	}
	var hid int64
	var hhash, sig string
	err = tx.QueryRowContext(ctx, `SELECT last_id, last_hash, signature FROM audit_chain_head WHERE id = 1`).Scan(&hid, &hhash, &sig)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errors.New("the keyed audit chain's signed head is missing: the database was altered; run `attest audit verify`")
	case err != nil:
		return err
	case !hmac.Equal([]byte(sig), []byte(signHead(key, hid, hhash))):
		return errors.New("the keyed audit chain's signed head does not match its signature: the database was altered; run `attest audit verify`")
	case hid != id:
		return fmt.Errorf("the keyed audit chain's signed head is entry %d, but the newest entry is %d: the database was altered; run `attest audit verify`", hid, id)
	case hhash != hash:
		return fmt.Errorf("the keyed audit chain's newest entry %d does not have the signed head's hash: the database was altered; run `attest audit verify`", id)
	}
	return nil
}

// newestIsKeyed reports whether the newest entry's hash is its keyed hash
// under key.
func newestIsKeyed(ctx context.Context, tx *sqlTx, key []byte) (bool, error) {
	fields := make([]string, len(chainColumnNames))
	var id int64
	var hash string
	dest := []any{&id}
	for i := range fields {
		dest = append(dest, &fields[i])
	}
	err := tx.QueryRowContext(ctx, strings.Replace(verifyQuery, "ORDER BY id", "ORDER BY id DESC LIMIT 1", 1)).Scan(append(dest, &hash)...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return hash != "" && string(entryHash(keyedHasher(key), id, fields)) == hash, nil
}

// keyedFrom returns the first keyed entry's id inside tx, 0 when the chain
// is not keyed.
func keyedFrom(ctx context.Context, tx *sqlTx) (int64, error) {
	var from int64
	err := tx.QueryRowContext(ctx, `SELECT keyed_from FROM audit_chain_mode ORDER BY id LIMIT 1`).Scan(&from)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return from, err
}

// checkHead compares the signed head with the head the verifier read, and
// records a problem when they differ. It is called on a keyed chain that
// verified up to its end.
func (v *chainVerifier) checkHead(ctx context.Context, tx *sqlTx, key []byte) error {
	var id int64
	var hash, sig string
	err := tx.QueryRowContext(ctx, `SELECT last_id, last_hash, signature FROM audit_chain_head WHERE id = 1`).Scan(&id, &hash, &sig)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		v.problem("audit_chain_head: the signed head of the keyed chain is missing: the database was altered")
	case err != nil:
		return fmt.Errorf("chain head: %w", err)
	case !hmac.Equal([]byte(sig), []byte(signHead(key, id, hash))):
		v.problem("audit_chain_head: signature does not match: the record was altered")
	case id > v.report.LastID:
		v.problem(fmt.Sprintf("the signed head is entry %d, but the chain ends at entry %d: entries %d to %d were removed", id, v.report.LastID, v.report.LastID+1, id))
	case id != v.report.LastID || hash != string(v.prev):
		v.problem(fmt.Sprintf("the signed head is entry %d (%s), but the chain ends at entry %d (%s): the database was altered", id, hash, v.report.LastID, v.prev))
	}
	return nil
}
