package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestURLRules(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantErr string // "" means valid
	}{
		{"https", "https://example.okta.com", ""},
		{"https with port", "https://example.okta.com:8443", ""},
		{"http on 127.0.0.1", "http://127.0.0.1:8080", ""},
		{"http elsewhere in 127/8", "http://127.9.8.7", ""},
		{"http on ::1", "http://[::1]:8080", ""},
		{"http on localhost", "http://localhost:8080", ""},
		{"http on LOCALHOST", "http://LOCALHOST", ""},
		{"http on a public host", "http://example.okta.com", "non-loopback host; use https://"},
		{"http on a private address", "http://10.0.0.1", "non-loopback host; use https://"},
		{"http on a localhost lookalike", "http://localhost.evil.com", "non-loopback host; use https://"},
		{"http on 128.0.0.1", "http://128.0.0.1", "non-loopback host; use https://"},
		{"other scheme", "ftp://example.okta.com", `scheme "ftp"; use https://`},
		{"no scheme", "example.okta.com", "has no scheme; write it as https://example.okta.com"},
		{"no host", "https://", "has no host"},
		{"path", "https://example.okta.com/oauth2", "has a path"},
		{"query", "https://example.okta.com?x=1", "has a query"},
		{"credentials", "https://u:p@example.okta.com", "holds credentials"},
		{"unparsable", "https://exa mple.com", "not a valid URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p problems
			ok := checkURL(&p, "okta.org_url", tc.url, true)
			err := p.err(Default())
			if tc.wantErr == "" {
				if !ok || err != nil {
					t.Fatalf("checkURL(%q) = %v, %v; want valid", tc.url, ok, err)
				}
				return
			}
			if ok || err == nil {
				t.Fatalf("checkURL(%q) accepted it, want %q", tc.url, tc.wantErr)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.wantErr) || !strings.HasPrefix(msg, "config: okta.org_url: ") {
				t.Errorf("error = %q, want it to name okta.org_url and contain %q", msg, tc.wantErr)
			}
		})
	}
}

