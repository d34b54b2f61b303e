package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

func TestAddApprovalIsIdempotent(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, sampleCases())
	// Issue 10: a plan is decided only while its campaign is closed.
	closed := *c
	closed.State = campaign.StateClosed
	if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, nil, nil, nil, campaign.Event{Type: "campaign.closed", Actor: owner}); err != nil {
		t.Fatal(err)
	}
	ann := campaign.Approval{Approver: "ann@x.com", Decision: "approve", At: t0.Add(3 * time.Hour)}
	bob := campaign.Approval{Approver: "bob@x.com", Decision: "reject", At: t0.Add(2*time.Hour + time.Second/2)}
	for _, tc := range []struct {
		name   string
		a      campaign.Approval
		want   []campaign.Approval
		events int
	}{
		{"first approval", ann, []campaign.Approval{ann}, 3},
		{"second click changes nothing", campaign.Approval{Approver: "ann@x.com", Decision: "reject", At: t0.Add(4 * time.Hour)},
			[]campaign.Approval{ann}, 3},
		{"another approver, earlier", bob, []campaign.Approval{bob, ann}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.AddApproval(ctx, c.ID, tc.a, campaign.Event{Type: "plan." + tc.a.Decision, Actor: campaign.Actor{Email: tc.a.Approver}})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("approvals = %+v, want %+v", got, tc.want)
			}
			if events, err := st.Events(ctx, c.ID); err != nil || len(events) != tc.events {
				t.Fatalf("events = %d (%v), want %d", len(events), err, tc.events)
			}
		})
	}
}

func TestMarkReminderOnce(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	c := createCampaign(t, st, snap, sampleCases())
	slot := t0.Add(24 * time.Hour)
	for _, tc := range []struct {
		name   string
		person string
		slot   time.Time
		want   bool
		events int
	}{
		{"first reminder", "00u1", slot, true, 2},
		{"same slot again", "00u1", slot, false, 2},
		{"same slot, other zone", "00u1", slot.In(time.FixedZone("CET", 3600)), false, 2},
		{"other person", "00u2", slot, true, 3},
		{"next slot", "00u1", slot.Add(24 * time.Hour), true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.MarkReminder(ctx, c.ID, tc.person, tc.slot, campaign.Event{Type: "reminder.sent", Actor: campaign.System})
			if err != nil || got != tc.want {
				t.Fatalf("MarkReminder = %v, %v; want %v", got, err, tc.want)
			}
			if events, err := st.Events(ctx, c.ID); err != nil || len(events) != tc.events {
				t.Fatalf("events = %d (%v), want %d", len(events), err, tc.events)
			}
		})
	}
}

