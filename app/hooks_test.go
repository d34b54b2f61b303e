package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
)

// hookDelivery is a delivery of one Okta event granting app to user.
func hookDelivery(uuid, userID string, app oktatest.App) string {
	return fmt.Sprintf(`{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":%q,"published":"2026-11-24T09:15:02.123Z",
	"eventType":"application.user_membership.add","actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},
	"outcome":{"result":"SUCCESS"},"target":[{"id":%q,"type":"AppInstance","alternateId":%q,"displayName":%q},
	{"id":%q,"type":"User","alternateId":"someone"}]}]}}`, uuid, app.ID, app.Label, app.Label, userID)
}

// TestServeEventHooks: serve takes deliveries on /okta/events; a critical
// grant to an account created after the sync opens a review with the
// account's manager (read from the fake Okta); a grant to a user Okta does
// not know reaches the approvals channel as a notice; /metrics counts
// the events by state.
func TestServeEventHooks(t *testing.T) {
	noLeaks(t)
	r := newRig(t)
	r.env["OKTA_EVENT_HOOK_SECRET"] = "hook-secret-value"
	critical := r.org.Apps[1]
	cfg := r.config(fmt.Sprintf("risk: {apps: {%q: critical}}\n", critical.Label))
	ctx := context.Background()
	a, err := app.New(ctx, cfg, r.log())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	eventually(t, "ready", func() bool { _, err := a.Ready(rctx); return err == nil })

	manager := r.org.Users[2]
	newcomer := oktatest.User{ID: "00unewcomer00000002", Login: "nico.new@example.com", Email: "nico.new@example.com",
		FirstName: "Nico", LastName: "New", ManagerID: manager.ID}
	if err := r.okta.CreateUser(newcomer); err != nil {
		t.Fatal(err)
	}
	url := "http://" + a.Addr().String()
	post := func(body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url+"/okta/events", strings.NewReader(body))
		req.Header.Set("Authorization", "hook-secret-value")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery = %s", resp.Status)
		}
	}
	post(hookDelivery("ev-serve-new", newcomer.ID, critical))
	post(hookDelivery("ev-serve-ghost", "00ughost000000000002", critical))

	var review *campaign.Campaign
	eventually(t, "the newcomer's review opened", func() bool {
		review, err = a.Store.CampaignByTrigger(rctx, "event:ev-serve-new")
		return err == nil
	})
	cases, err := a.Store.Cases(rctx, review.ID, campaign.CaseQuery{})
	if err != nil || len(cases) != 1 || cases[0].UserID != newcomer.ID || cases[0].ReviewerID != manager.ID {
		t.Fatalf("cases = %+v, %v; want the newcomer's, reviewed by their manager", cases, err)
	}
	eventually(t, "the IAM team told of the unreviewable grant", func() bool {
		for _, m := range r.slack.AllMessages() {
			if m.Channel == approvals && strings.Contains(m.Text, "00ughost000000000002") && strings.Contains(m.Text, "Could not review") {
				return true
			}
		}
		return false
	})
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`attest_event_hook_events{state="done"} 1`, `attest_event_hook_events{state="failed"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
