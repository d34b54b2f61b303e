package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
)

// planDigest is PlanDigest hashed as it is encoded, a row at a time: the
// same digest without holding the whole plan's JSON (and a boxed copy of
// every item) at once, which for a million-item plan is most of a close's
// memory. A JSON array is its rows joined by commas in brackets, so
// hashing each row's encoding between them hashes the same bytes.
func planDigest(plan []PlanItem) string {
	items := plan
	if !slices.IsSortedFunc(items, func(a, b PlanItem) int { return a.Seq - b.Seq }) {
		items = slices.Clone(plan)
		sort.SliceStable(items, func(i, j int) bool { return items[i].Seq < items[j].Seq })
	}
	h := sha256.New()
	h.Write([]byte("attest plan v1\n["))
	for i := range items {
		it := &items[i]
		ids := it.CaseIDs
		if ids == nil {
			ids = []int64{}
		}
		if i > 0 {
			h.Write([]byte{','})
		}
		row, _ := json.Marshal([]any{it.Seq, it.Kind, it.UserID, it.GroupID, it.AppID, ids, it.Reason}) // plain values: cannot fail
		h.Write(row)
	}
	h.Write([]byte{']'})
	return hex.EncodeToString(h.Sum(nil))
}
