package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// sweepOf saves a sweep of the harness's latest snapshot and returns it.
func (h *harness) sweepOf() int64 {
	h.t.Helper()
	info, err := h.st.LatestSnapshot(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	snap, err := h.st.LoadSnapshot(h.ctx, info.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	findings := campaign.Sweep(campaign.NewIndex(snap), t0, campaign.SweepOptions{})
	id, err := h.st.SaveSweep(h.ctx, info.ID, len(findings), campaign.Covered(findings))
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// sweepCampaigns lists the campaigns launched from sweeps that are not
// cancelled.
func (h *harness) sweepCampaigns() []campaign.Campaign {
	h.t.Helper()
	list, err := h.st.ListCampaigns(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []campaign.Campaign
	for _, c := range list {
		if c.Trigger == "sweep" && c.State != campaign.StateCancelled {
			out = append(out, c)
		}
	}
	return out
}

// Two admins pressing "Start review of these" on one sweep at once launch
// one campaign; the other is told which.
func TestOneSweepOneCampaign(t *testing.T) {
	for _, clicks := range []int{2, 5} {
		t.Run(fmt.Sprintf("%d clicks", clicks), func(t *testing.T) {
			h := newHarness(t, org())
			h.eng.Admins = []string{"iam@x.com", "approver@x.com", "ceo@x.com"}
			sweep := h.sweepOf()
			admins := []string{"iam@x.com", "approver@x.com", "ceo@x.com"}
			start := make(chan struct{})
			var wg sync.WaitGroup
			got := make([]*campaign.Campaign, clicks)
			errs := make([]error, clicks)
			for i := 0; i < clicks; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					<-start
					got[i], errs[i] = h.eng.LaunchSweepReview(h.ctx, sweep, as(admins[i%len(admins)]), nil)
				}(i)
			}
			close(start)
			wg.Wait()
			var winner *campaign.Campaign
			for i := range got {
				if errs[i] == nil {
					if winner != nil {
						t.Fatalf("two campaigns: %d and %d", winner.ID, got[i].ID)
					}
					winner = got[i]
				}
			}
			if winner == nil {
				t.Fatalf("no campaign: %v", errs)
			}
			want := fmt.Sprintf("a review of this sweep was already started (campaign %d)", winner.ID)
			for i, err := range errs {
				if err != nil && (!errors.Is(err, campaign.ErrConflict) || campaign.ErrorMessage(err) != want) {
					t.Errorf("click %d: %v (message %q)", i, err, campaign.ErrorMessage(err))
				}
			}
			if list := h.sweepCampaigns(); len(list) != 1 {
				t.Fatalf("%d open campaigns from the sweep", len(list))
			}
			_, err := h.eng.LaunchSweepReview(h.ctx, sweep, as("iam@x.com"), nil)
			if campaign.ErrorMessage(err) != want {
				t.Fatalf("a later click: %v", err)
			}
		})
	}
}

// failingStore fails the first write of cases, as a launch that breaks
// half-way.
type failingStore struct {
	*store.Store
	fail bool
}

func (s *failingStore) AddCases(ctx context.Context, id int64, at time.Time, cases []campaign.CaseRecord) error {
	if s.fail {
		s.fail = false
		return errors.New("disk full")
	}
	return s.Store.AddCases(ctx, id, at, cases)
}

// A launch that fails releases its claim: the next click launches.
func TestFailedSweepLaunchReleasesTheClaim(t *testing.T) {
	h := newHarness(t, org())
	h.eng.Admins = []string{"iam@x.com"}
	h.eng.Store = &failingStore{Store: h.st, fail: true}
	sweep := h.sweepOf()
	if _, err := h.eng.LaunchSweepReview(h.ctx, sweep, as("iam@x.com"), nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("first launch: %v", err)
	}
	if _, owner, err := h.st.Sweep(h.ctx, sweep); err != nil || owner != 0 {
		t.Fatalf("claim after a failed launch = %d, %v; want released", owner, err)
	}
	c, err := h.eng.LaunchSweepReview(h.ctx, sweep, as("iam@x.com"), nil)
	if err != nil || c.State != campaign.StateStage1 {
		t.Fatalf("second launch: %v, %v", c, err)
	}
	if _, owner, _ := h.st.Sweep(h.ctx, sweep); owner != c.ID {
		t.Fatalf("sweep claimed by %d, want %d", owner, c.ID)
	}
}

// Only admins start a sweep's review, and only people of the directory.
func TestSweepReviewNeedsAnAdmin(t *testing.T) {
	h := newHarness(t, org())
	h.eng.Admins = []string{"iam@x.com"}
	h.eng.IsAdmin = func(_ context.Context, a campaign.Actor) bool { return a.SlackUserID == "UADMIN" }
	sweep := h.sweepOf()
	for _, a := range []campaign.Actor{as("peer@x.com"), as("stranger@x.com")} {
		_, err := h.eng.LaunchSweepReview(h.ctx, sweep, a, nil)
		wantErr(t, err, campaign.ErrForbidden, a.Email)
	}
	if len(h.sweepCampaigns()) != 0 {
		t.Fatal("a refused click launched something")
	}
	slackAdmin := campaign.Actor{UserID: "vp", Email: "vp@x.com", Via: "slack", SlackUserID: "UADMIN"}
	if _, err := h.eng.LaunchSweepReview(h.ctx, sweep, slackAdmin, nil); err != nil {
		t.Fatalf("a Slack admin: %v", err)
	}
}
