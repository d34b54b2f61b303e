package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestSecretRendering(t *testing.T) {
	set, unset := Secret("hunter2-value"), Secret("")
	tests := []struct {
		name   string
		render func(Secret) string
		set    string
		unset  string
	}{
		{"String", Secret.String, "<secret>", ""},
		{"%v", func(s Secret) string { return fmt.Sprintf("%v", s) }, "<secret>", ""},
		{"%+v", func(s Secret) string { return fmt.Sprintf("%+v", s) }, "<secret>", ""},
		{"%#v", func(s Secret) string { return fmt.Sprintf("%#v", s) }, `config.Secret("<secret>")`, `config.Secret("")`},
		{"%s", func(s Secret) string { return fmt.Sprintf("%s", s) }, "<secret>", ""},
		{"%q", func(s Secret) string { return fmt.Sprintf("%q", s) }, `"<secret>"`, `""`},
		{"%x", func(s Secret) string { return fmt.Sprintf("%x", s) }, "<secret>", ""},
		{"%d", func(s Secret) string { return fmt.Sprintf("%d", s) }, "<secret>", ""},
		{"json", func(s Secret) string { return jsonRoundTrip(t, s) }, "<secret>", ""},
		{"text", func(s Secret) string { b, _ := s.MarshalText(); return string(b) }, "<secret>", ""},
		{"yaml", func(s Secret) string { b, _ := yaml.Marshal(s); return strings.TrimSpace(string(b)) }, "<secret>", `""`},
		{"Reveal", Secret.Reveal, "hunter2-value", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.render(set); got != tc.set {
				t.Errorf("set secret rendered %q, want %q", got, tc.set)
			}
			if got := tc.render(unset); got != tc.unset {
				t.Errorf("unset secret rendered %q, want %q", got, tc.unset)
			}
		})
	}
	if !set.IsSet() || unset.IsSet() {
		t.Errorf("IsSet: set=%v unset=%v", set.IsSet(), unset.IsSet())
	}
}

// jsonRoundTrip marshals s and decodes the result as a plain string, since
// encoding/json escapes "<" in its output.
func jsonRoundTrip(t *testing.T, s Secret) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// sentinel marks every secret in the tests below; it must never surface.
const sentinel = "S3NTINEL"

func sentinelEnv() map[string]string {
	return map[string]string{
		EnvSlackAppToken:      "xapp-1-" + sentinel + "-app",
		EnvSlackBotToken:      "xoxb-" + sentinel + "-bot",
		EnvOktaAPIToken:       "00" + sentinel + "okta",
		EnvOktaEventHook:      "hook-" + sentinel,
		EnvServiceNowPassword: "pw-" + sentinel,
	}
}

func TestSecretsNeverRendered(t *testing.T) {
	valid := `
slack: {app_token: "xapp-file-` + sentinel + `", bot_token: "xoxb-file-` + sentinel + `"}
okta: {org_url: "https://example.okta.com", api_token: "file-` + sentinel + `", event_hook: {secret: "file-` + sentinel + `"}}
servicenow: {url: "https://acme.service-now.com", username: attest, password: "file-` + sentinel + `"}
`
	tests := []struct {
		name string
		yaml string
		env  map[string]string
	}{
		{"secrets from the file", valid, nil},
		{"secrets from the environment", "servicenow: {url: https://acme.service-now.com, username: attest}\n", sentinelEnv()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), env(tc.env))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !strings.Contains(c.Okta.APIToken.Reveal(), sentinel) {
				t.Fatalf("test is broken: the sentinel did not reach the config")
			}
			renders := map[string]string{
				"%v":  fmt.Sprintf("%v", c),
				"%+v": fmt.Sprintf("%+v", c),
				"%#v": fmt.Sprintf("%#v", c),
				"*%v": fmt.Sprintf("%v %+v %#v", *c, *c, *c),
			}
			// Verbs that make no sense for a struct still must not reach a
			// secret; a variable format keeps vet from refusing them.
			for _, verb := range []string{"%s", "%d", "%x", "%q", "%10.3v"} {
				renders[verb] = fmt.Sprintf(verb, *c)
			}
			j, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			renders["json"] = string(j)
			y, err := yaml.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			renders["yaml"] = string(y)
			r, err := c.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			renders["Redacted"] = string(r)
			for how, out := range renders {
				if strings.Contains(out, sentinel) {
					t.Errorf("%s leaks the secret: %s", how, out)
				}
			}
			if n := strings.Count(string(r), "<secret>"); n != 5 {
				t.Errorf("Redacted shows %d <secret>, want 5:\n%s", n, r)
			}
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
	}{
		{"bad token shapes from the file", `
slack: {app_token: "` + sentinel + `-app", bot_token: "xapp-` + sentinel + `"}
okta: {api_token: "SSWS ` + sentinel + `"}
`, nil},
		{"bad token shapes from the environment", "", map[string]string{
			EnvSlackAppToken: "xoxp-" + sentinel, EnvSlackBotToken: sentinel, EnvOktaAPIToken: "tok " + sentinel}},
		{"secret beside an unknown key", "okta: {api_token: " + sentinel + ", api_tokn: x}\n", nil},
		{"secret beside a syntax error", "okta: {api_token: " + sentinel + "\n  bad: [\n", nil},
		{"secret beside a type error", "okta: {api_token: " + sentinel + ", concurrency: [1]}\n", nil},
		{"password inside a URL", "servicenow: {url: \"https://admin:" + sentinel + "@acme.service-now.com\", username: a}\n",
			map[string]string{EnvServiceNowPassword: sentinel}},
		{"password inside an OKTA_DOMAIN URL", "", map[string]string{EnvOktaDomain: "https://u:" + sentinel + "@x.okta.com/p"}},
		{"secret as an unparsable URL", "", map[string]string{EnvOktaOrgURL: "https://x.okta.com:" + sentinel, EnvOktaAPIToken: sentinel}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), env(tc.env))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if strings.Contains(err.Error(), sentinel) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), sentinel) {
				t.Errorf("error leaks the secret: %v", err)
			}
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, f := range ve.Fields {
					if strings.Contains(f.Key+f.Msg, sentinel) {
						t.Errorf("field error leaks the secret: %v", f)
					}
				}
			}
		})
	}
}

