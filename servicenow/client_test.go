package servicenow_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/snowtest"
	"github.com/attestbot/attest/servicenow"
)

// clock is a fake clock shared by a client and the fake instance.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func basicClient(t *testing.T, s *snowtest.Server) *servicenow.Client {
	t.Helper()
	c, err := servicenow.New(servicenow.Options{BaseURL: s.URL(), Username: snowtest.Username,
		Password: snowtest.Password, HTTPClient: s.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    servicenow.Options
		wantErr string
	}{
		{"https", servicenow.Options{BaseURL: "https://acme.service-now.com/", Username: "u", Password: "p"}, ""},
		{"http on loopback", servicenow.Options{BaseURL: "http://127.0.0.1:8443", Username: "u", Password: "p"}, ""},
		{"http on localhost", servicenow.Options{BaseURL: "http://localhost:8443", ClientID: "id", ClientSecret: "s"}, ""},
		{"http elsewhere", servicenow.Options{BaseURL: "http://acme.service-now.com", Username: "u", Password: "p"}, "use https://"},
		{"other scheme", servicenow.Options{BaseURL: "ftp://acme.service-now.com", Username: "u", Password: "p"}, "must start with https://"},
		{"not a URL", servicenow.Options{BaseURL: "acme", Username: "u", Password: "p"}, "not a URL"},
		{"credentials in URL", servicenow.Options{BaseURL: "https://admin:hunter2@acme.service-now.com", Username: "u", Password: "p"}, "must not carry credentials"},
		{"query in URL", servicenow.Options{BaseURL: "https://acme.service-now.com?x=1", Username: "u", Password: "p"}, "query"},
		{"no credentials", servicenow.Options{BaseURL: "https://acme.service-now.com"}, "no credentials"},
		{"password without user", servicenow.Options{BaseURL: "https://acme.service-now.com", Password: "p"}, "no credentials"},
		{"client id without secret", servicenow.Options{BaseURL: "https://acme.service-now.com", ClientID: "id"}, "both a client id and a client secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := servicenow.New(tt.opts)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func TestTicketLifecycle(t *testing.T) {
	ctx := context.Background()
	s := snowtest.New()
	defer s.Close()
	c := basicClient(t, s)

	created, err := c.Create(ctx, "incident", map[string]string{"short_description": "Access review", "caller_id": "6816f79cc0a8016401c5a33be04be441"})
	if err != nil {
		t.Fatal(err)
	}
	if created.Number != "INC0010001" || len(created.SysID) != 32 || created.State != "1" ||
		created.Fields["caller_id"] != "6816f79cc0a8016401c5a33be04be441" {
		t.Fatalf("created = %+v", created)
	}
	steps := []struct {
		name   string
		fields map[string]string
		state  string
	}{
		{"in progress", map[string]string{"state": "2", "work_notes": "Reviewers notified"}, "2"},
		{"resolved", map[string]string{"state": "6", "close_code": "Solution provided", "close_notes": "Campaign closed"}, "6"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := c.Update(ctx, "incident", created.SysID, st.fields)
			if err != nil || got.State != st.state || got.Number != created.Number {
				t.Fatalf("update = %+v, %v", got, err)
			}
		})
	}
	got, err := c.Get(ctx, "incident", created.SysID)
	if err != nil || got.State != "6" || got.Fields["close_code"] != "Solution provided" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	task, err := c.Create(ctx, "sc_task", map[string]string{"short_description": "Remove 3 accesses"})
	if err != nil || task.Number != "SCTASK0010001" {
		t.Fatalf("sc_task = %+v, %v", task, err)
	}
	wantMethods := []string{"POST", "PATCH", "PATCH", "GET", "POST"}
	for i, call := range s.Calls() {
		if call.Method != wantMethods[i] || call.Auth != "basic" || !strings.Contains(call.Query, "sysparm_exclude_reference_link=true") {
			t.Fatalf("call %d = %+v, want %s with basic auth and sysparm_exclude_reference_link", i, call, wantMethods[i])
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	s := snowtest.New()
	defer s.Close()
	c := basicClient(t, s)
	inc, err := c.Create(ctx, "incident", map[string]string{"short_description": "x"})
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := servicenow.New(servicenow.Options{BaseURL: s.URL(), Username: snowtest.Username, Password: "wrong", HTTPClient: s.Client()})
	resolve := map[string]string{"state": "6"}
	tests := []struct {
		name       string
		setup      func()
		call       func() error
		kind       error
		status     int
		message    string
		retryAfter time.Duration
	}{
		{"unknown record", nil, func() error { _, err := c.Get(ctx, "incident", "0123456789abcdef0123456789abcdef"); return err },
			servicenow.ErrNotFound, 404, "No Record found", 0},
		{"resolve without close fields", nil, func() error { _, err := c.Update(ctx, "incident", inc.SysID, resolve); return err },
			servicenow.ErrInvalid, 400, "Data Policy Exception", 0},
		{"unknown table", nil, func() error { _, err := c.Create(ctx, "nope", nil); return err },
			servicenow.ErrInvalid, 400, "Invalid table nope", 0},
		{"bad table name", nil, func() error { _, err := c.Create(ctx, "../sys_user", nil); return err },
			servicenow.ErrInvalid, 0, "is not a table", 0},
		{"wrong password", nil, func() error { _, err := wrong.Get(ctx, "incident", inc.SysID); return err },
			servicenow.ErrForbidden, 401, "User Not Authenticated", 0},
		{"server error", func() { s.FailNext(1, 500) }, func() error { _, err := c.Get(ctx, "incident", inc.SysID); return err },
			servicenow.ErrTransient, 500, "Internal Server Error", 0},
		{"down", func() { s.Down(true) }, func() error { _, err := c.Create(ctx, "incident", nil); return err },
			servicenow.ErrTransient, 503, "Service Unavailable", 0},
		{"rate limited", func() { s.Down(false); s.RateLimit(1) }, func() error { _, err := c.Create(ctx, "incident", nil); return err },
			servicenow.ErrTransient, 429, "Rate limit exceeded", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			err := tt.call()
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("error = %v; want %v containing %q", err, tt.kind, tt.message)
			}
			var e *servicenow.Error
			if tt.status != 0 && (!errors.As(err, &e) || e.Status != tt.status) {
				t.Fatalf("error = %#v; want an *Error with status %d", err, tt.status)
			}
			if ra, _ := servicenow.RetryAfter(err); ra != tt.retryAfter {
				t.Fatalf("RetryAfter = %s, want %s", ra, tt.retryAfter)
			}
			if servicenow.Transient(err) != (tt.kind == servicenow.ErrTransient) {
				t.Fatalf("Transient(%v) = %v", err, servicenow.Transient(err))
			}
		})
	}
	if n := len(s.Records("incident")); n != 1 {
		t.Fatalf("incidents = %d; failed creates must create nothing", n)
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer ts.Close()
	defer close(release)
	c, err := servicenow.New(servicenow.Options{BaseURL: ts.URL, Username: "u", Password: "p", Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(context.Background(), "incident", nil)
	if !errors.Is(err, servicenow.ErrTransient) || !strings.Contains(err.Error(), "timed out") || strings.Contains(err.Error(), ts.URL) {
		t.Fatalf("error = %v; want a transient timeout that does not repeat the URL", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Create(ctx, "incident", nil); !errors.Is(err, context.Canceled) || servicenow.Transient(err) {
		t.Fatalf("cancelled error = %v; want context.Canceled, not transient", err)
	}
}

func TestFind(t *testing.T) {
	ctx := context.Background()
	s := snowtest.New()
	defer s.Close()
	c := basicClient(t, s)
	for _, key := range []string{"review:1:a", "review:1:b"} {
		if _, err := c.Create(ctx, "sc_task", map[string]string{"correlation_id": key}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := c.Find(ctx, "sc_task", "correlation_id", "review:1:b"); err != nil || got.Number != "SCTASK0010002" {
		t.Fatalf("find = %+v, %v", got, err)
	}
	if _, err := c.Find(ctx, "sc_task", "correlation_id", "review:1:zz"); !errors.Is(err, servicenow.ErrNotFound) {
		t.Fatalf("find missing = %v; want ErrNotFound", err)
	}
	// An instance ignores conditions on a field the table lacks.
	sloppy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"result":[{"sys_id":"0123456789abcdef0123456789abcdef","number":"INC0000001"}]}`)
	}))
	defer sloppy.Close()
	sc, _ := servicenow.New(servicenow.Options{BaseURL: sloppy.URL, Username: "u", Password: "p"})
	if _, err := sc.Find(ctx, "u_custom", "correlation_id", "x"); !errors.Is(err, servicenow.ErrNotFound) {
		t.Fatalf("find on an ignored condition = %v; want ErrNotFound", err)
	}
}
