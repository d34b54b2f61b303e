package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// randomPlan is n plan items with rising sequence numbers (gaps
// included), repeated and empty strings, unusual bytes, and case id lists
// empty, long, unsorted and far apart.
func randomPlan(r *rand.Rand, n int) []campaign.PlanItem {
	strs := []string{"", "00u1", "00g2", "0oa3", "ünïcödé", "a\x00b", "\xff\xfe", "group rule \"eng\" keeps it"}
	pick := func() string {
		if r.Intn(4) == 0 {
			return fmt.Sprintf("id%d", r.Intn(1000))
		}
		return strs[r.Intn(len(strs))]
	}
	plan := make([]campaign.PlanItem, n)
	seq := r.Intn(3)
	for i := range plan {
		seq += 1 + r.Intn(3)
		it := campaign.PlanItem{Seq: seq, Kind: pick(), UserID: pick(), GroupID: pick(), AppID: pick(), Reason: pick()}
		for range r.Intn(5) {
			id := r.Int63n(1 << 40)
			if r.Intn(3) == 0 {
				id = int64(r.Intn(10))
			}
			it.CaseIDs = append(it.CaseIDs, id)
		}
		plan[i] = it
	}
	return plan
}

func TestPlanChunkRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var buf []byte
	for round := range 300 {
		plan := randomPlan(r, r.Intn(50))
		buf = encodePlanChunk(buf, plan)
		got, err := decodePlanChunk(nil, buf)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(plan) == 0 {
			plan = nil
		}
		if !reflect.DeepEqual(got, plan) {
			t.Fatalf("round %d: decoded\n%+v\nwant\n%+v", round, got, plan)
		}
	}
	// Repeated strings are held once.
	same := make([]campaign.PlanItem, 1000)
	for i := range same {
		same[i] = campaign.PlanItem{Seq: i + 1, Kind: campaign.ItemManual, UserID: "00u-the-same-user",
			GroupID: "00g-the-same-group", Reason: "a long reason shared by every item of the group", CaseIDs: []int64{int64(i + 1)}}
	}
	if n := len(encodePlanChunk(nil, same)); n > 10*len(same) {
		t.Fatalf("1000 items of the same strings take %d bytes", n)
	}
}

// A body that is cut short, altered or padded fails to decode, or decodes
// to well-formed items; it never panics, and a failure appends nothing.
func TestPlanChunkRejectsMalformed(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	plan := randomPlan(r, 40)
	body := encodePlanChunk(nil, plan)
	prefix := []campaign.PlanItem{{Seq: 1}}
	for n := range len(body) {
		if got, err := decodePlanChunk(prefix, body[:n]); err == nil || !errors.Is(err, errPlanChunk) || len(got) != 1 {
			t.Fatalf("cut at %d of %d: %d items, err = %v", n, len(body), len(got), err)
		}
	}
	if _, err := decodePlanChunk(nil, append(body[:len(body):len(body)], 0)); !errors.Is(err, errPlanChunk) {
		t.Fatalf("a byte left over: err = %v", err)
	}
	other := append([]byte{planChunkVersion + 1}, body[1:]...)
	if _, err := decodePlanChunk(nil, other); !errors.Is(err, errPlanChunk) {
		t.Fatalf("another version: err = %v", err)
	}
	for range 2000 {
		bad := append([]byte(nil), body...)
		for range 1 + r.Intn(4) {
			bad[r.Intn(len(bad))] = byte(r.Intn(256))
		}
		got, err := decodePlanChunk(nil, bad)
		if err != nil {
			if !errors.Is(err, errPlanChunk) || len(got) != 0 {
				t.Fatalf("altered body: %d items, err = %v", len(got), err)
			}
			continue
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq {
				t.Fatalf("altered body decoded to sequence numbers %d then %d", got[i-1].Seq, got[i].Seq)
			}
		}
	}
}

// A plan of several chunks, handed over out of order, is stored in
// plan_chunks and read back in sequence order; a plan stored before
// migration 0018 is read from plan_items; a damaged chunk fails the read.
func TestPlanStoredInChunks(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, sampleCases())
	plan := randomPlan(rand.New(rand.NewSource(3)), 2*planChunkItems+17)
	shuffled := append([]campaign.PlanItem(nil), plan...)
	rand.New(rand.NewSource(4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	closed := *c
	closed.State = campaign.StateClosed
	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, nil, shuffled, nil,
		campaign.Event{Type: "campaign.closed", Actor: campaign.System}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Plan(ctx, c.ID)
	if err != nil || !reflect.DeepEqual(got, plan) {
		t.Fatalf("plan of %d items read back as %d items (equal: %v), %v", len(plan), len(got), reflect.DeepEqual(got, plan), err)
	}
	var chunks, items int64
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(items) FROM plan_chunks WHERE campaign_id = ?`, c.ID).
		Scan(&chunks, &items); err != nil || chunks != 3 || items != int64(len(plan)) {
		t.Fatalf("plan_chunks: %d rows of %d items, %v", chunks, items, err)
	}
	if digest := campaign.PlanDigest(got); digest != campaign.PlanDigest(plan) {
		t.Fatal("the plan read back has another digest")
	}

	// A plan stored one row per item, before migration 0018.
	old := createCampaign(t, st, snap, nil)
	legacy := []campaign.PlanItem{
		{Seq: 1, Kind: campaign.OpRemoveMembership, UserID: "00u1", GroupID: "00g1", CaseIDs: []int64{7, 3}},
		{Seq: 2, Kind: campaign.ItemManual, UserID: "00u1", GroupID: "00g2", Reason: "rule"},
	}
	for _, it := range legacy {
		ids := ""
		for i, id := range it.CaseIDs {
			if i > 0 {
				ids += " "
			}
			ids += fmt.Sprint(id)
		}
		if _, err := st.db.ExecContext(ctx, `INSERT INTO plan_items (campaign_id, seq, kind, user_id, group_id, app_id, case_ids, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, old.ID, it.Seq, it.Kind, it.UserID, it.GroupID, it.AppID, ids, it.Reason); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := st.Plan(ctx, old.ID); err != nil || !reflect.DeepEqual(got, legacy) {
		t.Fatalf("legacy plan = %+v, %v", got, err)
	}

	// A damaged chunk is an error, not a shorter plan.
	if _, err := st.db.ExecContext(ctx, `UPDATE plan_chunks SET items = items + 1 WHERE campaign_id = ? AND first_seq = ?`,
		c.ID, plan[planChunkItems].Seq); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Plan(ctx, c.ID); !errors.Is(err, errPlanChunk) || got != nil {
		t.Fatalf("a chunk that counts one item too many: %d items, err = %v", len(got), err)
	}
}

// A plan with a repeated or negative sequence number is refused, and the
// close with it writes nothing.
func TestWritePlanRefusesBadNumbers(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	for _, plan := range [][]campaign.PlanItem{
		{{Seq: 2, Kind: campaign.ItemManual}, {Seq: 1, Kind: campaign.ItemManual}, {Seq: 2, Kind: campaign.ItemManual}},
		{{Seq: -1, Kind: campaign.ItemManual}},
	} {
		c := createCampaign(t, st, snap, nil)
		closed := *c
		closed.State = campaign.StateClosed
		if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, nil, plan, nil,
			campaign.Event{Type: "campaign.closed", Actor: campaign.System}); err == nil {
			t.Fatalf("plan %+v was stored", plan)
		}
		if got, err := st.Plan(ctx, c.ID); err != nil || len(got) != 0 {
			t.Fatalf("a refused plan left %+v, %v", got, err)
		}
	}
}
