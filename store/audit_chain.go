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
	"hash"
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
// Unkeyed, a chain is evidence only against an edit that does not rewrite
// every later hash: someone able to write the database can recompute it.
// Keyed (audit_key.go), an entry's hash is the hex HMAC-SHA256 under the
// audit key of the same encoding starting with keyedChainVersion, so a
// recomputed chain fails without the key; the chain's mode is recorded,
// signed, so unkeyed entries after keyed ones fail as a downgrade, and a
// signed head catches the newest entries' removal. Restoring an old copy
// of the whole database is caught only by a head recorded outside it:
// AuditReport's LastID, LastHash and Total, which `attest audit verify
// --expect-head/--expect-count` check.

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
// entries must not allocate per entry. The zero value hashes unkeyed
// entries; keyedHasher's, keyed ones.
type chainHasher struct {
	buf []byte
	num []byte
	mac hash.Hash // HMAC-SHA256 under the audit key; nil when unkeyed
	sum [sha256.Size]byte
	hex [2 * sha256.Size]byte
}

// keyedHasher returns a hasher of entries keyed with key.
func keyedHasher(key []byte) *chainHasher {
	return &chainHasher{mac: hmac.New(sha256.New, key)}
}

// entryHash returns the hex hash of the entry id whose other fields are
// fields, in chainColumns order: SHA-256, or HMAC-SHA256 when c is keyed.
// The result is valid until the next call.
func entryHash[T ~string | ~[]byte](c *chainHasher, id int64, fields []T) []byte {
	c.num = strconv.AppendInt(c.num[:0], id, 10)
	version := chainVersion
	if c.mac != nil {
		version = keyedChainVersion
	}
	b := appendField(c.buf[:0], version)
	b = appendField(b, c.num)
	for _, f := range fields {
		b = appendField(b, f)
	}
	c.buf = b
	sum := c.sum[:0]
	if c.mac != nil {
		c.mac.Reset()
		c.mac.Write(b)
		sum = c.mac.Sum(sum)
	} else {
		c.sum = sha256.Sum256(b)
		sum = c.sum[:]
	}
	hex.Encode(c.hex[:], sum)
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
// here, not as an error: FirstBad, BadCheckpoint or Problem is set and
// Reason says what does not match.
type AuditReport struct {
	// Entries counts the entries read, up to and including FirstBad.
	Entries int
	// Total counts the entries the chain stands for: those read and those
	// its checkpoints replaced.
	Total int64
	// Keyed reports whether the chain is keyed, from entry KeyedFrom on.
	Keyed     bool
	KeyedFrom int64
	// HeadAt is the id of the entry whose hash is VerifyOptions.ExpectHead
	// (or of the checkpoint's last entry standing for it), 0 if none is.
	HeadAt int64
	// Problem says what fails that is not one entry or checkpoint: the
	// chain's mode or signed head, an empty log, an expectation not met.
	Problem string
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
func (r AuditReport) OK() bool { return r.FirstBad == 0 && r.BadCheckpoint == 0 && r.Problem == "" }

// chainVerifier checks entries one by one, in id order, against the
// chain's start (a checkpoint or the legacy prefix) and each other.
type chainVerifier struct {
	lastLegacy int64
	first      int64 // the first remaining entry's id, 0 if none
	report     AuditReport
	prev       []byte // the hash the next entry must link to
	checkpoint int64  // the checkpoint prev came from, if no entry since
	chained    bool   // a hashed entry has been read
	expectHead []byte // VerifyOptions.ExpectHead
	hasher     chainHasher
	keyed      *chainHasher // for entries from report.KeyedFrom on
	id         int64
	raw        []sql.RawBytes
	hash       sql.RawBytes
	dest       []any
}

// verifyQuery streams the log for chainVerifier's dest.
var verifyQuery = `SELECT id, ` + strings.Join(chainColumnNames, ", ") + `, hash FROM audit_log ORDER BY id`

// newChainVerifier reads the chain's start inside tx: its mode, the legacy
// prefix and the checkpoints, whose signatures it checks with key. With
// strict, a key given for a chain that is not keyed is a problem: its mode
// record may have been removed (VerifyOptions.RequireKeyed). A checkpoint standing for expectHead is
// noted in the report's HeadAt. It returns an error wrapping ErrNoAuditKey
// if the chain is keyed or has checkpoints and there is no key, or if a
// query fails; a mode or checkpoint that fails its checks is in the report.
func newChainVerifier(ctx context.Context, tx *sqlTx, key []byte, strict bool, expectHead string) (*chainVerifier, error) {
	v := &chainVerifier{raw: make([]sql.RawBytes, len(chainColumnNames)), expectHead: []byte(expectHead)}
	v.dest = append(v.dest, &v.id)
	for i := range v.raw {
		v.dest = append(v.dest, &v.raw[i])
	}
	v.dest = append(v.dest, &v.hash)
	modes, lastLegacy, startRows, err := readChainMode(ctx, tx)
	if err != nil {
		return nil, err
	}
	v.lastLegacy = lastLegacy
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0) FROM audit_log`).Scan(&v.first); err != nil {
		return nil, fmt.Errorf("chain start: %w", err)
	}
	switch {
	case len(modes) > 0 && len(key) == 0:
		return nil, fmt.Errorf("the chain is keyed from entry %d: %w", modes[0].keyedFrom, ErrNoAuditKey)
	case startRows > 1:
		v.problem(fmt.Sprintf("audit_chain_start has %d rows, but only migration 0005 writes one: the legacy prefix was extended by hand", startRows))
	case len(modes) > 1:
		v.problem(fmt.Sprintf("audit_chain_mode has %d rows, but a chain is keyed once: the database was altered", len(modes)))
	case len(modes) == 1 && !hmac.Equal([]byte(modes[0].signature), []byte(modes[0].sign(key))):
		v.problem("audit_chain_mode: signature does not match: a wrong audit key, or the record was altered")
	case len(modes) == 1 && modes[0].lastLegacy != lastLegacy:
		v.problem(fmt.Sprintf("audit_chain_start says the legacy prefix ends at entry %d, the signed mode at %d: the database was altered",
			lastLegacy, modes[0].lastLegacy))
	case len(modes) == 1:
		v.report.Keyed, v.report.KeyedFrom = true, modes[0].keyedFrom
		v.keyed = keyedHasher(key)
	case strict:
		v.problem("the chain is not keyed, yet the audit key is set: a chain is keyed when attest first opens the database " +
			"with the key to write it (serve, sync, any campaign command); if that happened, its mode record was removed")
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
		v.report.Total += removed
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
			v.sawHash(lastID, v.prev)
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

// problem records a failure of the chain as a whole.
func (v *chainVerifier) problem(why string) {
	if v.report.Problem == "" {
		v.report.Problem, v.report.Reason = why, why
	}
}

// sawHash notes that entry id, verified, has hash h.
func (v *chainVerifier) sawHash(id int64, h []byte) {
	if len(v.expectHead) > 0 && bytes.Equal(h, v.expectHead) {
		v.report.HeadAt = id
	}
}

// check verifies the entry last scanned into dest. It returns false, with
// the report naming the entry, at the first entry that fails.
func (v *chainVerifier) check() bool {
	v.report.Entries++
	v.report.Total++
	id := v.id
	keyed := v.keyed != nil && id >= v.report.KeyedFrom
	switch {
	case id <= v.report.LastID:
		return v.bad(id, fmt.Sprintf("id does not follow %d: entries reordered", v.report.LastID))
	case len(v.hash) == 0 && keyed:
		return v.bad(id, fmt.Sprintf("no hash, but the chain is keyed from entry %d: a downgrade, written or altered outside the store", v.report.KeyedFrom))
	case len(v.hash) == 0 && !v.chained && len(v.prev) == 0 && id <= v.lastLegacy:
		v.report.Legacy++
		v.report.LastID = id
		return true
	case len(v.hash) == 0:
		return v.bad(id, "no hash: written or altered outside the store")
	}
	if keyed {
		if !bytes.Equal(entryHash(v.keyed, id, v.raw[:]), v.hash) {
			if bytes.Equal(entryHash(&v.hasher, id, v.raw[:]), v.hash) {
				return v.bad(id, fmt.Sprintf("hashed without the audit key, but the chain is keyed from entry %d: a downgrade, or an entry forged without the key", v.report.KeyedFrom))
			}
			return v.bad(id, "content changed: the keyed hash does not match the entry")
		}
	} else if !bytes.Equal(entryHash(&v.hasher, id, v.raw[:]), v.hash) {
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
	v.sawHash(id, v.prev)
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
func (v *chainVerifier) verifyBefore(ctx context.Context, tx *sqlTx, before time.Time) (int64, error) {
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

// VerifyOptions say what VerifyAudit checks besides the chain itself.
type VerifyOptions struct {
	// Key is the audit key: required for a keyed chain and for checkpoints.
	Key []byte
	// RequireKeyed makes a chain that is not keyed a problem: with the key
	// set, an unkeyed chain is one whose mode record was removed and whose
	// entries were rehashed without the key, or one no attest has yet
	// opened with the key to write.
	RequireKeyed bool
	// ExpectHead is a head hash recorded earlier: it must be the hash of an
	// entry in the chain, or the last one a checkpoint stands for.
	ExpectHead string
	// ExpectCount is an entry count recorded earlier: the chain must stand
	// for at least as many entries (Total).
	ExpectCount int64
	// AllowEmpty lets a log with no entry and no checkpoint verify: a new
	// install's. Otherwise an empty log is a problem, since deleting every
	// entry leaves one.
	AllowEmpty bool
	// Progress, if not nil, is called with the count of entries read every
	// 100,000 entries.
	Progress func(done int)
}

// VerifyAudit reads the whole audit log in id order, in one read
// transaction, recomputing every entry's hash (keyed from where the chain
// is keyed) and checking that each links to the one before it, starting
// from the newest prune checkpoint, whose signature it checks with the
// key; then it checks a keyed chain's signed head and o's expectations.
// Tampering is reported in the AuditReport; the error is for a failed
// read, or wraps ErrNoAuditKey when the log is keyed or has checkpoints
// and o.Key is empty.
func (s *Store) VerifyAudit(ctx context.Context, o VerifyOptions) (AuditReport, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return AuditReport{}, fmt.Errorf("store: verify audit log: %w", err)
	}
	defer tx.Rollback()
	v, err := newChainVerifier(ctx, tx, o.Key, o.RequireKeyed, o.ExpectHead)
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
		if o.Progress != nil && v.report.Entries%progressEvery == 0 {
			o.Progress(v.report.Entries)
		}
	}
	if err := rows.Err(); err != nil {
		return AuditReport{}, fmt.Errorf("store: verify audit log: %w", err)
	}
	v.report.LastHash = string(v.prev)
	if !v.report.OK() {
		return v.report, nil
	}
	if v.report.Keyed {
		if err := v.checkHead(ctx, tx, o.Key); err != nil {
			return AuditReport{}, fmt.Errorf("store: verify audit log: %w", err)
		}
	}
	v.expect(o)
	return v.report, nil
}

// expect records a problem when the verified chain is empty or does not
// meet o's expectations.
func (v *chainVerifier) expect(o VerifyOptions) {
	r := &v.report
	switch {
	case r.Total == 0 && r.Checkpoints == 0 && !o.AllowEmpty:
		v.problem("the audit log is empty: every entry was deleted, or nothing was ever recorded (a new install)")
	case o.ExpectHead != "" && r.HeadAt == 0:
		v.problem(fmt.Sprintf("the recorded head %s is not in the chain, which ends at entry %d (%s): "+
			"entries were removed from its end, the chain was rewritten, or a prune removed that entry (record the head again after a prune)", o.ExpectHead, r.LastID, r.LastHash))
	case r.Total < o.ExpectCount:
		v.problem(fmt.Sprintf("the chain stands for %d entries, fewer than the %d recorded: entries were removed from its end", r.Total, o.ExpectCount))
	}
}
