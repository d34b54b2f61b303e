package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"sort"
	"testing"
)

// wholeDigest is the plan digest's definition, written the plain way:
// the whole plan, ordered by sequence number, as one JSON array of
// [seq, kind, user, group, app, case ids, reason] after "attest plan v1\n".
func wholeDigest(plan []PlanItem) string {
	items := append([]PlanItem(nil), plan...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].Seq < items[j].Seq })
	rows := make([][]any, 0, len(items))
	for _, it := range items {
		ids := it.CaseIDs
		if ids == nil {
			ids = []int64{}
		}
		rows = append(rows, []any{it.Seq, it.Kind, it.UserID, it.GroupID, it.AppID, ids, it.Reason})
	}
	text, err := json.Marshal(rows)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(append([]byte("attest plan v1\n"), text...))
	return hex.EncodeToString(sum[:])
}

// The streamed digest, with its hand-written row encoding, is the
// definition's digest for any plan: strings JSON escapes (quotes,
// backslashes, control characters, HTML's <>&, U+2028, invalid UTF-8),
// empty and missing case ids, items out of order, negative numbers.
func TestPlanDigestMatchesItsDefinition(t *testing.T) {
	pieces := []string{"", "00u1", "0oa9", "group", "é", "\u2028", "\u2029", "\"", "\\", "<", ">", "&", "\n", "\t",
		"\x00", "\x1f", "\x7f", "\xff", "\xc3", "revoked by member", "a b", "/", "'", "😀"}
	str := func(r *rand.Rand) string {
		s := ""
		for n := r.IntN(4); n > 0; n-- {
			s += pieces[r.IntN(len(pieces))]
		}
		return s
	}
	r := rand.New(rand.NewPCG(7, 13))
	for round := 0; round < 500; round++ {
		plan := make([]PlanItem, r.IntN(6))
		for i := range plan {
			it := PlanItem{Seq: r.IntN(20) - 5, Kind: str(r), UserID: str(r), GroupID: str(r), AppID: str(r), Reason: str(r)}
			switch r.IntN(3) {
			case 0: // nil ids
			case 1:
				it.CaseIDs = []int64{}
			default:
				for n := r.IntN(4) + 1; n > 0; n-- {
					it.CaseIDs = append(it.CaseIDs, r.Int64N(1<<40)-1<<20)
				}
			}
			plan[i] = it
		}
		if got, want := PlanDigest(plan), wholeDigest(plan); got != want {
			t.Fatalf("plan %+v: digest %s, want %s", plan, got, want)
		}
	}
	if PlanDigest(nil) != wholeDigest(nil) {
		t.Fatal("empty plan: digests differ")
	}
}