func TestRedactedShowsEffectiveConfig(t *testing.T) {
	c, err := Parse([]byte("okta: {concurrency: 9}\n"), env(map[string]string{EnvOktaAPIToken: sentinel}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"concurrency: 9", "api_token: <secret>", `app_token: ""`, "request_timeout: 30s",
		"path: ./attest.db", "api_url: https://slack.com/api/", "system_log_days: 90",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Redacted lacks %q:\n%s", want, out)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr string
	}{
		{"seconds", "90s", 90 * time.Second, ""},
		{"hours", "36h", 36 * time.Hour, ""},
		{"mixed Go units", "1h30m", 90 * time.Minute, ""},
		{"days", "90d", 90 * 24 * time.Hour, ""},
		{"days and hours", "1d12h", 36 * time.Hour, ""},
		{"zero", "0", 0, ""},
		{"negative days", "-2d", -48 * time.Hour, ""},
		{"surrounding spaces", " 5m ", 5 * time.Minute, ""},
		{"empty", "", 0, "empty duration"},
		{"no unit", "30", 0, "no unit"},
		{"word", "soon", 0, "not a duration"},
		{"fractional days", "1.5d", 0, "not a duration"},
		{"days then sign", "1d-2h", 0, "not a duration"},
		{"unknown unit", "3w", 0, "not a duration"},
		{"too many days", "999999999d", 0, "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Duration() != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tc.in, got.Duration(), err, tc.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"whole days", 90 * 24 * time.Hour, "90d"},
		{"hours", 36 * time.Hour, "36h"},
		{"hours and minutes", 90 * time.Minute, "1h30m"},
		{"minutes", 5 * time.Minute, "5m"},
		{"seconds", 30 * time.Second, "30s"},
		{"fraction", 1500 * time.Millisecond, "1.5s"},
		{"milliseconds", 250 * time.Millisecond, "250ms"},
		{"negative days", -48 * time.Hour, "-2d"},
		{"negative hours", -3 * time.Hour, "-3h"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Duration(tc.in)
			if got := d.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			back, err := ParseDuration(d.String())
			if err != nil || back != d {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v back", d.String(), back, err, tc.in)
			}
		})
	}
}

func TestDurationEncodings(t *testing.T) {
	type wrapper struct {
		D Duration `yaml:"d" json:"d"`
	}
	tests := []struct {
		name  string
		value Duration
		yaml  string
		json  string
	}{
		{"days", Duration(7 * 24 * time.Hour), "d: 7d\n", `{"d":"7d"}`},
		{"seconds", Duration(90 * time.Second), "d: 1m30s\n", `{"d":"1m30s"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y, err := yaml.Marshal(wrapper{tc.value})
			if err != nil || string(y) != tc.yaml {
				t.Errorf("yaml.Marshal = %q, %v; want %q", y, err, tc.yaml)
			}
			var fromYAML wrapper
			if err := yaml.Unmarshal(y, &fromYAML); err != nil || fromYAML.D != tc.value {
				t.Errorf("yaml.Unmarshal(%q) = %v, %v", y, fromYAML.D, err)
			}
			j, err := json.Marshal(wrapper{tc.value})
			if err != nil || string(j) != tc.json {
				t.Errorf("json.Marshal = %s, %v; want %s", j, err, tc.json)
			}
			var fromJSON wrapper
			if err := json.Unmarshal(j, &fromJSON); err != nil || fromJSON.D != tc.value {
				t.Errorf("json.Unmarshal(%s) = %v, %v", j, fromJSON.D, err)
			}
		})
	}
}

func TestDurationYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"word", "d: soon\n", `line 1: "soon" is not a duration`},
		{"list", "d: [1s]\n", "line 1: expected a duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v struct {
				D Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte(tc.doc), &v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("yaml.Unmarshal(%q) error = %v, want %q", tc.doc, err, tc.want)
			}
		})
	}
}
