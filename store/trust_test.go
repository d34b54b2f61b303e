package store

import (
	"context"
	"errors"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// A case update that names the state it belongs to applies only while the
// campaign is in it, checked by the UPDATE itself: after the campaign
// moved on, nothing of the update or its events is stored.
func TestUpdateCasesIsFencedByState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		expect campaign.State
		moveTo campaign.State // "" leaves the campaign in stage 1
		err    error
	}{
		{"stage open", campaign.StateStage1, "", nil},
		{"stage ended", campaign.StateStage1, campaign.StateStage2, campaign.ErrStageEnded},
		{"close began", campaign.StateStage1, campaign.StateClosing, campaign.ErrStageEnded},
		{"no stage asked, still open", "", campaign.StateStage2, nil},
		{"no stage asked, close began", "", campaign.StateClosing, campaign.ErrStageEnded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, snap := openCampaignStore(t)
			c := createCampaign(t, st, snap, sampleCases())
			if tc.moveTo != "" {
				next := *c
				next.State = tc.moveTo
				if err := st.MoveCampaign(ctx, &next, campaign.StateStage1, campaign.Event{Type: "moved", Actor: campaign.System}); err != nil {
					t.Fatal(err)
				}
			}
			cases, _ := st.Cases(ctx, c.ID, campaign.CaseQuery{})
			before, _ := st.Events(ctx, c.ID)
			cs := cases[0]
			cs.MemberDecision = campaign.DecisionRevoke
			err := st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &cs, ExpectReviewer: cs.ReviewerID, ExpectState: tc.expect}},
				[]campaign.Event{{Type: "case.answered", CampaignID: c.ID, Actor: owner}})
			if !errors.Is(err, tc.err) || tc.err != nil && !errors.Is(err, campaign.ErrConflict) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			after, _ := st.Cases(ctx, c.ID, campaign.CaseQuery{ID: cs.ID})
			events, _ := st.Events(ctx, c.ID)
			stored := after[0].MemberDecision == campaign.DecisionRevoke && len(events) == len(before)+1
			if stored != (tc.err == nil) {
				t.Fatalf("stored = %v (decision %q, events %d -> %d)", stored, after[0].MemberDecision, len(before), len(events))
			}
		})
	}
}

// An approval is taken only while the campaign is closed, and only for
// the plan the campaign closed with; one Okta user approves once under
// any email.
func TestAddApprovalIsFencedAndBound(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, sampleCases())
	ev := campaign.Event{Type: "plan.approved", Actor: owner}
	ann := campaign.Approval{Approver: "ann@x.com", ApproverID: "00uANN", Decision: "approve"}
	if _, err := st.AddApproval(ctx, c.ID, ann, ev); !errors.Is(err, campaign.ErrConflict) {
		t.Fatalf("approval of an open campaign: %v", err)
	}
	plan := []campaign.PlanItem{{Seq: 1, Kind: campaign.OpUnassignApp, UserID: "00u1", AppID: "0oa1", CaseIDs: []int64{1}, Reason: "revoked"}}
	closed := *c
	closed.State = campaign.StateClosed
	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, nil, plan, nil, campaign.Event{Type: "campaign.closed", Actor: owner}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetCampaign(ctx, c.ID)
	if err != nil || got.PlanDigest != campaign.PlanDigest(plan) || closed.PlanDigest != got.PlanDigest {
		t.Fatalf("plan digest %q (closed %q), %v", got.PlanDigest, closed.PlanDigest, err)
	}
	for _, tc := range []struct {
		name  string
		a     campaign.Approval
		err   error
		count int
	}{
		{"another plan", withDigest(ann, "0000"), campaign.ErrConflict, 0},
		{"this plan", withDigest(ann, got.PlanDigest), nil, 1},
		{"the same person renamed", withDigest(campaign.Approval{Approver: "ann.new@x.com", ApproverID: "00uANN", Decision: "approve"},
			got.PlanDigest), nil, 1},
		{"someone else", withDigest(campaign.Approval{Approver: "bob@x.com", ApproverID: "00uBOB", Decision: "approve"}, got.PlanDigest), nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := st.AddApproval(ctx, c.ID, tc.a, ev)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if all, _ := st.Approvals(ctx, c.ID); len(all) != tc.count || err == nil && len(list) != tc.count {
				t.Fatalf("approvals %+v", all)
			}
		})
	}
	rejected := closed
	rejected.State = campaign.StateRejected
	if err := st.MoveCampaign(ctx, &rejected, campaign.StateClosed, campaign.Event{Type: "campaign.rejected", Actor: owner}); err != nil {
		t.Fatal(err)
	}
	late := withDigest(campaign.Approval{Approver: "cy@x.com", ApproverID: "00uCY", Decision: "approve"}, got.PlanDigest)
	if _, err := st.AddApproval(ctx, c.ID, late, ev); !errors.Is(err, campaign.ErrConflict) {
		t.Fatalf("approval of a rejected plan: %v", err)
	}
}

