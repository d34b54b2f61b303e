package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The audit log is a hash chain. An entry's hash is the hex SHA-256 of its
// encoding: the fields below, each written as its length in bytes in
// decimal, ':', the bytes and ',' (so "3:abc,"), starting with
// chainVersion and the id and ending with prev_hash, the hash of the entry
// before it, of the newest checkpoint, or "" for the first. Fields are the
// column text as stored: integers in decimal, times as written by fmtTime,
// detail as encoding/json writes a map (keys sorted, so one content has one
// encoding). Anyone can recompute a hash from a row with this description.
// A checkpoint's signature is the hex HMAC-SHA256 of the same kind of
// encoding of checkpointVersion, last_id, last_hash, entries_removed, at.
//
// A chain is evidence against an edit that does not rewrite every later
// hash; someone able to rewrite the whole table can forge a new chain, and
// removing the newest entries (truncating the tail) leaves a valid shorter
// chain. AuditReport's LastID and LastHash are the head to record outside
// the database (a ticket, a report) to catch both.

// The first field of every encoding, so a change of encoding is told
// apart by its version rather than by a failed check.
const (
	chainVersion      = "attest-audit-v1"
	checkpointVersion = "attest-audit-checkpoint-v1"
)

// chainColumnNames are the columns hashed after the id, in encoding order.
var chainColumnNames = []string{"at", "campaign_id", "case_id", "type", "actor", "actor_id", "actor_via",
	"slack_user", "slack_team", "detail", "payload_sha256", "action_ts", "prev_hash"}

// progressEvery is how often, in entries, VerifyAudit reports progress; a
// variable so tests can see progress on a small log.
var progressEvery = 100_000

// ErrNoAuditKey is returned when a signed checkpoint must be made or
// checked and no key was given.
var ErrNoAuditKey = errors.New("the audit key is required to sign and check audit checkpoints")

// appendField appends v as one field of an encoding.
func appendField[T ~string | ~[]byte](b []byte, v T) []byte {
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	b = append(b, v...)
	return append(b, ',')
}

// chainHasher computes entry hashes in reused buffers: verifying a million
// entries must not allocate per entry.
type chainHasher struct {
	buf []byte
	num []byte
	hex [2 * sha256.Size]byte
}

// entryHash returns the hex hash of the entry id whose other fields are
// fields, in chainColumns order. The result is valid until the next call.
func entryHash[T ~string | ~[]byte](c *chainHasher, id int64, fields []T) []byte {
	c.num = strconv.AppendInt(c.num[:0], id, 10)
	b := appendField(c.buf[:0], chainVersion)
	b = appendField(b, c.num)
	for _, f := range fields {
		b = appendField(b, f)
	}
	c.buf = b
	sum := sha256.Sum256(b)
	hex.Encode(c.hex[:], sum[:])
	return c.hex[:]
}

// Checkpoint stands for the entries a prune removed: the id and hash of the
// last of them, signed so the remaining chain can start from it.
type Checkpoint struct {
	ID             int64
	At             time.Time
	LastID         int64
	LastHash       string
	EntriesRemoved int64
	Signature      string // hex HMAC-SHA256
}

