package snowtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// do sends one request with basic auth (unless auth is "none") and
// decodes the JSON answer.
func do(t *testing.T, s *Server, method, path, body, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	switch auth {
	case "basic":
		req.SetBasicAuth(Username, Password)
	case "none":
	default:
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, out
}

func result(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	r, ok := body["result"].(map[string]any)
	if !ok {
		t.Fatalf("no result object in %v", body)
	}
	return r
}

func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	if body["status"] != "failure" {
		return ""
	}
	m, _ := e["message"].(string)
	return m
}

var sysIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestCreateNumbersAndStrings(t *testing.T) {
	s := New()
	defer s.Close()
	tests := []struct {
		name, table, body, number string
	}{
		{"first incident", "incident", `{"short_description":"Access review","urgency":2}`, "INC0010001"},
		{"second incident", "incident", `{"short_description":"again"}`, "INC0010002"},
		{"first task", "sc_task", `{"short_description":"Remove access"}`, "SCTASK0010001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := do(t, s, "POST", "/api/now/table/"+tt.table, tt.body, "basic")
			if code != http.StatusCreated {
				t.Fatalf("status = %d, want 201: %v", code, body)
			}
			r := result(t, body)
			if r["number"] != tt.number || !sysIDRE.MatchString(r["sys_id"].(string)) || r["state"] != "1" {
				t.Fatalf("result = %v", r)
			}
		})
	}
	if got := s.Records("incident"); len(got) != 2 || got[0]["urgency"] != "2" {
		t.Fatalf("incident records = %v; want 2, urgency stored as the string \"2\"", got)
	}
}

func TestReferenceLinks(t *testing.T) {
	s := New()
	defer s.Close()
	_, _, body := do(t, s, "POST", "/api/now/table/incident", `{"caller_id":"abc"}`, "basic")
	if _, ok := result(t, body)["caller_id"].(map[string]any); !ok {
		t.Fatalf("caller_id without sysparm_exclude_reference_link = %v; want {link, value}", result(t, body)["caller_id"])
	}
	_, _, body = do(t, s, "POST", "/api/now/table/incident?sysparm_exclude_reference_link=true", `{"caller_id":"abc"}`, "basic")
	if got := result(t, body)["caller_id"]; got != "abc" {
		t.Fatalf("caller_id with sysparm_exclude_reference_link = %v; want \"abc\"", got)
	}
}

func TestIncidentStates(t *testing.T) {
	s := New()
	defer s.Close()
	_, _, body := do(t, s, "POST", "/api/now/table/incident", `{}`, "basic")
	id := result(t, body)["sys_id"].(string)
	tests := []struct {
		name, body string
		status     int
		message    string
	}{
		{"in progress", `{"state":"2"}`, 200, ""},
		{"bad state", `{"state":"42"}`, 400, "Invalid state"},
		{"resolve without close fields", `{"state":"6"}`, 400, "Data Policy Exception"},
		{"resolve without notes", `{"state":"6","close_code":"Solution provided"}`, 400, "Data Policy Exception"},
		{"resolve", `{"state":"6","close_code":"Solution provided","close_notes":"done"}`, 200, ""},
		{"close", `{"state":"7"}`, 200, ""},
		{"closed is final", `{"state":"2"}`, 400, "Operation Failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := do(t, s, "PATCH", "/api/now/table/incident/"+id, tt.body, "basic")
			if code != tt.status || !strings.Contains(errorMessage(body), tt.message) {
				t.Fatalf("status %d, body %v; want %d with %q", code, body, tt.status, tt.message)
			}
		})
	}
	if got := s.Records("incident")[0]; got["state"] != "7" || got["close_code"] != "Solution provided" {
		t.Fatalf("record = %v", got)
	}
}

func TestErrorsAndOutages(t *testing.T) {
	s := New()
	defer s.Close()
	tests := []struct {
		name    string
		setup   func()
		method  string
		path    string
		auth    string
		status  int
		message string
	}{
		{"unknown sys_id", nil, "GET", "/api/now/table/incident/0123456789abcdef0123456789abcdef", "basic", 404, "No Record found"},
		{"unknown table", nil, "POST", "/api/now/table/nope", "basic", 400, "Invalid table"},
		{"no auth", nil, "GET", "/api/now/table/incident", "none", 401, "User Not Authenticated"},
		{"unknown token", nil, "GET", "/api/now/table/incident", "made-up", 401, "User Not Authenticated"},
		{"fail next", func() { s.FailNext(1, 500) }, "GET", "/api/now/table/incident", "basic", 500, "Internal Server Error"},
		{"after the failure", nil, "GET", "/api/now/table/incident", "basic", 200, ""},
		{"rate limited", func() { s.RateLimit(1) }, "GET", "/api/now/table/incident", "basic", 429, "Rate limit"},
		{"down", func() { s.Down(true) }, "GET", "/api/now/table/incident", "basic", 503, "Service Unavailable"},
		{"up again", func() { s.Down(false) }, "GET", "/api/now/table/incident", "basic", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			code, hdr, body := do(t, s, tt.method, tt.path, `{}`, tt.auth)
			if code != tt.status || !strings.Contains(errorMessage(body), tt.message) {
				t.Fatalf("status %d, body %v; want %d with %q", code, body, tt.status, tt.message)
			}
			if code == 429 && hdr.Get("Retry-After") != "1" {
				t.Fatalf("Retry-After = %q, want 1", hdr.Get("Retry-After"))
			}
		})
	}
	if n := len(s.Calls()); n != len(tests) {
		t.Fatalf("calls = %d, want %d", n, len(tests))
	}
}

func TestOAuthAndQuery(t *testing.T) {
	s := New()
	defer s.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID}, "client_secret": {ClientSecret}}
	resp, err := s.Client().PostForm(s.URL()+"/oauth_token.do", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" || s.TokensIssued() != 1 {
		t.Fatalf("token status %d, token %q", resp.StatusCode, tok.AccessToken)
	}
	for _, c := range []string{"a", "b"} {
		if code, _, _ := do(t, s, "POST", "/api/now/table/sc_task", `{"correlation_id":"`+c+`"}`, tok.AccessToken); code != 201 {
			t.Fatalf("create with bearer = %d", code)
		}
	}
	_, _, body := do(t, s, "GET", "/api/now/table/sc_task?sysparm_query=correlation_id%3Db%5EORDERBYsys_created_on&sysparm_limit=1", "", tok.AccessToken)
	if list, _ := body["result"].([]any); len(list) != 1 || list[0].(map[string]any)["number"] != "SCTASK0010002" {
		t.Fatalf("query result = %v", body)
	}
	if calls := s.Calls(); calls[len(calls)-1].Auth != "bearer" {
		t.Fatalf("last call auth = %q", calls[len(calls)-1].Auth)
	}
	form.Set("client_secret", "wrong")
	resp, _ = s.Client().PostForm(s.URL()+"/oauth_token.do", form)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong secret = %d, want 401", resp.StatusCode)
	}
}
