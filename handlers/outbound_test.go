package handlers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// outboundRig is a Notifier over fakes with campaign 7 (stage 2): member
// 00uMEM, reviewed by 00uMGR, holds Salesforce; 00uORPHAN's Jira is the
// IAM team's.
type outboundRig struct {
	n   *Notifier
	box *fakeOutbox
	c   campaign.Campaign
}

func newOutbound(t *testing.T) *outboundRig {
	t.Helper()
	r := &outboundRig{box: &fakeOutbox{apps: []campaign.App{{ID: "0oaSF", Label: "Salesforce"}}},
		c: campaign.Campaign{ID: 7, Name: "Quarterly", State: campaign.StateStage2, SnapshotID: 3, Owner: "owner@example.com",
			Definition: &campaign.Definition{Name: "Quarterly"}, Stage1Ends: t0, Deadline: t0.Add(72 * time.Hour)}}
	cases := []campaign.CaseRecord{
		{ID: 1, CampaignID: 7, UserID: "00uMEM", Kind: campaign.KindApp, EntitlementID: "0oaSF", Label: "Salesforce", ReviewerID: "00uMGR",
			MemberDecision: "unsure"},
		{ID: 2, CampaignID: 7, UserID: "00uORPHAN", Kind: campaign.KindApp, EntitlementID: "0oaJIRA", Label: "Jira", MemberDecision: "unsure"},
	}
	cs := &fakeCampaigns{
		get: func(int64) (*campaign.Campaign, error) { c := r.c; return &c, nil },
		cases: func(_ int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error) {
			var out []campaign.CaseRecord
			for _, c := range cases {
				if q.UserID != "" && c.UserID != q.UserID || q.ReviewerID != nil && c.ReviewerID != *q.ReviewerID {
					continue
				}
				out = append(out, c)
			}
			return out, nil
		},
		findUser: func(key string) (campaign.User, error) {
			return campaign.User{ID: key, FirstName: "Mem", LastName: "Ber", Email: "mem@example.com"}, nil
		},
		plan: func(int64) ([]campaign.PlanItem, error) {
			return []campaign.PlanItem{{Seq: 1, Kind: "unassign_app", UserID: "00uMEM", AppID: "0oaSF", CaseIDs: []int64{1}}}, nil
		},
		approvals: func(int64) ([]campaign.Approval, error) { return nil, nil },
	}
	r.n = &Notifier{Outbox: r.box, Campaigns: cs, Settings: Settings{ApprovalsChannel: "CIAM"}, Log: zerolog.Nop(),
		Now: func() time.Time { return t0 },
		Reports: fakeReporter(func(id int64) (*campaign.Report, error) {
			return &campaign.Report{ID: id, ByState: map[string]int{}}, nil
		})}
	return r
}

// buttons returns the action ids and values of an item's buttons.
func buttons(t *testing.T, it slackrec.OutboxItem) map[string]string {
	t.Helper()
	var blks []map[string]any
	if err := json.Unmarshal(it.Payload.Blocks, &blks); err != nil {
		t.Fatalf("%s: blocks: %v", it.Key, err)
	}
	out := map[string]string{}
	for _, b := range blks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			m, _ := e.(map[string]any)
			if m["type"] == "button" {
				out[m["action_id"].(string)], _ = m["value"].(string)
			}
		}
	}
	return out
}

func TestNotifyForms(t *testing.T) {
	tests := []struct {
		name          string
		note          campaign.Notification
		key, target   string
		submit, value string
	}{
		{"member form", campaign.Notification{Kind: campaign.NoteMemberForm, To: "00uMEM", CampaignID: 7},
			"post:m:7:00uMEM:1:v1", "okta:00uMEM", blocks.ActionMemberSubmit, "m:7:00uMEM:1"},
		{"reviewer form", campaign.Notification{Kind: campaign.NoteReviewerForm, To: "00uMGR", CampaignID: 7, Members: []string{"00uMEM"}},
			"post:r:7:00uMGR:00uMEM:1:", "okta:00uMGR", blocks.ActionReviewerSubmit, "r:7:00uMEM:1"},
		{"the IAM team's form", campaign.Notification{Kind: campaign.NoteEscalated, CampaignID: 7, Members: []string{"00uORPHAN"}},
			"post:r:7::00uORPHAN:1:", "CIAM", blocks.ActionReviewerSubmit, "r:7:00uORPHAN:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newOutbound(t)
			if err := r.n.Notify(context.Background(), tc.note); err != nil {
				t.Fatal(err)
			}
			if len(r.box.items) != 1 {
				t.Fatalf("queued %d items", len(r.box.items))
			}
			it := r.box.items[0]
			if !strings.HasPrefix(it.Key, tc.key) || it.Target != tc.target {
				t.Errorf("item %s to %s, want %s to %s", it.Key, it.Target, tc.key, tc.target)
			}
			b := buttons(t, it)
			if b[tc.submit] != tc.value {
				t.Errorf("%s carries %q, want %q", tc.submit, b[tc.submit], tc.value)
			}
			for action, value := range b {
				if _, err := blocks.ParseAction(action, value); err != nil {
					t.Errorf("button %s: %v", action, err)
				}
			}
		})
	}
}

