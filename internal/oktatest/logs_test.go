package oktatest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// logEvent is the part of a served event the tests read.
type logEvent struct {
	UUID      string
	EventType string
	Published string
	Actor     struct{ ID, Type, AlternateID string }
	Outcome   struct{ Result string }
	Target    []struct{ ID, Type, AlternateID, DisplayName string }
}

func logPage(t *testing.T, srv *Server, target string) ([]logEvent, *http.Response) {
	t.Helper()
	resp, body := get(t, srv, target)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, body)
	}
	var evs []logEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatal(err)
	}
	return evs, resp
}

func logQuery(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/api/v1/logs?" + q.Encode()
}

// Without until the query is a poll: the next link never goes away, and
// events published later show up on it.
func TestLogsPollingWithoutUntil(t *testing.T) {
	org := Generate(small(21))
	clock := &fakeClock{now: org.Now}
	srv := NewServer(org, WithNow(clock.Now))
	defer srv.Close()
	since := org.Now.Add(-48 * time.Hour).Format(time.RFC3339)
	target := logQuery("since", since, "limit", "1000", "filter", `eventType eq "user.authentication.sso"`)
	seen := 0
	for range 5 {
		evs, resp := logPage(t, srv, target)
		seen += len(evs)
		next := links(resp)["next"]
		if next == "" {
			t.Fatal("a polling query lost its next link")
		}
		target = next
	}
	if want := org.SSOEvents(org.Now.Add(-48*time.Hour), org.Now); seen != want {
		t.Errorf("polled %d events, want %d", seen, want)
	}
	// A new sign-in arrives; the same next link now returns it.
	ev := org.Events[len(org.Events)-1]
	ev.UUID, ev.EventType, ev.Published = "00000000-0000-4000-8000-000000000001", EventSSO, org.Now.Add(time.Minute)
	if err := srv.Update(func(o *Org) error { o.AddEvents(ev); return nil }); err != nil {
		t.Fatal(err)
	}
	clock.Set(org.Now.Add(2 * time.Minute))
	evs, resp := logPage(t, srv, target)
	if len(evs) != 1 || evs[0].UUID != ev.UUID || links(resp)["next"] == "" {
		t.Errorf("poll after a new event = %+v, want just it and a next link", evs)
	}
}

func TestLogsWithUntil(t *testing.T) {
	srv, org := serve(t, small(22), WithLimits(map[Bucket]int{BucketLogs: 0}))
	since, until := org.Now.AddDate(0, 0, -30), org.Now.AddDate(0, 0, -10)
	var want, all []string
	for _, e := range org.Events {
		if !e.Published.Before(since) && e.Published.Before(until) {
			all = append(all, e.UUID)
			if e.EventType == EventSSO {
				want = append(want, e.UUID)
			}
		}
	}
	sso := `eventType eq "user.authentication.sso"`
	tests := []struct {
		name, target string
		want         []string
	}{
		{"sso ascending", logQuery("since", since.Format(time.RFC3339), "until", until.Format(time.RFC3339),
			"filter", sso, "limit", "40"), want},
		{"sso descending", logQuery("since", since.Format(time.RFC3339), "until", until.Format(time.RFC3339),
			"filter", sso, "limit", "40", "sortOrder", "DESCENDING"), reversed(want)},
		{"every type", logQuery("since", since.Format(time.RFC3339Nano), "until", until.Format(time.RFC3339Nano),
			"limit", "1000"), all},
		{"empty window", logQuery("since", until.Format(time.RFC3339), "until", until.Format(time.RFC3339)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := collect(t, srv, tc.target, "uuid")
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %d events, want %d in order", len(got), len(tc.want))
			}
		})
	}
	// The last page of a bounded query has no next link.
	_, resp := logPage(t, srv, tests[3].target)
	if links(resp)["next"] != "" {
		t.Error("a bounded, exhausted query offers a next page")
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// Served events carry what a sign-in reader needs, in Okta's shape.
func TestLogEventShape(t *testing.T) {
	srv, org := serve(t, small(23))
	evs, _ := logPage(t, srv, logQuery("since", org.Now.AddDate(0, 0, -120).Format(time.RFC3339),
		"until", org.Now.Format(time.RFC3339), "limit", "1000"))
	byUUID := map[string]Event{}
	for _, e := range org.Events {
		byUUID[e.UUID] = e
	}
	types, appFirst, appSecond := map[string]int{}, 0, 0
	for _, ev := range evs {
		want := byUUID[ev.UUID]
		types[ev.EventType]++
		pub, err := time.Parse("2006-01-02T15:04:05.000Z", ev.Published)
		if err != nil || !pub.Equal(want.Published) || ev.Actor.Type != "User" || ev.Actor.ID != want.ActorID ||
			ev.Actor.AlternateID != want.ActorLogin || ev.Outcome.Result != "SUCCESS" {
			t.Fatalf("event %+v does not match %+v", ev, want)
		}
		if ev.EventType != EventSSO {
			continue
		}
		for i, tg := range ev.Target {
			if tg.Type == "AppInstance" && tg.ID == want.AppID && tg.AlternateID == org.App(want.AppID).Label {
				if i == 0 {
					appFirst++
				} else {
					appSecond++
				}
			}
		}
	}
	if appFirst == 0 || appSecond == 0 || types[EventSSO] == 0 || types[EventSessionStart] == 0 {
		t.Errorf("types %v; AppInstance first %d, second %d: want all kinds", types, appFirst, appSecond)
	}
}
