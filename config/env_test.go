package config

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// leafKeys walks the yaml tags of Default()'s tree on its own (not through
// the mapping under test) and returns every leaf key path with its field.
func leafKeys(t *testing.T, c *Config) map[string]reflect.Value {
	t.Helper()
	out := map[string]reflect.Value{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			key := strings.TrimPrefix(prefix+"."+name, ".")
			fv := v.Field(i)
			switch fv.Interface().(type) {
			case Secret, Duration:
			default:
				if fv.Kind() == reflect.Struct {
					walk(fv, key)
					continue
				}
			}
			out[key] = fv
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return out
}

// sampleEnv returns a value of the field's kind that differs from the
// default, and what the field should hold after reading it.
func sampleEnv(t *testing.T, key string, def reflect.Value) (string, any) {
	t.Helper()
	switch v := def.Interface().(type) {
	case Secret:
		return "sample-secret-0123456789", Secret("sample-secret-0123456789")
	case Duration:
		return "90m", Duration(90 * time.Minute)
	case string:
		return "sample value", "sample value"
	case int:
		return "0x11", 17
	case float64:
		return "0.25", 0.25
	case bool:
		if v {
			return "off", false
		}
		return "yes", true
	case []string:
		return " a , b,, c ", []string{"a", "b", "c"}
	case map[string][]string:
		return "Salesforce=a@x.com b@x.com, Jira=c@x.com", map[string][]string{"Salesforce": {"a@x.com", "b@x.com"}, "Jira": {"c@x.com"}}
	case map[string]RiskLevel:
		return "AWS Production=high, x=y=low", map[string]RiskLevel{"AWS Production": RiskHigh, "x=y": RiskLow}
	}
	t.Fatalf("%s: no sample for type %s; teach sampleEnv (and the mapping) the type", key, def.Type())
	return "", nil
}

// TestEveryKeyHasAVariable walks every key of Default()'s tree and sets it
// through its ATTEST_ variable alone: the value lands in that key's field
// and the key remembers the variable. A new key is covered with no edit.
func TestEveryKeyHasAVariable(t *testing.T) {
	if len(envUnsupported) > 0 {
		t.Fatalf("keys the environment cannot set: %v; teach envKind and parseEnvValue their type", envUnsupported)
	}
	leaves := leafKeys(t, Default())
	if len(leaves) != len(envKeys) {
		t.Errorf("%d leaf keys, %d in the environment mapping", len(leaves), len(envKeys))
	}
	for key, def := range leaves {
		name := EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		t.Run(name, func(t *testing.T) {
			raw, want := sampleEnv(t, key, def)
			c := Default()
			c.src = &sources{env: map[string]string{}}
			var p problems
			c.applyEnv(func(k string) string {
				if k == name {
					return raw
				}
				return ""
			}, &p)
			if len(p.list) > 0 {
				t.Fatalf("%s=%q: %v", name, raw, p.list)
			}
			got := leafKeys(t, c)[key].Interface()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s=%q set %s to %#v, want %#v", name, raw, key, got, want)
			}
			if c.src.env[key] != name {
				t.Errorf("source of %s = %q, want %s", key, c.src.env[key], name)
			}
		})
	}
}

