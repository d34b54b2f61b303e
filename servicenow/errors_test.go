package servicenow

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name, header string
		want         time.Duration
	}{
		{"seconds", "1", time.Second},
		{"spaces", " 30 ", 30 * time.Second},
		{"HTTP date", now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second},
		{"date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"negative", "-3", 0},
		{"absent", "", 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.header, now); got != tt.want {
				t.Fatalf("parseRetryAfter(%q) = %s, want %s", tt.header, got, tt.want)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{400, ErrInvalid}, {401, ErrForbidden}, {403, ErrForbidden}, {404, ErrNotFound}, {405, ErrInvalid},
		{409, ErrInvalid}, {429, ErrTransient}, {500, ErrTransient}, {502, ErrTransient}, {503, ErrTransient},
	}
	for _, tt := range tests {
		if got := kindOf(tt.status); got != tt.want {
			t.Errorf("kindOf(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"message and detail", &Error{Op: "create incident", Status: 400, Message: "Invalid table", Detail: "no such table"},
			"servicenow: create incident: 400 Bad Request: Invalid table (no such table)"},
		{"same detail", &Error{Op: "get incident x", Status: 404, Message: "No Record found", Detail: "No Record found"},
			"servicenow: get incident x: 404 Not Found: No Record found"},
		{"retry after", &Error{Op: "create sc_task", Status: 429, RetryAfter: 2 * time.Second},
			"servicenow: create sc_task: 429 Too Many Requests; retry after 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	long := oneLine(strings.Repeat("é", 400)+"\n\tend", 300)
	if len(long) > 300+len("…") || !strings.HasSuffix(long, "…") {
		t.Fatalf("oneLine did not cut: %d bytes", len(long))
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, BaseBackoff}, {1, 15 * time.Second}, {2, 30 * time.Second}, {3, time.Minute},
		{6, 8 * time.Minute}, {7, MaxBackoff}, {100, MaxBackoff},
	}
	for _, tt := range tests {
		if got := Backoff(tt.attempt); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}

func TestInstanceWide(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"rate limit", &Error{Status: 429, kind: ErrTransient}, true},
		{"unavailable", &Error{Status: 503, kind: ErrTransient}, true},
		{"one record's 500", &Error{Status: 500, kind: ErrTransient}, false},
		{"no answer", transportError("create incident", "connection refused"), true},
		{"bad request", &Error{Status: 400, kind: ErrInvalid}, false},
		{"waiting for a create", errNoRecordYet, false},
		{"other", errors.New("x"), false},
	}
	for _, tt := range tests {
		if got := instanceWide(tt.err); got != tt.want {
			t.Errorf("%s: instanceWide = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestResolutionAndCorrelation(t *testing.T) {
	w := &Worker{CloseCode: "Solution provided", CloseNotes: "closed by attest"}
	tests := []struct {
		table  string
		fields map[string]string
		want   map[string]string
	}{
		{"incident", map[string]string{}, map[string]string{"state": "6", "close_code": "Solution provided", "close_notes": "closed by attest"}},
		{"incident", map[string]string{"state": "7", "close_notes": "own"}, map[string]string{"state": "7", "close_code": "Solution provided", "close_notes": "own"}},
		{"sc_task", map[string]string{}, map[string]string{"state": "3", "close_notes": "closed by attest"}},
		{"u_custom", map[string]string{"state": "9"}, map[string]string{"state": "9", "close_notes": "closed by attest"}},
	}
	for _, tt := range tests {
		w.resolution(tt.table, tt.fields)
		if len(tt.fields) != len(tt.want) {
			t.Fatalf("%s: fields = %v, want %v", tt.table, tt.fields, tt.want)
		}
		for k, v := range tt.want {
			if tt.fields[k] != v {
				t.Fatalf("%s: fields = %v, want %v", tt.table, tt.fields, tt.want)
			}
		}
	}
	if got := correlationID("review:1:00u"); got != "review:1:00u" {
		t.Fatalf("short key = %q", got)
	}
	if got := correlationID(strings.Repeat("k", 101)); len(got) > 100 || !strings.HasPrefix(got, "attest:") {
		t.Fatalf("long key = %q", got)
	}
}
