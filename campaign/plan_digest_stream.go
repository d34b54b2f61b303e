package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
)

// PlanDigest is the SHA-256 (hex) of a plan's canonical form: every item,
// ordered by sequence number, as [seq, kind, user, group, app, case ids,
// reason]. Approvals are bound to it, and the executor refuses a plan
// whose digest is not the one approved.
//
// It is hashed as it is encoded, a row at a time, without holding the
// whole plan's JSON (and a boxed copy of every item) at once, which for a
// million-item plan is most of a close's memory. A JSON array is its rows
// joined by commas in brackets, so hashing each row's encoding between
// them hashes the same bytes.
func PlanDigest(plan []PlanItem) string {
	items := plan
	if !slices.IsSortedFunc(items, func(a, b PlanItem) int { return a.Seq - b.Seq }) {
		items = slices.Clone(plan)
		sort.SliceStable(items, func(i, j int) bool { return items[i].Seq < items[j].Seq })
	}
	h := sha256.New()
	h.Write([]byte("attest plan v1\n["))
	var row []byte
	for i := range items {
		if i > 0 {
			h.Write([]byte{','})
		}
		row = appendPlanRow(row[:0], &items[i])
		h.Write(row)
	}
	h.Write([]byte{']'})
	return hex.EncodeToString(h.Sum(nil))
}

// appendPlanRow appends an item's row of the digest, the bytes
// encoding/json gives [seq, kind, user, group, app, [case ids], reason],
// without reflection: ids and reasons are plain ASCII almost always, and
// a string holding anything JSON escapes is encoded by encoding/json
// itself.
func appendPlanRow(b []byte, it *PlanItem) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(it.Seq), 10)
	for _, s := range []string{it.Kind, it.UserID, it.GroupID, it.AppID} {
		b = appendJSONString(append(b, ','), s)
	}
	b = append(b, ',', '[')
	for i, id := range it.CaseIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, ']', ',')
	return append(appendJSONString(b, it.Reason), ']')
}

// appendJSONString appends s as encoding/json encodes a string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string: cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
