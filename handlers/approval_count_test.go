package handlers

import (
	"context"
	"strings"
	"testing"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// countingReporter is Reporter and ApprovalCounter: the engine's reading
// of a plan's approvals.
type countingReporter struct {
	status func(id int64) (*campaign.ApprovalStatus, error)
}

func (countingReporter) Report(_ context.Context, id int64) (*campaign.Report, error) {
	return &campaign.Report{ID: id, ByState: map[string]int{}}, nil
}

func (f countingReporter) ApprovalStatus(_ context.Context, id int64) (*campaign.ApprovalStatus, error) {
	return f.status(id)
}

// TestApprovalMessageShowsTheEngineCount: the message says how many
// approvals the plan truly needs (the definition asks for 1; critical
// access makes it 2) and counts only the approvals the engine counts.
// The old message read the definition's number and every stored approval:
// "1 of 1 required", then "2 of 1".
func TestApprovalMessageShowsTheEngineCount(t *testing.T) {
	alice := campaign.Approval{Approver: "alice@example.com", ApproverID: "00uA", Decision: "approve", At: t0}
	bob := campaign.Approval{Approver: "bob@example.com", ApproverID: "00uB", Decision: "approve", At: t0.Add(1)}
	gone := campaign.Approval{Approver: "gone@example.com", ApproverID: "00uG", Decision: "approve", At: t0.Add(2)}
	cases := []struct {
		name    string
		stored  []campaign.Approval // what the store holds
		counted []campaign.Approval // what the engine counts
		want    string
		absent  string
	}{
		{name: "one of two", stored: []campaign.Approval{alice}, counted: []campaign.Approval{alice}, want: "1 of 2 required"},
		{name: "two of two", stored: []campaign.Approval{alice, bob}, counted: []campaign.Approval{alice, bob}, want: "2 of 2 required"},
		{name: "an approval the engine no longer counts", stored: []campaign.Approval{alice, gone},
			counted: []campaign.Approval{alice}, want: "1 of 2 required", absent: "gone@example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newOutbound(t)
			r.c.State = campaign.StateClosed
			r.c.Definition.Approval.Required = 1
			r.n.Campaigns.(*fakeCampaigns).approvals = func(int64) ([]campaign.Approval, error) { return tc.stored, nil }
			r.n.Reports = countingReporter{status: func(int64) (*campaign.ApprovalStatus, error) {
				return &campaign.ApprovalStatus{Required: 2, Approved: len(tc.counted), Counted: tc.counted}, nil
			}}
			if err := r.n.Notify(context.Background(), campaign.Notification{Kind: campaign.NoteClosed, CampaignID: 7}); err != nil {
				t.Fatal(err)
			}
			if len(r.box.items) == 0 {
				t.Fatal("nothing queued")
			}
			msg := string(r.box.items[0].Payload.Blocks)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("approval message lacks %q:\n%s", tc.want, msg)
			}
			if tc.absent != "" && strings.Contains(msg, tc.absent) {
				t.Errorf("approval message lists %s, whose approval does not count:\n%s", tc.absent, msg)
			}
		})
	}
}

// TestApprovalMessageWithoutEngineClaimsNoNumber: a Notifier without the
// engine's count never shows a required number it cannot know.
func TestApprovalMessageWithoutEngineClaimsNoNumber(t *testing.T) {
	r := newOutbound(t)
	r.c.State = campaign.StateClosed
	r.c.Definition.Approval.Required = 1
	if err := r.n.Notify(context.Background(), campaign.Notification{Kind: campaign.NoteClosed, CampaignID: 7}); err != nil {
		t.Fatal(err)
	}
	msg := string(r.box.items[0].Payload.Blocks)
	if strings.Contains(msg, "required") || !strings.Contains(msg, "0 given") {
		t.Errorf("approval message without the engine's count:\n%s", msg)
	}
}

// countingEngine is the fake engine plus the engine's approval count.
type countingEngine struct {
	*fakeEngine
	status func(id int64) (*campaign.ApprovalStatus, error)
}

func (f countingEngine) ApprovalStatus(_ context.Context, id int64) (*campaign.ApprovalStatus, error) {
	return f.status(id)
}

// TestPlanThreadNoteShowsTheEngineCount: the thread note after a click
// reads the engine's "2 of 2 approvals", not the definition's "(2 of 1)".
func TestPlanThreadNoteShowsTheEngineCount(t *testing.T) {
	r := newInbound(t)
	r.eng.approve = func(id int64, _ campaign.Actor) (*campaign.Campaign, int, error) {
		return &campaign.Campaign{ID: id, State: campaign.StateApproved, Definition: &campaign.Definition{
			Approval: campaign.ApprovalPolicy{Required: 1}}}, 2, nil
	}
	r.x.Engine = countingEngine{fakeEngine: r.eng, status: func(int64) (*campaign.ApprovalStatus, error) {
		return &campaign.ApprovalStatus{Required: 2, Approved: 2}, nil
	}}
	r.press("UAPP", blocks.ActionPlanApprove, "a:7:-:1", nil)
	if len(r.out.posted) == 0 {
		t.Fatalf("no thread note; calls %s", r.out.String())
	}
	if thread := r.out.posted[len(r.out.posted)-1]; !strings.Contains(thread, "(2 of 2 approvals)") {
		t.Errorf("thread note %q, want the engine's 2 of 2", thread)
	}
}
