package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		name, listen, path, want, err string
	}{
		{"every interface", "0.0.0.0:8080", "/healthz", "http://127.0.0.1:8080/healthz", ""},
		{"empty host", ":8080", "/readyz", "http://127.0.0.1:8080/readyz", ""},
		{"ipv6 any", "[::]:8080", "/healthz", "http://[::1]:8080/healthz", ""},
		{"loopback kept", "127.0.0.1:9090", "/healthz", "http://127.0.0.1:9090/healthz", ""},
		{"named host kept", "attest.internal:80", "/healthz", "http://attest.internal:80/healthz", ""},
		{"off", "off", "/healthz", "", "http.listen is off"},
		{"free port", "127.0.0.1:0", "/healthz", "", "--url"},
		{"no port", "localhost", "/healthz", "", "not host:port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := healthURL(tc.listen, tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("healthURL(%q) = %q, %v; want an error with %q", tc.listen, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("healthURL(%q) = %q, %v; want %q", tc.listen, got, err, tc.want)
			}
		})
	}
}

// TestHealthcheckCommand runs `attest healthcheck` against a stand-in for
// serve: exit 0 on 200, 1 with one line naming the reason otherwise.
func TestHealthcheckCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/readyz":
			http.Error(w, "no directory snapshot yet", http.StatusServiceUnavailable)
		case "/hang":
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	closed := freeAddr(t)
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(hostPort)

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout string
		stderr string
	}{
		{"healthz from http.listen", []string{"healthcheck"}, map[string]string{"ATTEST_HTTP_LISTEN": "0.0.0.0:" + port},
			0, "/healthz: 200 ok", ""},
		{"readyz not ready", []string{"healthcheck", "--ready"}, map[string]string{"ATTEST_HTTP_LISTEN": hostPort},
			1, "", "/readyz: 503 no directory snapshot yet"},
		{"explicit url", []string{"healthcheck", "--url", srv.URL + "/healthz"}, nil, 0, "200 ok", ""},
		{"not found", []string{"healthcheck", "--url", srv.URL + "/nope"}, nil, 1, "", "404"},
		{"nothing listening", []string{"healthcheck", "--url", "http://" + closed + "/healthz"}, nil, 1, "", "connection refused"},
		{"no answer in time", []string{"healthcheck", "--timeout", "100ms", "--url", srv.URL + "/hang"}, nil,
			1, "", "no answer within 100ms"},
		{"listener off", []string{"healthcheck"}, map[string]string{"ATTEST_HTTP_LISTEN": "off"}, 1, "", "http.listen is off"},
		{"bad config names the variable", []string{"healthcheck"}, map[string]string{"ATTEST_HTTP_LISTEN": "8080"},
			1, "", "(from ATTEST_HTTP_LISTEN)"},
		{"argument", []string{"healthcheck", "extra"}, nil, 2, "", "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // no ./attest.yaml
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, func(k string) string { return tc.env[k] })
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", stdout.String(), tc.stdout, stderr.String(), tc.stderr)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
				t.Errorf("failure takes more than one line:\n%s", stderr.String())
			}
		})
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