func TestCertificationHistory(t *testing.T) {
	ctx := context.Background()
	st, snap := openCampaignStore(t)
	key := func(user string) campaign.EntitlementKey {
		return campaign.EntitlementKey{UserID: user, Kind: campaign.KindApp, EntitlementID: "0oa1"}
	}
	rec := func(user string, at time.Time, outcome string) campaign.Certification {
		return campaign.Certification{EntitlementKey: key(user), CertifiedAt: at, Outcome: outcome, DecidedBy: "b@x.com"}
	}
	// Three campaigns; the text of 09:00:00Z sorts after 09:00:00.5Z, so
	// this also checks that instants, not strings, are compared.
	whole, half, later := t0, t0.Add(time.Second/2), t0.AddDate(0, 3, 0)
	closes := [][]campaign.Certification{
		{rec("ann", whole, campaign.OutcomeKept), rec("bob", later, campaign.OutcomeKept)},
		{rec("ann", half, campaign.OutcomeRevoked)},
		{rec("bob", whole, campaign.OutcomeRevoked), rec("cat", whole, campaign.OutcomeKept)},
	}
	var ids []int64
	for _, h := range closes {
		c := createCampaign(t, st, snap, sampleCases()[:1])
		closed := *c
		closed.State = campaign.StateClosed
		if err := st.CloseCampaign(ctx, &closed, campaign.StateStage1, nil, nil, h, campaign.Event{Type: "campaign.closed"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	got, err := st.Certifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[campaign.EntitlementKey]campaign.Certification{}
	for _, w := range []struct {
		c  campaign.Certification
		id int64
	}{{closes[1][0], ids[1]}, {closes[0][1], ids[0]}, {closes[2][1], ids[2]}} {
		w.c.CampaignID = w.id
		want[w.c.EntitlementKey] = w.c
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("latest:\n got  %+v\n want %+v", got, want)
	}

	for _, tc := range []struct {
		name   string
		before time.Time
		n      int64
		left   int
	}{
		{"nothing older", whole, 0, 3},
		{"the whole-second records", half, 3, 2},
		{"again", half, 0, 2},
		{"all but the latest", later, 1, 1},
	} {
		t.Run("prune "+tc.name, func(t *testing.T) {
			n, err := st.PruneHistory(ctx, tc.before)
			if err != nil || n != tc.n {
				t.Fatalf("pruned %d, %v; want %d", n, err, tc.n)
			}
			if got, err := st.Certifications(ctx); err != nil || len(got) != tc.left {
				t.Fatalf("left %d keys, %v; want %d", len(got), err, tc.left)
			}
		})
	}
}

func TestScheduleRuns(t *testing.T) {
	ctx := context.Background()
	st, _ := openCampaignStore(t)
	jan, feb := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	if last, err := st.LastScheduleRun(ctx, "q.yaml"); err != nil || !last.IsZero() {
		t.Fatalf("no runs yet: last = %v, %v", last, err)
	}
	for _, tc := range []struct {
		name string
		def  string
		slot time.Time
		want bool
	}{
		{"first claim", "q.yaml", jan, true},
		{"second scheduler loses", "q.yaml", jan, false},
		{"next slot", "q.yaml", feb, true},
		{"other definition, same slot", "admins.yaml", jan, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.ClaimScheduleRun(ctx, tc.def, tc.slot, tc.slot.Add(time.Minute))
			if err != nil || got != tc.want {
				t.Fatalf("claim = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if last, err := st.LastScheduleRun(ctx, "q.yaml"); err != nil || !last.Equal(feb) {
		t.Fatalf("last = %v, %v; want %v", last, err, feb)
	}
	if err := st.SetScheduleRunCampaign(ctx, "q.yaml", feb, 7); err != nil {
		t.Fatal(err)
	}
	if run, err := st.ScheduleRun(ctx, "q.yaml", feb); err != nil || run.CampaignID != 7 || !run.StartedAt.Equal(feb.Add(time.Minute)) {
		t.Fatalf("run = %+v, %v", run, err)
	}
	if err := st.SetScheduleRunCampaign(ctx, "q.yaml", feb.AddDate(0, 1, 0), 8); err == nil {
		t.Fatal("setting the campaign of an unclaimed run must fail")
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	st, _ := openCampaignStore(t)
	full := campaign.Event{At: t0, CampaignID: 5, CaseID: 9, Type: "case.answered",
		Actor:  campaign.Actor{UserID: "00u1", Email: "a@x.com", Via: "slack", SlackUserID: "U1", SlackTeamID: "T1"},
		Detail: map[string]any{"decision": "keep", "nested": map[string]any{"n": 2.5}}}
	bare := campaign.Event{CampaignID: 5, Type: "reminder.sent", Actor: campaign.System}
	for _, ev := range []campaign.Event{full, bare} {
		if err := st.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Events(ctx, 5)
	if err != nil || len(got) != 2 {
		t.Fatalf("events = %+v, %v", got, err)
	}
	full.ID, bare.ID, bare.At = got[0].ID, got[1].ID, st.Now()
	if !reflect.DeepEqual(got, []campaign.Event{full, bare}) {
		t.Fatalf("events:\n got  %+v\n want %+v", got, []campaign.Event{full, bare})
	}
	for _, tc := range []struct{ name, q string }{
		{"update", `UPDATE audit_log SET type = 'x'`},
		{"delete", `DELETE FROM audit_log`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.db.ExecContext(ctx, tc.q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("err = %v, want the append-only trigger's refusal", err)
			}
		})
	}
	if got, err := st.Events(ctx, 5); err != nil || len(got) != 2 || got[0].Type != full.Type {
		t.Fatalf("events after refused changes = %+v, %v", got, err)
	}
}