// An update replaces the very message its form page was posted as.
func TestShowTargetsTheFormsMessage(t *testing.T) {
	tests := []struct {
		name, viewer string
		ref          blocks.Ref
		target, key  string
	}{
		{"member", "00uMEM", blocks.MemberFormRef(7, "00uMEM", 1), "okta:00uMEM", "update:m:7:00uMEM:1:"},
		{"reviewer", "00uMGR", blocks.ReviewerFormRef(7, "00uMEM", 1), "okta:00uMGR", "update:r:7:00uMGR:00uMEM:1:"},
		{"IAM team", "", blocks.ReviewerFormRef(7, "00uORPHAN", 1), "CIAM", "update:r:7::00uORPHAN:1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newOutbound(t)
			c := r.c
			if err := r.n.ShowAnswered(context.Background(), &c, tc.ref, tc.viewer, "k"); err != nil {
				t.Fatal(err)
			}
			if err := r.n.ShowPage(context.Background(), &c, tc.ref, tc.viewer, "k2"); err != nil {
				t.Fatal(err)
			}
			for _, it := range r.box.items {
				if it.Target != tc.target || !strings.HasPrefix(it.Key, tc.key) || it.Kind != slackrec.KindUpdate {
					t.Errorf("item %s (%s) to %s, want %s… to %s", it.Key, it.Kind, it.Target, tc.key, tc.target)
				}
			}
			if b := buttons(t, r.box.items[0]); b[blocks.ActionEditAnswers] != tc.ref.Encode() {
				t.Errorf("edit button carries %q, want %q", b[blocks.ActionEditAnswers], tc.ref.Encode())
			}
		})
	}
}

func TestNotifyClosedPostsPlanAndCSV(t *testing.T) {
	r := newOutbound(t)
	r.c.State = campaign.StateClosed
	if err := r.n.Notify(context.Background(), campaign.Notification{Kind: campaign.NoteClosed, CampaignID: 7}); err != nil {
		t.Fatal(err)
	}
	if len(r.box.items) != 2 || r.box.items[0].Key != "post:approval:7" || r.box.items[1].Kind != slackrec.KindUpload {
		t.Fatalf("items: %+v", r.box.items)
	}
	b := buttons(t, r.box.items[0])
	if b[blocks.ActionPlanApprove] != "a:7:-:1" || b[blocks.ActionPlanReject] != "a:7:-:1" {
		t.Errorf("plan buttons: %v", b)
	}
}

// Plain-text APIs escape whole; mrkdwn APIs keep the caller's markup.
func TestPlainAndMarkupTexts(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		send func(n *Notifier) error
		want string
	}{
		{"PostTo escapes", func(n *Notifier) error { return n.PostTo(ctx, "CSEC", "k", "risk of <!channel> & co") }, "risk of &lt;!channel&gt; &amp; co"},
		{"NotifyIAM escapes", func(n *Notifier) error { return n.NotifyIAM(ctx, "k", "<https://evil|x>") }, "&lt;https://evil|x&gt;"},
		{"PostTo with no channel goes to the IAM team", func(n *Notifier) error { return n.PostTo(ctx, "", "k", "a<b") }, "a&lt;b"},
		{"PostDM keeps markup", func(n *Notifier) error { return n.PostDM(ctx, "00uMEM", "k", "*bold* <@U1>") }, "*bold* <@U1>"},
		{"DM keeps markup", func(n *Notifier) error { n.DM(ctx, "U1", "k", "`code` *b*"); return nil }, "`code` *b*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newOutbound(t)
			if err := tc.send(r.n); err != nil {
				t.Fatal(err)
			}
			if len(r.box.items) != 1 || r.box.items[0].Payload.Text != tc.want {
				t.Fatalf("items %+v, want text %q", r.box.items, tc.want)
			}
		})
	}
}

func TestNotifyIAMWithoutChannelDoesNothing(t *testing.T) {
	r := newOutbound(t)
	r.n.Settings.ApprovalsChannel = ""
	if err := r.n.NotifyIAM(context.Background(), "k", "x"); err != nil || len(r.box.items) != 0 {
		t.Fatalf("queued %d items, err %v", len(r.box.items), err)
	}
}

func TestPostReportEscapesTheName(t *testing.T) {
	r := newOutbound(t)
	text, err := r.n.PostReport(context.Background(), &campaign.Report{ID: 7, Name: "<!here> review", State: campaign.StateClosed,
		ByState: map[string]int{"kept": 2}}, "report:1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "<!here>") || !strings.Contains(text, "2 kept") || r.box.items[0].Kind != slackrec.KindUpload {
		t.Fatalf("report text %q, items %+v", text, r.box.items)
	}
}