func TestEnvNamesAreUnique(t *testing.T) {
	seen := map[string]string{}
	for _, v := range EnvVars() {
		if other, dup := seen[v.Name]; dup {
			t.Errorf("%s sets both %s and %s", v.Name, other, v.Key)
		}
		seen[v.Name] = v.Key
		if v.Kind == "" {
			t.Errorf("%s (%s) has no kind: its key is not in the mapping", v.Name, v.Key)
		}
		if v.Alias && v.Kind != KindString && v.Kind != KindSecret {
			t.Errorf("alias %s of %s reads a %s; aliases are for strings and secrets", v.Name, v.Key, v.Kind)
		}
	}
	if _, ok := seen[EnvConfig]; ok {
		t.Errorf("%s names a key, but it names the config file", EnvConfig)
	}
	vars := EnvVars()
	if !sort.SliceIsSorted(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name }) {
		t.Error("EnvVars is not sorted by name")
	}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"ATTEST_HTTP_LISTEN", true},
		{"ATTEST_SLACK_APPROVALS_CHANNEL", true},
		{"ATTEST_OKTA_SYNC_SCHEDULE", true},
		{"ATTEST_SERVE_SHUTDOWN_TIMEOUT", true},
		{"ATTEST_CONFIG", true},
		{"OKTA_API_TOKEN", true},
		{"ATTEST_HTTP_LISTN", false},
		{"HOME", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := KnownEnv(tc.name); got != tc.want {
				t.Errorf("KnownEnv(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// TestGenericEnvLoads sets a deployment's worth of keys by their generic
// names and loads them through Parse, validation included.
func TestGenericEnvLoads(t *testing.T) {
	c, err := Parse([]byte("http: {listen: 127.0.0.1:9999}\nslack: {admins: [U0FILE]}\n"), env(map[string]string{
		"ATTEST_HTTP_LISTEN":              "0.0.0.0:8080",
		"ATTEST_CAMPAIGNS_DIR":            "/etc/attest/campaigns",
		"ATTEST_SLACK_APPROVALS_CHANNEL":  "C0123456789",
		"ATTEST_SLACK_ADMINS":             "U012ABC, S0IAMTEAM",
		"ATTEST_SLACK_APPROVERS":          `["U045DEF", "@iam-team"]`,
		"ATTEST_OKTA_SYNC_SCHEDULE":       "@every 6h",
		"ATTEST_OKTA_CONCURRENCY":         "8",
		"ATTEST_OKTA_RATE_LIMIT_HEADROOM": "0.2",
		"ATTEST_SERVE_SHUTDOWN_TIMEOUT":   "45s",
		"ATTEST_REMEDIATION_DRY_RUN":      "yes",
		"ATTEST_RISK_APPS":                "Payroll=Critical, AWS Production=high",
		"ATTEST_RISK_GROUPS":              `{"*-admins": "critical"}`,
		"ATTEST_SWEEP_SCHEDULE":           "off",
		"ATTEST_OKTA_API_TOKEN":           "00generic",
	}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"http.listen", c.HTTP.Listen, "0.0.0.0:8080"},
		{"campaigns.dir", c.Campaigns.Dir, "/etc/attest/campaigns"},
		{"slack.approvals_channel", c.Slack.ApprovalsChannel, "C0123456789"},
		{"slack.admins replaces the file's", c.Slack.Admins, []string{"U012ABC", "S0IAMTEAM"}},
		{"slack.approvers from JSON", c.Slack.Approvers, []string{"U045DEF", "@iam-team"}},
		{"okta.sync_schedule", c.Okta.SyncSchedule, "@every 6h"},
		{"okta.concurrency", c.Okta.Concurrency, 8},
		{"okta.rate_limit_headroom", c.Okta.RateLimitHeadroom, 0.2},
		{"serve.shutdown_timeout", c.Serve.ShutdownTimeout, Duration(45 * time.Second)},
		{"remediation.dry_run", c.Remediation.DryRun, true},
		{"risk.apps normalized", c.Risk.Apps, map[string]RiskLevel{"Payroll": RiskCritical, "AWS Production": RiskHigh}},
		{"risk.groups", c.Risk.Groups, map[string]RiskLevel{"*-admins": RiskCritical}},
		{"sweep.schedule off", c.Sweep.Schedule, ""},
		{"okta.api_token", c.Okta.APIToken.Reveal(), "00generic"},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if !reflect.DeepEqual(ck.got, ck.want) {
				t.Errorf("got %#v, want %#v", ck.got, ck.want)
			}
		})
	}
}

// TestEnvValueErrors: a value that cannot be read, or fails validation,
// names its key and its variable, and every problem shows at once.
func TestEnvValueErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"int", map[string]string{"ATTEST_OKTA_CONCURRENCY": "lots"},
			[]string{"okta.concurrency (from ATTEST_OKTA_CONCURRENCY)", `"lots" is not a whole number`}},
		{"int out of range", map[string]string{"ATTEST_OKTA_CONCURRENCY": "100"},
			[]string{"okta.concurrency (from ATTEST_OKTA_CONCURRENCY)", "1..75"}},
		{"number", map[string]string{"ATTEST_REMEDIATION_MAX_GROUP_SHARE": "half"},
			[]string{"remediation.max_group_share (from ATTEST_REMEDIATION_MAX_GROUP_SHARE)", "not a number"}},
		{"not a finite number", map[string]string{"ATTEST_REMEDIATION_MAX_GROUP_SHARE": "NaN"},
			[]string{"(from ATTEST_REMEDIATION_MAX_GROUP_SHARE)", "not a number"}},
		{"bool", map[string]string{"ATTEST_REMEDIATION_DRY_RUN": "maybe"},
			[]string{"remediation.dry_run (from ATTEST_REMEDIATION_DRY_RUN)", "use true or false"}},
		{"duration", map[string]string{"ATTEST_SERVE_SHUTDOWN_TIMEOUT": "soon"},
			[]string{"serve.shutdown_timeout (from ATTEST_SERVE_SHUTDOWN_TIMEOUT)", `"soon" is not a duration`, "90d"}},
		{"duration without unit", map[string]string{"ATTEST_SERVE_SHUTDOWN_TIMEOUT": "30"},
			[]string{"(from ATTEST_SERVE_SHUTDOWN_TIMEOUT)", "no unit"}},
		{"duration out of range", map[string]string{"ATTEST_SERVE_SHUTDOWN_TIMEOUT": "1h"},
			[]string{"serve.shutdown_timeout (from ATTEST_SERVE_SHUTDOWN_TIMEOUT)", "1s to 10m"}},
		{"bad JSON list", map[string]string{"ATTEST_SLACK_ADMINS": `["U012ABC",`},
			[]string{"slack.admins (from ATTEST_SLACK_ADMINS)", "not a JSON list", `["a", "b"]`}},
		{"list item invalid", map[string]string{"ATTEST_SLACK_APPROVERS": "U045DEF, bob@example.com"},
			[]string{"slack.approvers[1] (from ATTEST_SLACK_APPROVERS)", "email address"}},
		{"map item without =", map[string]string{"ATTEST_RISK_APPS": "Payroll=critical, AWS"},
			[]string{"risk.apps (from ATTEST_RISK_APPS)", `item "AWS" has no "="`, "Payroll=critical"}},
		{"map duplicate", map[string]string{"ATTEST_RISK_APPS": "a=low,a=high"},
			[]string{"(from ATTEST_RISK_APPS)", `"a" is given twice`}},
		{"map bad level", map[string]string{"ATTEST_RISK_GROUPS": "admins=severe"},
			[]string{"risk.groups.admins (from ATTEST_RISK_GROUPS)", "low, medium, high or critical"}},
		{"listen", map[string]string{"ATTEST_HTTP_LISTEN": "8080"},
			[]string{"http.listen (from ATTEST_HTTP_LISTEN)", "host:port"}},
		{"generic and short name disagree", map[string]string{"ATTEST_STORE_PATH": "/a.db", EnvDB: "/b.db"},
			[]string{"store.path (from ATTEST_STORE_PATH)", "ATTEST_DB is also set", "set only one"}},
		{"several at once", map[string]string{"ATTEST_OKTA_CONCURRENCY": "lots", "ATTEST_LOG_LEVEL": "loud"},
			[]string{"3 problems", "ATTEST_OKTA_CONCURRENCY", "log.level (from ATTEST_LOG_LEVEL)", "okta.max_retries"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := ""
			if tc.name == "several at once" {
				file = "okta:\n  max_retries: 99\n"
			}
			_, err := Parse([]byte(file), env(tc.env))
			if err == nil {
				t.Fatalf("Parse with %v succeeded", tc.env)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestShortNamesBesideGeneric: the short names keep working and keep
// their order; agreeing generic names are accepted beside them.
func TestShortNamesBesideGeneric(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		got  func(*Config) string
		want string
		src  string
	}{
		{"short alone", map[string]string{EnvDB: "/s.db"}, func(c *Config) string { return c.Store.Path }, "/s.db", EnvDB},
		{"generic alone", map[string]string{"ATTEST_STORE_PATH": "/g.db"}, func(c *Config) string { return c.Store.Path }, "/g.db", "ATTEST_STORE_PATH"},
		{"both agree", map[string]string{"ATTEST_STORE_PATH": "/x.db", EnvDB: "/x.db"}, func(c *Config) string { return c.Store.Path }, "/x.db", EnvDB},
		{"empty generic is unset", map[string]string{"ATTEST_STORE_PATH": " ", EnvDB: "/s.db"}, func(c *Config) string { return c.Store.Path }, "/s.db", EnvDB},
		{"OKTA_DOMAIN agrees with the generic URL", map[string]string{EnvOktaDomain: "a.okta.com", "ATTEST_OKTA_ORG_URL": "https://a.okta.com"},
			func(c *Config) string { return c.Okta.OrgURL }, "https://a.okta.com", EnvOktaDomain},
		{"OKTA_ORG_URL still beats OKTA_DOMAIN", map[string]string{EnvOktaDomain: "d.okta.com", EnvOktaOrgURL: "https://u.okta.com"},
			func(c *Config) string { return c.Okta.OrgURL }, "https://u.okta.com", EnvOktaOrgURL},
		{"generic secret", map[string]string{"ATTEST_SLACK_BOT_TOKEN": "xoxb-generic"},
			func(c *Config) string { return c.Slack.BotToken.Reveal() }, "xoxb-generic", "ATTEST_SLACK_BOT_TOKEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte("store: {path: file.db}\n"), env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.got(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if src := c.src.env[keyOf(t, tc.src)]; src != tc.src {
				t.Errorf("source %q, want %s", src, tc.src)
			}
		})
	}
}

// keyOf returns the key a variable sets.
func keyOf(t *testing.T, name string) string {
	t.Helper()
	for _, v := range EnvVars() {
		if v.Name == name {
			return v.Key
		}
	}
	t.Fatalf("%s sets no key", name)
	return ""
}

// TestEnvErrorsHideSecrets: a conflict over a secret names the variables,
// never the values, and every secret key (audit key included) is scrubbed.
func TestEnvErrorsHideSecrets(t *testing.T) {
	_, err := Parse(nil, env(map[string]string{
		"ATTEST_OKTA_API_TOKEN": "00generic-token", EnvOktaAPIToken: "00short-token",
		EnvAuditKey: "0123456789abcdef-audit", "ATTEST_LOG_LEVEL": "0123456789abcdef-audit",
	}))
	if err == nil {
		t.Fatal("conflicting tokens accepted")
	}
	msg := err.Error()
	for _, secret := range []string{"00generic-token", "00short-token", "0123456789abcdef-audit"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret %q:\n%s", secret, msg)
		}
	}
	for _, w := range []string{"ATTEST_OKTA_API_TOKEN", "OKTA_API_TOKEN is also set"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
}
