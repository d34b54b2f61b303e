package slacktest

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func reviewModal(title string) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain(title), Submit: plain("Save"), CallbackID: "review",
		PrivateMetadata: "case-1", ExternalID: "ext-" + title,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("reason", plain("Why"), nil, slack.NewPlainTextInputBlockElement(nil, "reason_input")),
		}},
	}
}

// fakeClock is a clock tests move by hand; safe for the server's goroutines.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Unix(1700000000, 0).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestTriggerIDs(t *testing.T) {
	clock := newFakeClock()
	s, api := start(t, WithClock(clock.Now))
	c := ctx(t)
	used := s.NewTriggerID()
	if _, err := api.OpenViewContext(c, used, reviewModal("First")); err != nil {
		t.Fatalf("fresh trigger: %v", err)
	}

	tests := []struct {
		name    string
		trigger func() string
		want    string
	}{
		{"used twice", func() string { return used }, "expired_trigger_id"},
		{"3s old passes", func() string { id := s.NewTriggerID(); clock.Advance(3 * time.Second); return id }, ""},
		{"just over 3s old", func() string { id := s.NewTriggerID(); clock.Advance(3*time.Second + time.Millisecond); return id }, "expired_trigger_id"},
		{"never issued", func() string { return "123.456.abc" }, "invalid_trigger_id"},
		{"missing", func() string { return "" }, "invalid_arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"trigger_id": tt.trigger(), "view": reviewModal("Again")})
			req, _ := newJSONRequest(s.APIURL()+"views.open", string(body))
			resp, err := s.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				Error string `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			if out.Error != tt.want {
				t.Errorf("error %q, want %q", out.Error, tt.want)
			}
		})
	}
}

func TestTriggerTTL(t *testing.T) {
	clock := newFakeClock()
	s, api := start(t, WithClock(clock.Now), WithTriggerTTL(time.Millisecond))
	trigger := s.NewTriggerID()
	clock.Advance(5 * time.Millisecond)
	_, err := api.OpenViewContext(ctx(t), trigger, reviewModal("Late"))
	if got := slackErr(t, err); got != "expired_trigger_id" {
		t.Errorf("error %q", got)
	}
}

func TestViewLifecycle(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	opened, err := api.OpenViewContext(c, s.NewTriggerID(), reviewModal("Review"))
	if err != nil {
		t.Fatal(err)
	}
	v := opened.View
	if v.ID == "" || v.RootViewID != v.ID || v.Hash == "" || v.CallbackID != "review" || v.PrivateMetadata != "case-1" || v.Title.Text != "Review" {
		t.Fatalf("opened view: %+v", v)
	}
	sub, err := s.ViewSubmission(User{ID: "U1", Name: "alice"}, v.ID, map[string]map[string]StateValue{
		"reason": {"reason_input": {Value: "still needed"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := api.PushViewContext(c, sub["trigger_id"].(string), reviewModal("Confirm"))
	if err != nil || pushed.View.RootViewID != v.ID || pushed.View.PreviousViewID != v.ID {
		t.Fatalf("pushed: %+v %v", pushed, err)
	}

	tests := []struct {
		name       string
		externalID string
		hash       string
		viewID     string
		want       string
	}{
		{"by id with the hash", "", v.Hash, v.ID, ""},
		{"by id with a stale hash", "", v.Hash, v.ID, "hash_conflict"},
		{"by external id", "ext-Review", "", "", ""},
		{"unknown id", "", "", "V404", "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.UpdateViewContext(c, reviewModal("Review"), tt.externalID, tt.hash, tt.viewID)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
		})
	}

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("Your reviews")}}}
	first, err := api.PublishViewContext(c, slack.PublishViewContextRequest{UserID: "U1", View: home})
	if err != nil {
		t.Fatal(err)
	}
	second, err := api.PublishViewContext(c, slack.PublishViewContextRequest{UserID: "U1", View: home})
	if err != nil || second.View.ID != first.View.ID {
		t.Errorf("republished Home tab %q, want the same id %q: %v", second.View.ID, first.View.ID, err)
	}
	if _, err := api.PublishViewContext(c, slack.PublishViewContextRequest{UserID: "U404", View: home}); slackErr(t, err) != "user_not_found" {
		t.Errorf("publish for an unknown user: %v", err)
	}

	views := s.Views()
	methods := []string{"views.open", "views.push", "views.update", "views.update", "views.publish", "views.publish"}
	if len(views) != len(methods) {
		t.Fatalf("%d views recorded: %+v", len(views), views)
	}
	for i, m := range methods {
		if views[i].Method != m {
			t.Errorf("view %d: %s, want %s", i, views[i].Method, m)
		}
	}
	if views[4].Kind != "home" || views[4].UserID != "U1" || views[0].TriggerID == "" {
		t.Errorf("records: %+v", views)
	}
	var stored map[string]any
	if err := json.Unmarshal(views[0].JSON, &stored); err != nil || stored["id"] != v.ID {
		t.Errorf("stored JSON: %s", views[0].JSON)
	}
}
