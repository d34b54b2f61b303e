package hooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/hookevent"
)

// A delivery is stored and answered while a long transaction (a snapshot
// write, a launch, a close) holds the main database's write lock: Okta
// gives up after 3 s and retries once, so a delivery that waits for the
// main database's lock (its busy timeout is 10 s) is lost.
func TestDeliveryWhileMainDatabaseLocked(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	srv := httptest.NewServer(&hooks.Handler{Secret: secret, Store: st})
	defer srv.Close()

	// A real write transaction on the real file, held for the whole test.
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil) // the store's BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE long_write (x)`); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(deliveryBody(
		oktaEvent("during-lock", "application.user_membership.add", `{}`))))
	req.Header.Set("Authorization", secret)
	client := &http.Client{Timeout: oktaTimeout} // Okta's patience
	start := time.Now()
	resp, err := client.Do(req)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("delivery under the main write lock: %v after %v (Okta gives up after %v)", err, took, oktaTimeout)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery under the main write lock: %s after %v; want 200", resp.Status, took)
	}
	ev, err := st.HookEvent(ctx, "during-lock")
	if err != nil || ev.State != hookevent.StatePending {
		t.Fatalf("event after the 200: %+v, %v; want it stored, pending", ev, err)
	}
	if took > time.Second {
		t.Fatalf("delivery answered after %v; want well within 1 s", took)
	}
}

// An event answered 200 survives the process dying before any Close: a
// new process opening the same files finds it, and claims it.
func TestDeliverySurvivesCrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStoreAt(t, dir) // never closed by this test: the "crash"
	w := call(&hooks.Handler{Secret: secret, Store: st}, http.MethodPost, secret,
		deliveryBody(oktaEvent("before-crash", "user.risk.detect", `{}`)), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("delivery = %d", w.Code)
	}
	after := openStoreAt(t, dir)
	got, err := after.ClaimHookEvents(ctx, 10, time.Now())
	if err != nil || len(got) != 1 || got[0].UUID != "before-crash" {
		t.Fatalf("claim after the crash = %+v, %v; want the event answered 200", got, err)
	}
}
