package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// noEnv is a getenv with nothing set.
func noEnv(string) string { return "" }

// env returns a getenv reading from m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadTestdataFailures(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // substrings the error must contain
	}{
		{"unknown key", "unknown_key.yaml", []string{"line 5", "okta.concurency", "unknown key", `did you mean "concurrency"`}},
		{"unknown top-level key", "unknown_top_key.yaml", []string{"line 3", "okta_url", "valid keys here: campaigns, evidence, http, log, okta"}},
		{"malformed yaml", "bad_yaml.yaml", []string{"bad_yaml.yaml", "line 2", "malformed YAML"}},
		{"unquoted handle", "unquoted_handle.yaml", []string{"line 2", "malformed YAML", `"@iam-team"`}},
		{"tab indent", "tab_indent.yaml", []string{"line 2", "malformed YAML", "tabs"}},
		{"two documents", "two_documents.yaml", []string{"line 3", "one document"}},
		{"duplicate key", "duplicate_key.yaml", []string{"line 3", "okta.concurrency", "set twice (first at line 2)"}},
		{"not a mapping", "not_a_mapping.yaml", []string{"line 1", "must be a mapping", "okta"}},
		{"okta http non-loopback", "http_non_loopback.yaml", []string{"line 2", "okta.org_url", "non-loopback", "use https://"}},
		{"servicenow http non-loopback", "servicenow_http.yaml", []string{"servicenow.url", "use https://"}},
		{"slack api_url http non-loopback", "slack_api_url_http.yaml", []string{"slack.api_url", "use https://"}},
		{"org_url with path", "org_url_path.yaml", []string{"okta.org_url", "has a path", "https://example.okta.com"}},
		{"org_url without scheme", "org_url_no_scheme.yaml", []string{"okta.org_url", "https://example.okta.com"}},
		{"org_url admin console", "org_url_admin.yaml", []string{"okta.org_url", "-admin", "https://example.okta.com"}},
		{"concurrency out of range", "bad_concurrency.yaml", []string{"line 2", "okta.concurrency", "1..75"}},
		{"concurrency not a number", "bad_concurrency_type.yaml", []string{"line 1", "okta.concurrency", `"lots"`, "whole number"}},
		{"max_retries out of range", "bad_max_retries.yaml", []string{"okta.max_retries", "0..20"}},
		{"headroom out of range", "bad_headroom.yaml", []string{"okta.rate_limit_headroom", "0 to 0.5"}},
		{"system_log_days out of range", "bad_system_log_days.yaml", []string{"okta.system_log_days", "1..180"}},
		{"sync schedule", "bad_sync_schedule.yaml", []string{"line 2", "okta.sync_schedule", "@daily"}},
		{"manager attribute", "bad_manager_attribute.yaml", []string{"okta.manager_attribute", "managerId"}},
		{"bad duration", "bad_duration.yaml", []string{"line 2", "okta.request_timeout", `"soon"`, "90d"}},
		{"duration without unit", "duration_no_unit.yaml", []string{"okta.request_timeout", "no unit", "30s"}},
		{"zero timeout", "zero_timeout.yaml", []string{"okta.request_timeout", "not positive"}},
		{"bad risk level", "bad_risk_level.yaml", []string{"line 4", `risk.apps["AWS Production"]`, "severe", "low, medium, high or critical"}},
		{"bad slack ids", "bad_slack_ids.yaml", []string{"2 problems", "slack.admins[1]", `"bob"`, "slack.approvers[1]", "email", "line 5"}},
		{"channel name instead of id", "bad_channel.yaml", []string{"slack.approvals_channel", "channel name", "C…"}},
		{"command without slash", "bad_command.yaml", []string{"slack.command", `"/access-review"`}},
		{"slack tokens", "bad_slack_tokens.yaml", []string{"slack.app_token", "holds a bot token", "slack.bot_token", `"xoxb-"`}},
		{"listen without port", "bad_listen.yaml", []string{"http.listen", "host:port"}},
		{"shutdown timeout zero", "bad_shutdown_timeout.yaml", []string{"serve.shutdown_timeout", "1s to 10m"}},
		{"claim lease too short", "bad_claim_lease.yaml", []string{"serve.claim_lease", "1s to 1h", "2m"}},
		{"log level and format", "bad_log.yaml", []string{"log.level", "verbose", "log.format", "xml"}},
		{"servicenow incomplete", "servicenow_incomplete.yaml", []string{"servicenow.username", "SERVICENOW_USERNAME", "servicenow.password", "SERVICENOW_PASSWORD"}},
		{"list given as scalar", "wrong_shape.yaml", []string{"line 2", "slack.admins", "use a list"}},
		{"many problems at once", "many_problems.yaml", []string{"4 problems", "okta.org_url", "okta.concurrency", "okta.system_log_days", "risk.apps.Payroll"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			c, err := Load(path, noEnv)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want an error", tc.file, c)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load(%s) error %T, want *ValidationError: %v", tc.file, err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+": ") {
				t.Errorf("error does not start with the file name %q:\n%s", path, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestLoadValidFull(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "valid_full.yaml"), noEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"store.path", c.Store.Path, "/var/lib/attest/attest.db"},
		{"log.level lowercased", c.Log.Level, "debug"},
		{"slack.api_url gains a slash", c.Slack.APIURL, "http://127.0.0.1:9999/api/"},
		{"slack.admins", strings.Join(c.Slack.Admins, ","), "U012ABC,S0IAMTEAM,@iam-team"},
		{"slack.approvers", strings.Join(c.Slack.Approvers, ","), "U045DEF,W0ENTERPRISE"},
		{"okta.org_url loses its slash", c.Okta.OrgURL, "https://example.okta.com"},
		{"okta.api_token", c.Okta.APIToken.Reveal(), "00file-token"},
		{"okta.max_retries explicit zero", c.Okta.MaxRetries, 0},
		{"okta.request_timeout", c.Okta.RequestTimeout.String(), "1m"},
		{"okta.rate_limit_headroom", c.Okta.RateLimitHeadroom, 0.2},
		{"okta.event_hook.secret", c.Okta.EventHook.Secret.Reveal(), "hook-file-secret"},
		{"servicenow.enabled", c.ServiceNow.Enabled(), true},
		{"http.listen", c.HTTP.Listen, ":9090"},
		{"risk level lowercased", c.Risk.Apps["Payroll"], RiskCritical},
		{"risk label with space", c.Risk.Apps["AWS Production"], RiskHigh},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
}

func TestMinimalConfig(t *testing.T) {
	inputs := []struct {
		name string
		load func() (*Config, error)
	}{
		{"no file", func() (*Config, error) { return Load("", noEnv) }},
		{"nil getenv", func() (*Config, error) { return Load("", nil) }},
		{"empty bytes", func() (*Config, error) { return Parse(nil, noEnv) }},
		{"only comments", func() (*Config, error) { return Parse([]byte("# nothing yet\n"), noEnv) }},
		{"document marker only", func() (*Config, error) { return Parse([]byte("---\n"), noEnv) }},
		{"empty sections", func() (*Config, error) { return Parse([]byte("okta:\nslack:\n"), noEnv) }},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			c, err := in.load()
			if err != nil {
				t.Fatalf("minimal config rejected: %v", err)
			}
			def := Default()
			if c.Okta.Concurrency != def.Okta.Concurrency || c.Store.Path != DefaultStorePath ||
				c.HTTP.Listen != DefaultHTTPListen || c.Slack.APIURL != DefaultSlackAPIURL ||
				c.Okta.RequestTimeout != DefaultOktaTimeout || c.Okta.MaxRetries != DefaultOktaMaxRetries {
				t.Errorf("defaults not applied: %+v", c)
			}
			err = c.RequireOkta()
			if err == nil {
				t.Fatal("RequireOkta on a minimal config succeeded")
			}
			for _, w := range []string{"okta.org_url", "OKTA_ORG_URL", "okta.api_token", "OKTA_API_TOKEN"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("RequireOkta error lacks %q: %v", w, err)
				}
			}
			if err := c.RequireSlack(); err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") {
				t.Errorf("RequireSlack = %v, want an error naming SLACK_BOT_TOKEN", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("error does not name the file: %v", err)
	}
}

func TestExampleFile(t *testing.T) {
	c, err := Load("../attest.example.yaml", noEnv)
	if err != nil {
		t.Fatalf("attest.example.yaml is invalid: %v", err)
	}
	documented := c.src.lines
	for _, key := range allKeys() {
		t.Run(key, func(t *testing.T) {
			if _, ok := documented[key]; !ok {
				t.Errorf("attest.example.yaml does not show %s", key)
			}
		})
	}
	// The example shows the defaults: apart from the sample risk ratings it
	// must render exactly like Default().
	c.Risk.Apps, c.Risk.Groups = nil, nil
	got, _ := c.Redacted()
	want, _ := Default().Redacted()
	if string(got) != string(want) {
		t.Errorf("example differs from the defaults:\n%s\nwant:\n%s", got, want)
	}
}

// allKeys lists the path of every struct key of Config, leaves and
// sections alike, e.g. "okta", "okta.event_hook.secret".
func allKeys() []string {
	var out []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || !f.IsExported() {
				continue
			}
			path := keyPath(prefix, name)
			out = append(out, path)
			if f.Type.Kind() == reflect.Struct {
				walk(path, f.Type)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return out
}

func TestEnvOverrides(t *testing.T) {
	const file = `
store: {path: file.db}
slack: {app_token: xapp-file, bot_token: xoxb-file, api_url: "https://file.example.com/api/"}
okta: {org_url: "https://file.okta.com", api_token: file-token}
servicenow: {url: "https://file.service-now.com", username: file-user, password: file-pw}
`
	tests := []struct {
		name string
		env  map[string]string
		get  func(*Config) string
		want string
	}{
		{"file value without env", nil, func(c *Config) string { return c.Store.Path }, "file.db"},
		{"ATTEST_DB", map[string]string{EnvDB: "/data/env.db"}, func(c *Config) string { return c.Store.Path }, "/data/env.db"},
		{"empty env is unset", map[string]string{EnvDB: ""}, func(c *Config) string { return c.Store.Path }, "file.db"},
		{"blank env is unset", map[string]string{EnvDB: "  \n"}, func(c *Config) string { return c.Store.Path }, "file.db"},
		{"SLACK_APP_TOKEN", map[string]string{EnvSlackAppToken: "xapp-env"},
			func(c *Config) string { return c.Slack.AppToken.Reveal() }, "xapp-env"},
		{"SLACK_BOT_TOKEN trimmed", map[string]string{EnvSlackBotToken: "xoxb-env\n"},
			func(c *Config) string { return c.Slack.BotToken.Reveal() }, "xoxb-env"},
		{"SLACK_API_URL gains a slash", map[string]string{EnvSlackAPIURL: "http://localhost:3000/api"},
			func(c *Config) string { return c.Slack.APIURL }, "http://localhost:3000/api/"},
		{"OKTA_ORG_URL", map[string]string{EnvOktaOrgURL: "https://env.okta.com/"},
			func(c *Config) string { return c.Okta.OrgURL }, "https://env.okta.com"},
		{"OKTA_DOMAIN bare host", map[string]string{EnvOktaDomain: "env.okta.com"},
			func(c *Config) string { return c.Okta.OrgURL }, "https://env.okta.com"},
		{"OKTA_DOMAIN full URL", map[string]string{EnvOktaDomain: "http://127.0.0.1:8443"},
			func(c *Config) string { return c.Okta.OrgURL }, "http://127.0.0.1:8443"},
		{"OKTA_ORG_URL wins over OKTA_DOMAIN", map[string]string{EnvOktaOrgURL: "https://url.okta.com", EnvOktaDomain: "domain.okta.com"},
			func(c *Config) string { return c.Okta.OrgURL }, "https://url.okta.com"},
		{"OKTA_API_TOKEN", map[string]string{EnvOktaAPIToken: "env-token"},
			func(c *Config) string { return c.Okta.APIToken.Reveal() }, "env-token"},
		{"OKTA_EVENT_HOOK_SECRET", map[string]string{EnvOktaEventHook: "hook"},
			func(c *Config) string { return c.Okta.EventHook.Secret.Reveal() }, "hook"},
		{"SERVICENOW_URL", map[string]string{EnvServiceNowURL: "https://env.service-now.com/"},
			func(c *Config) string { return c.ServiceNow.URL }, "https://env.service-now.com"},
		{"SERVICENOW_INSTANCE name", map[string]string{EnvServiceNowInstance: "acme"},
			func(c *Config) string { return c.ServiceNow.URL }, "https://acme.service-now.com"},
		{"SERVICENOW_INSTANCE host", map[string]string{EnvServiceNowInstance: "acme.servicenowservices.com"},
			func(c *Config) string { return c.ServiceNow.URL }, "https://acme.servicenowservices.com"},
		{"SERVICENOW_URL wins over SERVICENOW_INSTANCE", map[string]string{EnvServiceNowURL: "https://url.service-now.com", EnvServiceNowInstance: "acme"},
			func(c *Config) string { return c.ServiceNow.URL }, "https://url.service-now.com"},
		{"SERVICENOW_USERNAME", map[string]string{EnvServiceNowUsername: "env-user"},
			func(c *Config) string { return c.ServiceNow.Username }, "env-user"},
		{"SERVICENOW_PASSWORD", map[string]string{EnvServiceNowPassword: "env-pw"},
			func(c *Config) string { return c.ServiceNow.Password.Reveal() }, "env-pw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(file), env(tc.env))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tc.get(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnvOnlyConfig(t *testing.T) {
	c, err := Load("", env(map[string]string{
		EnvOktaDomain: "example.okta.com", EnvOktaAPIToken: "00abc",
		EnvSlackAppToken: "xapp-1", EnvSlackBotToken: "xoxb-1",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := c.RequireOkta(); err != nil {
		t.Errorf("RequireOkta: %v", err)
	}
	if err := c.RequireSlack(); err != nil {
		t.Errorf("RequireSlack: %v", err)
	}
}

func TestEnvErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"OKTA_DOMAIN over http", map[string]string{EnvOktaDomain: "http://example.okta.com"},
			[]string{"okta.org_url (from OKTA_DOMAIN)", "use https://"}},
		{"OKTA_ORG_URL with a path", map[string]string{EnvOktaOrgURL: "https://example.okta.com/home"},
			[]string{"okta.org_url (from OKTA_ORG_URL)", "has a path"}},
		{"SERVICENOW_INSTANCE with a space", map[string]string{EnvServiceNowInstance: "acme corp",
			EnvServiceNowUsername: "u", EnvServiceNowPassword: "p"},
			[]string{"servicenow.url (from SERVICENOW_INSTANCE)", "not a valid URL"}},
		{"SLACK_BOT_TOKEN of the wrong kind", map[string]string{EnvSlackBotToken: "xoxp-user"},
			[]string{"slack.bot_token (from SLACK_BOT_TOKEN)", "a user token"}},
		{"ATTEST_DB does not hide a file line", map[string]string{EnvDB: "x.db", EnvSlackAPIURL: "ftp://slack.com/api/"},
			[]string{"slack.api_url (from SLACK_API_URL)", `scheme "ftp"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte("okta:\n  concurrency: 4\n"), env(tc.env))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), "line ") {
				t.Errorf("error about an environment value points at a file line: %v", err)
			}
		})
	}
}

func TestRedactedParsesBack(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"defaults", func(*Config) {}},
		{"every plain key changed", func(c *Config) {
			c.Store.Path = "/tmp/a.db"
			c.Log = LogConfig{Level: "warn", Format: "json"}
			c.Slack.APIURL = "http://localhost:1/api/"
			c.Slack.ApprovalsChannel = "C0123456789"
			c.Slack.Admins = []string{"U012ABC", "@iam-team"}
			c.Okta.OrgURL = "https://example.okta.com"
			c.Okta.RequestTimeout = Duration(90 * time.Second)
			c.Okta.RateLimitHeadroom = 0.25
			c.Risk.Apps = map[string]RiskLevel{"AWS Production": RiskHigh}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(c)
			first, err := c.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(first, noEnv)
			if err != nil {
				t.Fatalf("Redacted output does not parse back: %v\n%s", err, first)
			}
			second, _ := back.Redacted()
			if string(first) != string(second) {
				t.Errorf("round trip changed the config:\n%s\nthen:\n%s", first, second)
			}
		})
	}
}