func TestSlackPrincipals(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		wantErr string
	}{
		{"user id", "U012ABC", ""},
		{"enterprise user id", "W0123ABCD", ""},
		{"user group id", "S0IAMTEAM", ""},
		{"handle", "@iam-team", ""},
		{"handle with dot", "@jane.doe", ""},
		{"lowercase id", "u012abc", "not a Slack user id"},
		{"channel id", "C0123456789", "not a Slack user id"},
		{"bare name", "bob", "not a Slack user id"},
		{"email", "bob@example.com", "email address"},
		{"uppercase handle", "@IAM", "not a valid handle"},
		{"empty", "", "not a Slack user id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Slack.Approvers = []string{"U045DEF", tc.value}
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "slack.approvers[1]: ") || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate = %v, want slack.approvers[1] and %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateFields(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantKey string // "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"concurrency at the Okta cap", func(c *Config) { c.Okta.Concurrency = 75 }, ""},
		{"concurrency above the cap", func(c *Config) { c.Okta.Concurrency = 76 }, "okta.concurrency"},
		{"negative retries", func(c *Config) { c.Okta.MaxRetries = -1 }, "okta.max_retries"},
		{"headroom at half", func(c *Config) { c.Okta.RateLimitHeadroom = 0.5 }, ""},
		{"negative headroom", func(c *Config) { c.Okta.RateLimitHeadroom = -0.1 }, "okta.rate_limit_headroom"},
		{"timeout too long", func(c *Config) { c.Okta.RequestTimeout = Duration(11 * time.Minute) }, "okta.request_timeout"},
		{"system log at the cap", func(c *Config) { c.Okta.SystemLogDays = 180 }, ""},
		{"SSWS prefix on the token", func(c *Config) { c.Okta.APIToken = "SSWS 00abc" }, "okta.api_token"},
		{"empty manager attribute", func(c *Config) { c.Okta.ManagerAttribute = "" }, "okta.manager_attribute"},
		{"custom manager attribute", func(c *Config) { c.Okta.ManagerAttribute = "costCenterOwner" }, ""},
		{"app owner attribute", func(c *Config) { c.Okta.AppOwnerAttribute = "owner_email" }, ""},
		{"app owner attribute with a dash", func(c *Config) { c.Okta.AppOwnerAttribute = "owner-email" }, "okta.app_owner_attribute"},
		{"campaign owners", func(c *Config) { c.Campaigns.Owners = map[string][]string{"Salesforce": {"alice@x.com"}} }, ""},
		{"campaign owner not an email", func(c *Config) { c.Campaigns.Owners = map[string][]string{"Salesforce": {"alice"}} }, "campaigns.owners.Salesforce"},
		{"campaign owners empty", func(c *Config) { c.Campaigns.Owners = map[string][]string{"Jira": {}} }, "campaigns.owners.Jira"},
		{"hourly sync", func(c *Config) { c.Okta.SyncSchedule = "0 * * * *" }, ""},
		{"sync every 6h", func(c *Config) { c.Okta.SyncSchedule = "@every 6h" }, ""},
		{"sync with seconds field", func(c *Config) { c.Okta.SyncSchedule = "0 0 * * * *" }, "okta.sync_schedule"},
		{"api_url without slash", func(c *Config) { c.Slack.APIURL = "https://slack.com/api" }, "slack.api_url"},
		{"api_url unset", func(c *Config) { c.Slack.APIURL = "" }, "slack.api_url"},
		{"command with space", func(c *Config) { c.Slack.Command = "/access review" }, "slack.command"},
		{"private channel id", func(c *Config) { c.Slack.ApprovalsChannel = "G0123ABC" }, ""},
		{"lowercase channel id", func(c *Config) { c.Slack.ApprovalsChannel = "c0123abc" }, "slack.approvals_channel"},
		{"listen on IPv6", func(c *Config) { c.HTTP.Listen = "[::1]:8080" }, ""},
		{"listen port zero picks a free port", func(c *Config) { c.HTTP.Listen = "127.0.0.1:0" }, ""},
		{"listen port too high", func(c *Config) { c.HTTP.Listen = "127.0.0.1:70000" }, "http.listen"},
		{"listener off", func(c *Config) { c.HTTP.Listen = ListenOff }, ""},
		{"listener off with event hooks", func(c *Config) { c.HTTP.Listen = ListenOff; c.Okta.EventHook.Secret = "s3cret" }, "http.listen"},
		{"listen named port", func(c *Config) { c.HTTP.Listen = "127.0.0.1:http" }, "http.listen"},
		{"store path unset", func(c *Config) { c.Store.Path = "" }, "store.path"},
		{"campaigns dir unset", func(c *Config) { c.Campaigns.Dir = "" }, "campaigns.dir"},
		{"empty risk label", func(c *Config) { c.Risk.Apps = map[string]RiskLevel{"": RiskLow} }, `risk.apps[""]`},
		{"password without url", func(c *Config) { c.ServiceNow.Password = "x" }, "servicenow.url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(c)
			err := c.Validate()
			if tc.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if !slices.Contains(ve.Keys(), tc.wantKey) {
				t.Errorf("Validate keys = %v, want %s; error: %v", ve.Keys(), tc.wantKey, err)
			}
			var fe FieldError
			if !errors.As(err, &fe) || fe.Key == "" {
				t.Errorf("errors.As FieldError failed on %v", err)
			}
		})
	}
}

func TestZeroConfigListsEveryProblem(t *testing.T) {
	err := (&Config{}).Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate of a zero Config = %v, want a *ValidationError", err)
	}
	for _, key := range []string{"store.path", "log.level", "log.format", "campaigns.dir", "http.listen",
		"slack.api_url", "slack.command", "okta.manager_attribute", "okta.concurrency", "okta.request_timeout",
		"okta.system_log_days"} {
		if !slices.Contains(ve.Keys(), key) {
			t.Errorf("zero Config: no problem reported for %s; got %v", key, ve.Keys())
		}
	}
	if !strings.HasPrefix(err.Error(), "config: ") || !strings.Contains(err.Error(), " problems:\n  ") {
		t.Errorf("multi-problem error is not one problem a line: %q", err.Error())
	}
}
