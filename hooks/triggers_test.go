package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/hookevent"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/storetest"
)

// grantEvent is an Okta event granting target (type typ) to user.
func grantEvent(uuid, eventType, userID, targetType, targetID, label string) string {
	return fmt.Sprintf(`{"uuid":%q,"published":"2026-11-24T09:15:02.123Z","eventType":%q,"version":"0",
	"actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},"outcome":{"result":"SUCCESS"},
	"target":[{"id":%q,"type":%q,"alternateId":%q,"displayName":%q},{"id":%q,"type":"User","alternateId":"u"}],
	"debugContext":{"debugData":{}}}`, uuid, eventType, targetID, targetType, label, label, userID)
}

// Each trigger end to end: the delivery is stored, the processor hands it
// to the triggers, and a risky grant opens exactly one manager review;
// an ordinary grant is ignored; a risk detection alerts and reviews the
// user's risky access.
func TestTriggersEndToEnd(t *testing.T) {
	ctx := context.Background()
	org := oktatest.Generate(oktatest.Params{Seed: 4, Users: 80, Apps: 8, Groups: 12})
	st := storetest.WithOrg(t, org)
	critical, plain := org.Apps[0], org.Apps[1]
	rules := campaign.RiskRules{Apps: map[string]string{critical.Label: "critical"}}
	eng := &campaign.Engine{Store: st, Risk: rules.Level, Now: func() time.Time { return org.Now }}
	var alerts, incidents []string
	tr := &hooks.Triggers{Engine: eng, Risk: rules.Level, IAMReviewers: []string{org.Users[0].Email},
		Alert:    func(_ context.Context, _, text string) error { alerts = append(alerts, text); return nil },
		Incident: func(_ context.Context, key, _ string) error { incidents = append(incidents, key); return nil },
		Access: func(ctx context.Context, userID string) ([]campaign.Grant, error) {
			return eng.RiskyAccess(ctx, userID, "high")
		}}
	h := &hooks.Handler{Secret: "hook-secret", Store: st, Log: zerolog.Nop()}
	srv := httptest.NewServer(h)
	defer srv.Close()
	deliver := func(events ...string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(deliveryBody(events...)))
		req.Header.Set("Authorization", "hook-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	// A user holding the critical app, for the risk detection.
	var holder string
	for _, au := range org.AppUsers(critical.ID) {
		holder = au.UserID
		break
	}
	member := org.Users[5].ID
	deliver(grantEvent("ev-crit", "application.user_membership.add", member, "AppInstance", critical.ID, critical.Label),
		grantEvent("ev-plain", "application.user_membership.add", member, "AppInstance", plain.ID, plain.Label))
	deliver(grantEvent("ev-crit", "application.user_membership.add", member, "AppInstance", critical.ID, critical.Label)) // Okta's retry
	deliver(fmt.Sprintf(`{"uuid":"ev-risk","published":"2026-11-24T09:20:00Z","eventType":"user.risk.detect","version":"0",
	"actor":{"id":"system","type":"PublicClientApp"},"outcome":{"result":"SUCCESS"},
	"target":[{"id":%q,"type":"User","alternateId":"holder@example.com"}],
	"debugContext":{"debugData":{"risk":"{previousLevel=LOW, level=HIGH, detectionName=Session Influenced User Risk}"}}}`, holder))
	p := &hooks.Processor{Store: st, Handle: tr.Handle, Log: zerolog.Nop()}
	for i := 0; i < 3; i++ {
		if _, err := p.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := st.ListCampaigns(ctx)
	byTrigger := map[string]int{}
	for _, c := range list {
		byTrigger[c.Trigger]++
	}
	if byTrigger["event:ev-crit"] != 1 {
		t.Fatalf("reviews of the critical grant = %d, want 1 (campaigns %v)", byTrigger["event:ev-crit"], byTrigger)
	}
	for trig := range byTrigger {
		if strings.Contains(trig, "ev-plain") {
			t.Fatal("an ordinary grant opened a review")
		}
	}
	if len(incidents) != 1 || incidents[0] != "risk:ev-risk" {
		t.Fatalf("incidents = %v, want one for the HIGH risk", incidents)
	}
	if byTrigger["event:ev-risk:"+critical.ID] != 1 || len(alerts) != 1 || !strings.Contains(alerts[0], "HIGH") {
		t.Fatalf("risk detection: reviews %v, alerts %v", byTrigger, alerts)
	}
	for _, uuid := range []string{"ev-crit", "ev-plain", "ev-risk"} {
		ev, err := st.HookEvent(ctx, uuid)
		if err != nil || ev.State == hookevent.StatePending || ev.State == hookevent.StateFailed {
			t.Fatalf("event %s: %+v %v", uuid, ev.State, err)
		}
	}
}

// A membership of a privileged group (rated high) opens a review; an
// ordinary group's does not.
func TestPrivilegedGroupTrigger(t *testing.T) {
	ctx := context.Background()
	org := oktatest.Generate(oktatest.Params{Seed: 4, Users: 80, Apps: 8, Groups: 12})
	st := storetest.WithOrg(t, org)
	admins, plain := org.Groups[1], org.Groups[2]
	rules := campaign.RiskRules{Groups: map[string]string{admins.Name: "high"}}
	eng := &campaign.Engine{Store: st, Risk: rules.Level, Now: func() time.Time { return org.Now }}
	tr := &hooks.Triggers{Engine: eng, Risk: rules.Level}
	user := org.Users[7].ID
	for _, g := range []oktatest.Group{admins, plain} {
		ev := hookevent.Event{UUID: "ev-" + g.ID, EventType: "group.user_membership.add", Outcome: hookevent.Outcome{Result: "SUCCESS"},
			Target: []hookevent.Target{{ID: g.ID, Type: "UserGroup", DisplayName: g.Name}, {ID: user, Type: "User"}}}
		err := tr.Handle(ctx, ev)
		if g.ID == plain.ID && !errors.Is(err, hooks.ErrIgnore) {
			t.Fatalf("ordinary group: %v, want ignored", err)
		}
		if g.ID == admins.ID && err != nil {
			t.Fatal(err)
		}
	}
	list, _ := st.ListCampaigns(ctx)
	if len(list) != 1 || list[0].Trigger != "event:ev-"+admins.ID {
		t.Fatalf("campaigns = %+v", list)
	}
	cases, _ := st.Cases(ctx, list[0].ID, campaign.CaseQuery{})
	if len(cases) != 1 || cases[0].Kind != campaign.KindGroup || cases[0].EntitlementID != admins.ID || cases[0].Risk != "high" {
		t.Fatalf("cases = %+v", cases)
	}
}
