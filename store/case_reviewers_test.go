package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// reviewerCaseIDs are the ids of a campaign's cases that Cases finds for
// a reviewer.
func reviewerCaseIDs(t *testing.T, st *Store, campaignID int64, reviewer string) []int64 {
	t.Helper()
	cs, err := st.Cases(context.Background(), campaignID, campaign.CaseQuery{ReviewerID: &reviewer})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, c := range cs {
		if c.ReviewerID != reviewer {
			t.Fatalf("case %d of reviewer %q found for %q", c.ID, c.ReviewerID, reviewer)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// wantReviewerCases checks that Cases finds, for every reviewer, exactly
// the cases whose reviewer they are now, across both campaigns.
func wantReviewerCases(t *testing.T, st *Store, campaigns ...int64) {
	t.Helper()
	for _, id := range campaigns {
		all, err := st.Cases(context.Background(), id, campaign.CaseQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]int64{}
		for _, c := range all {
			want[c.ReviewerID] = append(want[c.ReviewerID], c.ID)
		}
		want["00u-nobody"] = nil
		for reviewer, ids := range want {
			if got := reviewerCaseIDs(t, st, id, reviewer); !slices.Equal(got, ids) {
				t.Errorf("campaign %d, reviewer %q: cases %v, want %v", id, reviewer, got, ids)
			}
		}
	}
}

// A reviewer's cases are found through case_reviewers: after a launch,
// after escalations and delegations move cases to new reviewers (and
// back), for the IAM team's cases (no reviewer), and never another
// campaign's.
func TestReviewerCasesFollowMoves(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	mk := func(n int) []campaign.CaseRecord {
		var cs []campaign.CaseRecord
		for u := range n {
			reviewer := fmt.Sprintf("00m%d", u%3)
			if u == 0 {
				reviewer = "" // the IAM team's
			}
			for e := range 4 {
				cs = append(cs, campaign.CaseRecord{UserID: fmt.Sprintf("00u%d", u), Kind: campaign.KindApp,
					EntitlementID: fmt.Sprintf("0oa%d", e), Label: "App", ManagerID: reviewer, ReviewerID: reviewer})
			}
		}
		return cs
	}
	a := createCampaign(t, st, snap, mk(7))
	b := createCampaign(t, st, snap, mk(5))
	wantReviewerCases(t, st, a.ID, b.ID)

	cases, err := st.Cases(ctx, a.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	move := func(c campaign.CaseRecord, to string) {
		t.Helper()
		from := c.ReviewerID
		c.ReviewerID = to
		if err := st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &c, ExpectReviewer: from}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// An escalation moves one case of a member to the skip level; a
	// delegation moves all of another member's cases; one case goes back.
	move(cases[5], "00m-skip")
	for _, c := range cases[8:12] {
		move(c, "00m-delegate")
	}
	wantReviewerCases(t, st, a.ID, b.ID)
	back, err := st.Cases(ctx, a.ID, campaign.CaseQuery{ID: cases[5].ID})
	if err != nil || len(back) != 1 {
		t.Fatal(back, err)
	}
	move(back[0], cases[5].ReviewerID)
	// A move refused (the case changed meanwhile) adds no reviewer.
	stale := cases[6]
	stale.ReviewerID = "00m-never"
	if err := st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &stale, ExpectReviewer: "00m-someone-else"}}, nil); err == nil {
		t.Fatal("a move from the wrong reviewer applied")
	}
	wantReviewerCases(t, st, a.ID, b.ID)
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_reviewers WHERE reviewer_id = '00m-never'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused move left %d pairs, %v", n, err)
	}
}

// Migration 0019 fills case_reviewers from the cases there are, and drops
// the cases table's reviewer index.
func TestCaseReviewersMigration(t *testing.T) {
	ctx := context.Background()
	where := target(t, t.TempDir()+"/attest.db")
	st, snap := openCampaignStoreAt(t, where)
	cases := sampleCases()
	c := createCampaign(t, st, snap, cases)
	// Back to before migration 0019 (no pairs, the old index), then the
	// migration's own statements, as the migration runner applies them.
	for _, q := range []string{`DROP TABLE case_reviewers`, `CREATE INDEX cases_reviewer ON cases (campaign_id, reviewer_id)`} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	files, dir := migrations, "migrations"
	if testBackend == "postgres" {
		files, dir = pgMigrations, "pg_migrations"
	}
	body, err := files.ReadFile(dir + "/0019_case_reviewers.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, string(body)); err != nil {
		t.Fatal(err)
	}
	wantReviewerCases(t, st, c.ID)
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_reviewers`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("case_reviewers has %d rows, %v; want one per (reviewer, member) pair, 2", n, err)
	}
	idx := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'cases_reviewer'`
	if testBackend == "postgres" {
		idx = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'cases_reviewer'`
	}
	if err := st.db.QueryRowContext(ctx, idx).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the reviewer index is still there (%d), %v", n, err)
	}
}

// A reviewer's cases are read through indexes, not by scanning the
// campaign's cases.
func TestReviewerCasesQueryPlan(t *testing.T) {
	sqliteOnly(t, "reads SQLite's query plan")
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, sampleCases())
	reviewer := "00u2"
	q, args := casesQuery(c.ID, campaign.CaseQuery{ReviewerID: &reviewer})
	text := queryPlan(t, st, q, args...)
	if strings.Contains(text, "SCAN cases") || !strings.Contains(text, "SEARCH cases USING INDEX") {
		t.Fatalf("a reviewer's cases are not read through an index:\n%s", text)
	}
}

// queryPlan is SQLite's plan for a query, one step a line.
func queryPlan(t *testing.T, st *Store, q string, args ...any) string {
	t.Helper()
	var plan []string
	err := st.each(context.Background(), `EXPLAIN QUERY PLAN `+q, args, func(r *sql.Rows) error {
		var id, parent, notUsed int
		var detail string
		if err := r.Scan(&id, &parent, &notUsed, &detail); err != nil {
			return err
		}
		plan = append(plan, detail)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
