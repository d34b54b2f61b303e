package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/hookevent"
	"github.com/attestbot/attest/store"
)

const secret = "s3cr3t-hook-value"

// openStore opens a real SQLite store in a temporary directory.
func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	return openStoreAt(tb, tb.TempDir())
}

// openStoreAt opens the store attest.db in dir, closed when the test ends.
func openStoreAt(tb testing.TB, dir string) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "attest.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// stored counts the events in the store, whatever their state.
func stored(tb testing.TB, st *store.Store) int {
	tb.Helper()
	counts, err := st.HookEventCounts(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// call sends one request straight to h and returns the recorded answer.
func call(h http.Handler, method, auth, body string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/okta/events", strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestVerification(t *testing.T) {
	tests := []struct {
		name   string
		header string // the handler's Header; "" is Authorization
		send   map[string]string
		want   int
	}{
		{"right secret", "", map[string]string{"Authorization": secret, hooks.ChallengeHeader: "chal-1"}, http.StatusOK},
		{"wrong secret", "", map[string]string{"Authorization": "nope", hooks.ChallengeHeader: "chal-1"}, http.StatusUnauthorized},
		{"secret as a prefix", "", map[string]string{"Authorization": secret + "x", hooks.ChallengeHeader: "chal-1"}, http.StatusUnauthorized},
		{"no secret", "", map[string]string{hooks.ChallengeHeader: "chal-1"}, http.StatusUnauthorized},
		{"no challenge", "", map[string]string{"Authorization": secret}, http.StatusBadRequest},
		{"custom header", "X-Attest-Hook", map[string]string{"X-Attest-Hook": secret, hooks.ChallengeHeader: "chal-1"}, http.StatusOK},
		{"custom header, secret in Authorization", "X-Attest-Hook", map[string]string{"Authorization": secret, hooks.ChallengeHeader: "chal-1"}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &hooks.Handler{Secret: secret, Header: tc.header, Store: openStore(t)}
			w := call(h, http.MethodGet, "", "", tc.send)
			if w.Code != tc.want {
				t.Fatalf("status = %d; want %d (%s)", w.Code, tc.want, w.Body)
			}
			if tc.want != http.StatusOK {
				if strings.Contains(w.Body.String(), "chal-1") {
					t.Fatalf("challenge echoed to an unauthenticated caller: %s", w.Body)
				}
				return
			}
			var got map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got) != 1 || got["verification"] != "chal-1" {
				t.Fatalf("body = %s, %v", w.Body, err)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type = %q", ct)
			}
			if s := h.Stats(); s.Verifications != 1 {
				t.Fatalf("stats = %+v", s)
			}
		})
	}
}

func TestDelivery(t *testing.T) {
	valid := deliveryBody(oktaEvent("u-1", "user.risk.detect", `{}`), oktaEvent("u-2", "group.user_membership.add", `{}`))
	tests := []struct {
		name   string
		method string
		auth   string
		body   string
		max    int64
		want   int
		stored int
		stats  hooks.Stats
	}{
		{"valid", "POST", secret, valid, 0, 200, 2, hooks.Stats{Deliveries: 1, Events: 2}},
		{"no events", "POST", secret, deliveryBody(), 0, 200, 0, hooks.Stats{Deliveries: 1}},
		{"wrong secret", "POST", "Bearer " + secret, valid, 0, 401, 0, hooks.Stats{Unauthorized: 1}},
		{"no secret", "POST", "", valid, 0, 401, 0, hooks.Stats{Unauthorized: 1}},
		{"malformed JSON", "POST", secret, valid[:len(valid)-10], 0, 400, 0, hooks.Stats{Malformed: 1}},
		{"not an object", "POST", secret, `[1,2]`, 0, 400, 0, hooks.Stats{Malformed: 1}},
		{"no data", "POST", secret, `{"eventType":"com.okta.event_hook"}`, 0, 400, 0, hooks.Stats{Malformed: 1}},
		{"no data.events", "POST", secret, `{"data":{}}`, 0, 400, 0, hooks.Stats{Malformed: 1}},
		{"null data.events", "POST", secret, `{"data":{"events":null}}`, 0, 400, 0, hooks.Stats{Malformed: 1}},
		{"an event without uuid", "POST", secret, deliveryBody(oktaEvent("u-1", "x", `{}`), `{"eventType":"x"}`), 0, 400, 0, hooks.Stats{Malformed: 1}},
		{"too large", "POST", secret, valid, int64(len(valid) - 1), 413, 0, hooks.Stats{TooLarge: 1}},
		{"just fits", "POST", secret, valid, int64(len(valid)), 200, 2, hooks.Stats{Deliveries: 1, Events: 2}},
		{"wrong method", "PUT", secret, valid, 0, 405, 0, hooks.Stats{Malformed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			h := &hooks.Handler{Secret: secret, Store: st, MaxBody: tc.max}
			w := call(h, tc.method, tc.auth, tc.body, nil)
			if w.Code != tc.want {
				t.Fatalf("status = %d; want %d (%s)", w.Code, tc.want, w.Body)
			}
			if n := stored(t, st); n != tc.stored {
				t.Fatalf("stored %d events; want %d", n, tc.stored)
			}
			if s := h.Stats(); s != tc.stats {
				t.Fatalf("stats = %+v; want %+v", s, tc.stats)
			}
		})
	}
}

