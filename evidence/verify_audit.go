package evidence

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
)

// Entry hash encodings (store/audit_chain.go): each field is written as
// its length in decimal, ':', the bytes and ','; the fields are the
// version, the id, then chainColumns. Unkeyed entries are the hex SHA-256
// of that, keyed ones the hex HMAC-SHA256 under the audit key.
const (
	chainVersion      = "attest-audit-v1"
	keyedChainVersion = "attest-audit-hmac-v1"
)

// EntryHash recomputes an audit entry's hash from its id and fields (by
// column name); key is required for a keyed entry.
func EntryHash(seq int64, fields map[string]string, keyed bool, key []byte) string {
	version := chainVersion
	if keyed {
		version = keyedChainVersion
	}
	b := appendField(nil, version)
	b = appendField(b, strconv.FormatInt(seq, 10))
	for _, name := range chainColumns {
		b = appendField(b, fields[name])
	}
	if keyed {
		m := hmac.New(sha256.New, key)
		m.Write(b)
		return hex.EncodeToString(m.Sum(nil))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func appendField(b []byte, v string) []byte {
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	b = append(b, v...)
	return append(b, ',')
}

// checkAudit checks audit.jsonl: entries in increasing seq, each of the
// campaign; every entry's hash recomputed from its fields (keyed ones
// only with the key); each entry directly after another (seq + 1) links to
// it by prev_hash; the head line last, and equal to the last entry when
// that entry is the head. Then every decision in decisions.json must name
// an entry with its hash.
func (r *VerifyReport) checkAudit(dir string, key []byte) {
	f, err := os.Open(filepath.Join(dir, FileAudit))
	if err != nil {
		return // reported as missing
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	hashes := map[int64]string{}
	var entries []digestEntry
	var prev *AuditLine
	var head *AuditLine
	campaign := strconv.FormatInt(r.CampaignID, 10)
	for n := 1; sc.Scan(); n++ {
		var l AuditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			r.problem(FileAudit, "line %d is not valid JSON: %v", n, err)
			return
		}
		if head != nil {
			r.problem(FileAudit, "line %d follows the head line, which must be last", n)
			return
		}
		if l.Record == "head" {
			head = &l
			continue
		}
		r.Audit.Entries++
		switch {
		case prev != nil && l.Seq <= prev.Seq:
			r.problem(FileAudit, "entry %d (line %d) does not follow entry %d: entries reordered", l.Seq, n, prev.Seq)
		case l.Fields["campaign_id"] != campaign:
			r.problem(FileAudit, "entry %d is of campaign %q, not %s", l.Seq, l.Fields["campaign_id"], campaign)
		}
		switch {
		case l.Keyed && len(key) == 0:
			r.Audit.KeyedSkip++
		case EntryHash(l.Seq, l.Fields, l.Keyed, key) != l.Hash && l.Keyed:
			r.problem(FileAudit, "entry %d: the keyed hash does not match its fields: the entry was altered, or the key given is not the audit key", l.Seq)
		case EntryHash(l.Seq, l.Fields, l.Keyed, key) != l.Hash:
			r.problem(FileAudit, "entry %d: the hash does not match its fields: the entry was altered", l.Seq)
		default:
			r.Audit.Recomputed++
		}
		if prev != nil && l.Seq == prev.Seq+1 {
			if l.Fields["prev_hash"] != prev.Hash {
				r.problem(FileAudit, "entry %d: prev_hash does not link to entry %d", l.Seq, prev.Seq)
			} else {
				r.Audit.Linked++
			}
		}
		hashes[l.Seq] = l.Hash
		entries = append(entries, digestEntry{seq: l.Seq, hash: l.Hash, typ: l.Fields["type"]})
		prev = &l
	}
	if err := sc.Err(); err != nil {
		r.problem(FileAudit, "cannot be read: %v", err)
		return
	}
	switch {
	case head == nil:
		r.problem(FileAudit, "has no head line")
	case head.Seq != r.AuditHead.Seq || head.Hash != r.AuditHead.Hash:
		r.problem(FileAudit, "head entry %d %s differs from the manifest's %d %s", head.Seq, head.Hash, r.AuditHead.Seq, r.AuditHead.Hash)
	case prev != nil && prev.Seq > head.Seq:
		r.problem(FileAudit, "entry %d is newer than the head %d", prev.Seq, head.Seq)
	case prev != nil && prev.Seq == head.Seq && prev.Hash != head.Hash:
		r.problem(FileAudit, "the last entry is the head, but its hash differs from the head's")
	}
	r.checkDecisionRefs(dir, hashes)
	r.checkSignOffDigests(dir, hashes, entries)
}

// checkSignOffDigests checks that each sign-off of approvals.json names an
// entry of audit.jsonl and that the evidence digest it is bound to is the
// one recomputed from the entries before it.
func (r *VerifyReport) checkSignOffDigests(dir string, hashes map[int64]string, entries []digestEntry) {
	raw, err := os.ReadFile(filepath.Join(dir, FileApprovals))
	if err != nil {
		return
	}
	var a ApprovalsFile
	if err := json.Unmarshal(raw, &a); err != nil {
		return // reported by the schema check
	}
	for _, so := range a.SignOffs {
		if h, ok := hashes[so.AuditSeq]; !ok || h != so.AuditHash {
			r.problem(FileApprovals, "sign-off names audit entry %d with hash %s, which audit.jsonl does not hold", so.AuditSeq, so.AuditHash)
			continue
		}
		if so.EvidenceSHA256 != "" && evidenceDigestOf(entries, so.AuditSeq) != so.EvidenceSHA256 {
			r.problem(FileApprovals, "the sign-off of entry %d is bound to evidence digest %s, but the entries before it give %s",
				so.AuditSeq, so.EvidenceSHA256, evidenceDigestOf(entries, so.AuditSeq))
		}
	}
}

// checkDecisionRefs checks that every record of decisions.json names an
// entry of audit.jsonl with that entry's hash.
func (r *VerifyReport) checkDecisionRefs(dir string, hashes map[int64]string) {
	raw, err := os.ReadFile(filepath.Join(dir, FileDecisions))
	if err != nil {
		return
	}
	var d DecisionsFile
	if err := json.Unmarshal(raw, &d); err != nil {
		r.problem(FileDecisions, "is not valid JSON: %v", err)
		return
	}
	refs := make([]AuditRef, 0, len(d.Decisions)+len(d.Escalations)+len(d.Delegations))
	for _, x := range d.Decisions {
		refs = append(refs, x.AuditRef)
	}
	for _, x := range d.Escalations {
		refs = append(refs, x.AuditRef)
	}
	for _, x := range d.Delegations {
		refs = append(refs, x.AuditRef)
	}
	for _, ref := range refs {
		if h, ok := hashes[ref.AuditSeq]; !ok || h != ref.AuditHash {
			r.problem(FileDecisions, "names audit entry %d with hash %s, which audit.jsonl does not hold", ref.AuditSeq, ref.AuditHash)
			return
		}
	}
}
