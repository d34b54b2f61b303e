package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs attest in-process with a private environment.
type cli struct {
	t   *testing.T
	dir string
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	return &cli{t: t, dir: dir, env: map[string]string{
		"ATTEST_DB":     filepath.Join(dir, "attest.db"),
		"ATTEST_CONFIG": "",
	}}
}

// run returns exit code, stdout and stderr.
func (c *cli) run(args ...string) (int, string, string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string { return c.env[k] })
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	if code != 0 {
		c.t.Fatalf("attest %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("attest %s --json printed invalid JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestExitCodesAndUsage(t *testing.T) {
	c := newCLI(t)
	tests := []struct {
		name    string
		args    []string
		code    int
		stderr  string
		oneLine bool
	}{
		{name: "no command", args: nil, code: 2, stderr: "Usage: attest COMMAND"},
		{name: "help", args: []string{"--help"}, code: 0, stderr: "Commands:"},
		{name: "unknown", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "subcommand help", args: []string{"sync", "--help"}, code: 0, stderr: "-hr-csv"},
		{name: "bad flag", args: []string{"sync", "--nope"}, code: 2, stderr: "flag provided but not defined"},
		{name: "plan without file", args: []string{"plan"}, code: 2, stderr: "exactly one campaign definition"},
		{name: "sync without okta", args: []string{"sync"}, code: 1, stderr: "OKTA_ORG_URL", oneLine: true},
		{name: "missing config file", args: []string{"check-config", "--config", "/nonexistent/attest.yaml"}, code: 1, oneLine: true},
		{name: "bad log level", args: []string{"plan", "../../campaigns/quarterly.yaml", "--log-level", "loud"}, code: 2, stderr: "--log-level"},
		{name: "campaign without subcommand", args: []string{"campaign"}, code: 2, stderr: "Subcommands:"},
		{name: "campaign bad id", args: []string{"campaign", "show", "abc"}, code: 2, stderr: "not a campaign id"},
		{name: "plan on empty store", args: []string{"plan", "../../campaigns/quarterly.yaml"}, code: 1, stderr: "attest sync", oneLine: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := c.run(tc.args...)
			if code != tc.code {
				t.Fatalf("exit = %d, want %d; stderr: %s", code, tc.code, errs)
			}
			if !strings.Contains(errs, tc.stderr) {
				t.Fatalf("stderr %q lacks %q", errs, tc.stderr)
			}
			if tc.oneLine && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Fatalf("failure should be one line on stderr, got:\n%s", errs)
			}
		})
	}
}

func TestVersionAndCheckConfigHideSecrets(t *testing.T) {
	c := newCLI(t)
	var v map[string]string
	c.json(&v, "version")
	if v["version"] == "" {
		t.Fatalf("version json = %v", v)
	}
	c.env["OKTA_API_TOKEN"] = "00sentinel-token-value"
	c.env["OKTA_DOMAIN"] = "example.okta.com"
	out := c.ok("check-config")
	if strings.Contains(out, "sentinel") || !strings.Contains(out, "<secret>") || !strings.Contains(out, "https://example.okta.com") {
		t.Fatalf("check-config output:\n%s", out)
	}
	out = c.ok("check-config", "--json")
	if strings.Contains(out, "sentinel") {
		t.Fatalf("check-config --json leaks the token:\n%s", out)
	}
}
