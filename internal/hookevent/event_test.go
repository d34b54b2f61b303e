package hookevent_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/hookevent"
	"github.com/attestbot/attest/internal/oktatest"
)

func TestDecodeEvent(t *testing.T) {
	ev, err := hookevent.DecodeEvent([]byte(oktatest.HookEvent("u-1", "application.user_membership.add", `{"requestUri":"/x"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if ev.UUID != "u-1" || ev.EventType != "application.user_membership.add" || ev.Severity != "INFO" ||
		ev.Actor.AlternateID != "admin@example.com" || ev.Outcome.Result != "SUCCESS" || ev.Client.IPAddress != "203.0.113.7" ||
		!ev.Published.Equal(time.Date(2026, 11, 24, 9, 15, 2, 123e6, time.UTC)) {
		t.Fatalf("decoded = %+v", ev)
	}
	// Raw keeps what attest does not model.
	var raw map[string]any
	if err := json.Unmarshal(ev.Raw, &raw); err != nil || raw["legacyEventType"] != "app.generic.provision.assign_user_to_app" {
		t.Fatalf("raw = %s, %v", ev.Raw, err)
	}
	if strings.ContainsAny(string(ev.Raw), "\n") {
		t.Fatalf("raw is not compacted: %s", ev.Raw)
	}
	tests := []struct {
		name string
		get  func(hookevent.Event) (hookevent.Target, bool)
		want string
	}{
		{"app instance", hookevent.Event.AppInstance, "0oapayroll"},
		{"user", hookevent.Event.UserTarget, "00ubob"},
		{"group", hookevent.Event.GroupTarget, "00gfinance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := tc.get(ev); !ok || got.ID != tc.want {
				t.Fatalf("got %+v, %v; want %s", got, ok, tc.want)
			}
			if _, ok := tc.get(hookevent.Event{}); ok {
				t.Fatal("found a target in an event without targets")
			}
		})
	}
	if app, _ := ev.AppInstance(); app.DetailEntry["signOnModeType"] != "SAML_2_0" {
		t.Fatalf("detailEntry = %v", app.DetailEntry)
	}
	// With several targets of a type, the accessors return the first;
	// events that need the others read Target.
	two := hookevent.Event{Target: []hookevent.Target{{ID: "g0", Type: "Group"}, {ID: "u1", Type: "User"}, {ID: "u2", Type: "User"}}}
	if u, ok := two.UserTarget(); !ok || u.ID != "u1" {
		t.Fatalf("UserTarget = %+v, %v; want u1", u, ok)
	}
	if g, ok := two.GroupTarget(); ok {
		t.Fatalf("GroupTarget matched %+v; a Group is not a UserGroup", g)
	}
}

func TestDecodeEventRejects(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"not JSON", `{"uuid":`},
		{"not an object", `"u-1"`},
		{"no uuid", `{"eventType":"user.risk.detect"}`},
		{"blank uuid", `{"uuid":"  "}`},
		{"wrong type", `{"uuid":"u","target":{"id":"x"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := hookevent.DecodeEvent([]byte(tc.raw)); err == nil {
				t.Fatal("decoded; want an error")
			}
		})
	}
	// A published time Okta might format differently is not a reason to
	// lose the event.
	ev, err := hookevent.DecodeEvent([]byte(`{"uuid":"u","published":"yesterday"}`))
	if err != nil || !ev.Published.IsZero() {
		t.Fatalf("odd published = %v, %v", ev.Published, err)
	}
}

func TestRiskLevel(t *testing.T) {
	tests := []struct {
		name      string
		debugData string
		want      string
	}{
		{"ITP user.risk.detect", `{"risk":"{previousLevel=LOW, level=HIGH, detectionName=Session Influenced User Risk, reasons=Anomalous Device, New IP}"}`, "HIGH"},
		{"level before previousLevel", `{"risk":"{level=MEDIUM, previousLevel=HIGH}"}`, "MEDIUM"},
		{"only previousLevel", `{"risk":"{previousLevel=HIGH, detectionName=x}"}`, ""},
		{"sign-in risk with reasons", `{"risk":"{reasons=Anomalous Geo-Distance, New Device, level=low}"}`, "LOW"},
		{"risk as an object", `{"risk":{"level":"high","reasons":"x"}}`, "HIGH"},
		{"riskLevel", `{"riskLevel":"MEDIUM"}`, "MEDIUM"},
		{"risk map wins over riskLevel", `{"risk":"{level=HIGH}","riskLevel":"LOW"}`, "HIGH"},
		{"bare risk", `{"risk":" high "}`, "HIGH"},
		{"riskLevel wins over a map without level", `{"risk":"{reasons=x}","riskLevel":"LOW"}`, "LOW"},
		{"map without level", `{"risk":"{reasons=x}"}`, ""},
		{"no risk", `{"requestUri":"/api/v1/users"}`, ""},
		{"not a string", `{"riskLevel":3}`, ""},
		{"no debugData", `null`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := hookevent.DecodeEvent([]byte(oktatest.HookEvent("u", "user.risk.detect", tc.debugData)))
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.RiskLevel(); got != tc.want {
				t.Fatalf("RiskLevel() = %q; want %q", got, tc.want)
			}
		})
	}
}
