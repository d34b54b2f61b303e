package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/syncbuf"
)

// TestServeSyncsAndAnswersHealth runs the main job: with no snapshot yet it
// syncs at start, /healthz answers at once, /readyz turns ready once the
// snapshot exists, and SIGTERM (context cancel) stops it cleanly.
func TestServeSyncsAndAnswersHealth(t *testing.T) {
	c, _ := withOkta(t, smallOrg("managerId"))
	c.env["ATTEST_CONFIG"] = c.write("attest.yaml", "http: {listen: \"127.0.0.1:0\"}\nokta: {sync_schedule: \"@every 1h\"}\n")
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, io.Discard, &stderr, func(k string) string { return c.env[k] })
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop after cancel")
		}
	}()
	addrRE := regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`)
	var base string
	deadline := time.Now().Add(10 * time.Second)
	for base == "" && time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("no listen address logged: %s", stderr.String())
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	var code int
	var body string
	for time.Now().Before(deadline.Add(20 * time.Second)) {
		if code, body = get("/readyz"); code == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != http.StatusOK || !strings.Contains(body, "snapshot 1") {
		t.Fatalf("/readyz = %d %q; log: %s", code, body, stderr.String())
	}
	code, body = get("/metrics")
	for _, want := range []string{"attest_store_up 1", "attest_snapshot_age_seconds", `attest_api_calls_total{outcome="ok",service="okta"}`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	for !strings.Contains(stderr.String(), "sync done") && time.Now().Before(deadline.Add(20*time.Second)) {
		time.Sleep(20 * time.Millisecond) // the snapshot is saved just before the log line
	}
	if !strings.Contains(stderr.String(), "sync done") {
		t.Errorf("no sync logged: %s", stderr.String())
	}
}