// signCheckpoint returns the hex HMAC-SHA256 under key of a checkpoint's
// fields, at as stored.
func signCheckpoint(key []byte, lastID int64, lastHash string, removed int64, at string) string {
	b := appendField(nil, checkpointVersion)
	b = appendField(b, strconv.FormatInt(lastID, 10))
	b = appendField(b, lastHash)
	b = appendField(b, strconv.FormatInt(removed, 10))
	b = appendField(b, at)
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// AuditReport is the outcome of verifying the audit log. Tampering shows
// here, not as an error: FirstBad or BadCheckpoint is set and Reason says
// what does not match.
type AuditReport struct {
	// Entries counts the entries read, up to and including FirstBad.
	Entries int
	// Legacy counts entries written before the chain existed (migration
	// 0005): they have no hash and cannot be checked.
	Legacy int
	// Checkpoints counts the signed checkpoints of earlier prunes.
	Checkpoints int
	// FirstBad is the id of the first entry that fails, 0 if none.
	FirstBad int64
	// BadCheckpoint is the id of a checkpoint that fails, 0 if none.
	BadCheckpoint int64
	// Reason says why FirstBad or BadCheckpoint fails.
	Reason string
	// LastID and LastHash are the head of the chain as read.
	LastID   int64
	LastHash string
}

// OK reports whether the log verified.
func (r AuditReport) OK() bool { return r.FirstBad == 0 && r.BadCheckpoint == 0 }

// chainVerifier checks entries one by one, in id order, against the
// chain's start (a checkpoint or the legacy prefix) and each other.
type chainVerifier struct {
	lastLegacy int64
	first      int64 // the first remaining entry's id, 0 if none
	report     AuditReport
	prev       []byte // the hash the next entry must link to
	checkpoint int64  // the checkpoint prev came from, if no entry since
	chained    bool   // a hashed entry has been read
	hasher     chainHasher
	id         int64
	raw        []sql.RawBytes
	hash       sql.RawBytes
	dest       []any
}

// verifyQuery streams the log for chainVerifier's dest.
var verifyQuery = `SELECT id, ` + strings.Join(chainColumnNames, ", ") + `, hash FROM audit_log ORDER BY id`

// newChainVerifier reads the chain's start inside tx: the legacy prefix and
// the checkpoints, whose signatures it checks with key. It returns an error
// wrapping ErrNoAuditKey if there are checkpoints and no key, or if a query
// fails; a checkpoint that fails its checks is in the report.
func newChainVerifier(ctx context.Context, tx *sql.Tx, key []byte) (*chainVerifier, error) {
	v := &chainVerifier{raw: make([]sql.RawBytes, len(chainColumnNames))}
	v.dest = append(v.dest, &v.id)
	for i := range v.raw {
		v.dest = append(v.dest, &v.raw[i])
	}
	v.dest = append(v.dest, &v.hash)
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_legacy_id), 0), (SELECT COALESCE(MIN(id), 0) FROM audit_log)
		FROM audit_chain_start`).Scan(&v.lastLegacy, &v.first); err != nil {
		return nil, fmt.Errorf("chain start: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, at, last_id, last_hash, entries_removed, signature
		FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, lastID, removed int64
		var at, lastHash, sig string
		if err := rows.Scan(&id, &at, &lastID, &lastHash, &removed, &sig); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		v.report.Checkpoints++
		if len(key) == 0 {
			return nil, ErrNoAuditKey
		}
		switch {
		case !v.report.OK():
		case !hmac.Equal([]byte(sig), []byte(signCheckpoint(key, lastID, lastHash, removed, at))):
			v.badCheckpoint(id, "signature does not match: a wrong audit key, or the checkpoint was altered")
		case lastID <= v.report.LastID:
			v.badCheckpoint(id, fmt.Sprintf("its last entry %d does not follow the previous checkpoint's %d", lastID, v.report.LastID))
		case v.first != 0 && lastID >= v.first:
			v.badCheckpoint(id, fmt.Sprintf("it stands for entries up to %d, but entry %d is still there", lastID, v.first))
		default:
			v.report.LastID, v.report.LastHash = lastID, lastHash
			v.prev = append(v.prev[:0], lastHash...)
			v.checkpoint = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return v, nil
}

// badCheckpoint records a failed checkpoint; the entries after it cannot
// be trusted, so the first of them is the first bad entry.
func (v *chainVerifier) badCheckpoint(id int64, why string) {
	v.report.BadCheckpoint, v.report.FirstBad = id, v.first
	v.report.Reason = fmt.Sprintf("checkpoint %d: %s", id, why)
}

// check verifies the entry last scanned into dest. It returns false, with
// the report naming the entry, at the first entry that fails.
func (v *chainVerifier) check() bool {
	v.report.Entries++
	id := v.id
	switch {
	case id <= v.report.LastID:
		return v.bad(id, fmt.Sprintf("id does not follow %d: entries reordered", v.report.LastID))
	case len(v.hash) == 0 && !v.chained && len(v.prev) == 0 && id <= v.lastLegacy:
		v.report.Legacy++
		v.report.LastID = id
		return true
	case len(v.hash) == 0:
		return v.bad(id, "no hash: written or altered outside the store")
	}
	if !bytes.Equal(entryHash(&v.hasher, id, v.raw[:]), v.hash) {
		return v.bad(id, "content changed: the hash does not match the entry")
	}
	if stored := v.raw[len(v.raw)-1]; !bytes.Equal(stored, v.prev) {
		why := fmt.Sprintf("prev_hash does not link to %s: it was altered, or entries were removed or reordered", v.anchor())
		if v.report.LastID > 0 && id > v.report.LastID+1 {
			why = fmt.Sprintf("entries %d to %d are missing (prev_hash does not link to %s)", v.report.LastID+1, id-1, v.anchor())
		}
		return v.bad(id, why)
	}
	v.prev = append(v.prev[:0], v.hash...)
	v.chained = true
	v.report.LastID = id
	return true
}

// anchor names what the next entry must link to, for reasons.
func (v *chainVerifier) anchor() string {
	switch {
	case v.chained:
		return fmt.Sprintf("entry %d", v.report.LastID)
	case v.checkpoint != 0:
		return fmt.Sprintf("checkpoint %d", v.checkpoint)
	}
	return "the start of the chain"
}

// bad records entry id as the first bad one and returns false.
func (v *chainVerifier) bad(id int64, why string) bool {
	v.report.FirstBad, v.report.Reason = id, fmt.Sprintf("entry %d: %s", id, why)
	return false
}

// verifyBefore checks, in id order, the entries older than before up to
// the first that is not, and returns how many it checked. It returns an
// error naming the first bad checkpoint or entry, or a failed read.
func (v *chainVerifier) verifyBefore(ctx context.Context, tx *sql.Tx, before time.Time) (int64, error) {
	if !v.report.OK() {
		return 0, fmt.Errorf("the log does not verify: %s", v.report.Reason)
	}
	rows, err := tx.QueryContext(ctx, verifyQuery)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		if err := rows.Scan(v.dest...); err != nil {
			return 0, err
		}
		if !parseTime(string(v.raw[0])).Before(before) {
			break
		}
		if !v.check() {
			return 0, fmt.Errorf("the log does not verify: %s", v.report.Reason)
		}
		n++
	}
	return n, rows.Err()
}

// VerifyAudit reads the whole audit log in id order, in one read
// transaction, recomputing every entry's hash and checking that each links
// to the one before it, starting from the newest prune checkpoint, whose
// signature it checks with key. progress, if not nil, is called with the
// count of entries read every 100,000 entries. Tampering is reported in
// the AuditReport; the error is for a failed read, or wraps ErrNoAuditKey
// when the log has checkpoints and key is empty.
func (s *Store) VerifyAudit(ctx context.Context, key []byte, progress func(done int)) (AuditReport, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return AuditReport{}, fmt.Errorf("store: verify audit log: %w", err)
	}
	defer tx.Rollback()
	v, err := newChainVerifier(ctx, tx, key)
	if err != nil {
		return AuditReport{}, fmt.Errorf("store: verify audit log: %w", err)
	}
	if !v.report.OK() {
		return v.report, nil
	}
	rows, err := tx.QueryContext(ctx, verifyQuery)
	if err != nil {
		return AuditReport{}, fmt.Errorf("store: verify audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(v.dest...); err != nil {
			return AuditReport{}, fmt.Errorf("store: verify audit log: entry after %d: %w", v.report.LastID, err)
		}
		if !v.check() {
			break
		}
		if progress != nil && v.report.Entries%progressEvery == 0 {
			progress(v.report.Entries)
		}
	}
	if err := rows.Err(); err != nil {
		return AuditReport{}, fmt.Errorf("store: verify audit log: %w", err)
	}
	v.report.LastHash = string(v.prev)
	return v.report, nil
}