func withDigest(a campaign.Approval, digest string) campaign.Approval {
	a.PlanDigest = digest
	return a
}

// FindUsers sees every user a name matches; SwapSweepReview claims,
// releases and refuses by compare-and-swap.
func TestFindUsersAndSweepClaims(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	for _, tc := range []struct {
		key  string
		want int
	}{{"00u1", 1}, {"A@X.COM", 1}, {"nobody@x.com", 0}} {
		if got, err := st.FindUsers(ctx, snap, tc.key); err != nil || len(got) != tc.want {
			t.Fatalf("FindUsers(%q) = %d users, %v", tc.key, len(got), err)
		}
	}
	sweep, err := st.SaveSweep(ctx, snap, 1, map[campaign.EntitlementKey]bool{{UserID: "00u1", Kind: campaign.KindApp, EntitlementID: "0oa1"}: true})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		expect, to int64
		now        int64
		swapped    bool
	}{
		{"claim", 0, 7, 7, true},
		{"a second claim loses", 0, 8, 7, false},
		{"release", 7, 0, 0, true},
		{"claim again", 0, 9, 9, true},
	}
	for _, s := range steps {
		now, ok, err := st.SwapSweepReview(ctx, sweep, s.expect, s.to)
		if err != nil || ok != s.swapped || now != s.now {
			t.Fatalf("%s: now %d, swapped %v, %v", s.name, now, ok, err)
		}
	}
	if _, _, err := st.SwapSweepReview(ctx, 404, 0, 1); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("unknown sweep: %v", err)
	}
}

// Whatever the caller asks, a case of a campaign that is closing or
// closed is never changed: its outcome is evidence.
func TestClosedCampaignCasesAreReadOnly(t *testing.T) {
	ctx := context.Background()
	for _, to := range []campaign.State{campaign.StateClosing, campaign.StateClosed, campaign.StateCancelled} {
		t.Run(string(to), func(t *testing.T) {
			st, snap := openCampaignStore(t)
			c := createCampaign(t, st, snap, sampleCases())
			next := *c
			next.State = to
			if err := st.MoveCampaign(ctx, &next, campaign.StateStage1, campaign.Event{Type: "moved", Actor: campaign.System}); err != nil {
				t.Fatal(err)
			}
			cases, _ := st.Cases(ctx, c.ID, campaign.CaseQuery{})
			cs := cases[0]
			cs.ReviewerDecision, cs.Outcome = campaign.DecisionRevoke, ""
			err := st.UpdateCases(ctx, []campaign.CaseUpdate{{Case: &cs, ExpectReviewer: cs.ReviewerID}}, nil)
			if !errors.Is(err, campaign.ErrStageEnded) {
				t.Fatalf("err = %v, want ErrStageEnded", err)
			}
		})
	}
}