func TestStatus(t *testing.T) {
	r := newOutbound(t)
	r.n.Reports = fakeReporter(func(id int64) (*campaign.Report, error) {
		return &campaign.Report{ID: id, Cases: 10, ByState: map[string]int{"answered_by_member": 4, "revoked": 1},
			PerReviewer: []campaign.ProgressRow{{Name: "<!here>@example.com", Cases: 3, Open: 2}, {Name: "done@example.com", Cases: 2}}}, nil
	})
	r.c.Deadline = t0.Add(12 * time.Hour) // within a day: open reviewers are overdue
	c := r.c
	s, err := r.n.StatusView(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	if s.Stage1Answered != 4 || s.Stage1Total != 10 || s.Stage2Total != 5 || len(s.Overdue) != 1 || s.Revoked != 1 {
		t.Fatalf("status %+v", s)
	}
	r.n.PostStatus(context.Background(), &c)
	if err := r.n.RefreshStatus(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	if len(r.box.items) != 2 || r.box.items[0].Key != "post:status:7" || r.box.items[1].Key != "update:status:7:2026-11-20T12:00:00Z" {
		t.Fatalf("items %+v", r.box.items)
	}
	for _, it := range r.box.items {
		if strings.Contains(string(it.Payload.Blocks), "<!here>") {
			t.Errorf("%s: a reviewer's name acts: %s", it.Key, it.Payload.Blocks)
		}
	}
}

func TestWatchDeliveryTellsTheLauncher(t *testing.T) {
	r := newOutbound(t)
	r.c.Name = "<!channel> review"
	r.box.progress = func(prefix string) (map[string]int, error) {
		if prefix != "post:r:7:" {
			t.Errorf("progress of %q", prefix)
		}
		return map[string]int{"sent": 9, "failed": 1}, nil
	}
	c := r.c
	r.n.WatchDelivery(context.Background(), &c, "00uADMIN")
	if len(r.box.items) != 1 || r.box.items[0].Target != "okta:00uADMIN" {
		t.Fatalf("items %+v", r.box.items)
	}
	text := r.box.items[0].Payload.Text
	if !strings.Contains(text, "forms delivered 10 of 10 (100%)") || !strings.Contains(text, "1 could not be delivered") ||
		strings.Contains(text, "<!channel>") {
		t.Errorf("delivery note %q", text)
	}
}

func TestSweepMessages(t *testing.T) {
	r := newOutbound(t)
	findings := []campaign.Finding{{Kind: "stale_user", Email: "<!here>@example.com", Detail: "no sign-in in 120 days"}}
	if err := r.n.PostSweep(context.Background(), 4, findings, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.n.SweepLaunched(context.Background(), 4, 1, "Review launched by <!channel>: campaign 8."); err != nil {
		t.Fatal(err)
	}
	if len(r.box.items) != 3 {
		t.Fatalf("items %+v", r.box.items)
	}
	if b := buttons(t, r.box.items[0]); b[blocks.ActionSweepReview] != "s:4:-:1" {
		t.Errorf("sweep button %v", b)
	}
	for _, it := range []slackrec.OutboxItem{r.box.items[0], r.box.items[2]} {
		if strings.Contains(string(it.Payload.Blocks), "<!") {
			t.Errorf("%s: data acts: %s", it.Key, it.Payload.Blocks)
		}
	}
	if r.box.items[2].Key != "update:sweep:4:launched" || len(buttons(t, r.box.items[2])) != 0 {
		t.Errorf("launched update %+v", r.box.items[2])
	}
}

// The live status is worked out once a minute however many answers
// arrive: a refresh in a minute already refreshed reads no report and
// queues nothing; the next minute's does both.
func TestStatusRefreshOncePerMinute(t *testing.T) {
	r := newOutbound(t)
	reports := 0
	r.n.Reports = fakeReporter(func(id int64) (*campaign.Report, error) {
		reports++
		return &campaign.Report{ID: id, Cases: 10, ByState: map[string]int{"answered_by_member": reports}}, nil
	})
	now := t0
	r.n.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := r.n.RefreshStatus(ctx, 7); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Second)
	}
	if reports != 1 || len(r.box.items) != 1 || r.box.items[0].Key != "update:status:7:2026-11-20T12:00:00Z" {
		t.Fatalf("within a minute: %d reports, items %+v; want one of each", reports, r.box.items)
	}
	now = t0.Add(time.Minute)
	if err := r.n.RefreshStatus(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if reports != 2 || len(r.box.items) != 2 || r.box.items[1].Key != "update:status:7:2026-11-20T12:01:00Z" {
		t.Fatalf("next minute: %d reports, items %+v; want a second of each", reports, r.box.items)
	}
}