// A body with no Content-Length is cut off by the reader, not trusted.
func TestDeliveryTooLargeStreamed(t *testing.T) {
	st := openStore(t)
	h := &hooks.Handler{Secret: secret, Store: st}
	big := deliveryBody(oktaEvent("u-1", "x", `{"pad":"`+strings.Repeat("a", hooks.DefaultMaxBody)+`"}`))
	r := httptest.NewRequest(http.MethodPost, "/okta/events", io.MultiReader(strings.NewReader(big)))
	r.ContentLength = -1
	r.Header.Set("Authorization", secret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || stored(t, st) != 0 || h.Stats().TooLarge != 1 {
		t.Fatalf("status = %d, stored %d, stats %+v", w.Code, stored(t, st), h.Stats())
	}
}

func TestDuplicateDelivery(t *testing.T) {
	st := openStore(t)
	h := &hooks.Handler{Secret: secret, Store: st}
	first := deliveryBody(oktaEvent("u-1", "x", `{}`), oktaEvent("u-2", "x", `{}`))
	// Okta's retry of the same delivery, then a delivery repeating one event.
	for i, body := range []string{first, first, deliveryBody(oktaEvent("u-2", "x", `{}`), oktaEvent("u-3", "x", `{}`))} {
		if w := call(h, http.MethodPost, secret, body, nil); w.Code != http.StatusOK {
			t.Fatalf("delivery %d: status %d (%s)", i, w.Code, w.Body)
		}
	}
	if n := stored(t, st); n != 3 {
		t.Fatalf("stored %d events; want 3", n)
	}
	if s := h.Stats(); s.Deliveries != 3 || s.Events != 6 || s.Duplicates != 3 {
		t.Fatalf("stats = %+v", s)
	}
}

// failingStore refuses every write, as a full disk would.
type failingStore struct{ hooks.Store }

func (failingStore) SaveHookEvents(context.Context, []hookevent.Event) (int, error) {
	return 0, errors.New("disk I/O error")
}

func TestDeliveryStoreFailure(t *testing.T) {
	h := &hooks.Handler{Secret: secret, Store: failingStore{}}
	w := call(h, http.MethodPost, secret, deliveryBody(oktaEvent("u-1", "x", `{}`)), nil)
	// Not a 200: Okta retries once, and the events were not kept.
	if w.Code != http.StatusInternalServerError || h.Stats().Failed != 1 || h.Stats().Deliveries != 0 {
		t.Fatalf("status = %d, stats %+v", w.Code, h.Stats())
	}
	if strings.Contains(w.Body.String(), "disk") {
		t.Fatalf("store error leaked to the caller: %s", w.Body)
	}
}

func TestNoSecretRejectsAll(t *testing.T) {
	st := openStore(t)
	h := &hooks.Handler{Store: st, Now: func() time.Time { return time.Unix(0, 0) }}
	if w := call(h, http.MethodPost, "", deliveryBody(oktaEvent("u-1", "x", `{}`)), nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d; want 401 when no secret is configured", w.Code)
	}
	if w := call(h, http.MethodGet, "", "", map[string]string{hooks.ChallengeHeader: "c"}); w.Code != http.StatusUnauthorized {
		t.Fatalf("verification status = %d; want 401", w.Code)
	}
}
