package config

import (
	"strings"
	"testing"
)

// slack.mode decides which credential serve needs: the app-level token in
// socket mode, the signing secret in http mode; each error names the key,
// its variable and the other way out.
func TestSlackModeCredentials(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    []string // substrings of RequireSlack's error; nil: no error
		notWant string
	}{
		{"socket by default, app token missing", "", map[string]string{EnvSlackBotToken: "xoxb-1"},
			[]string{"slack.app_token", EnvSlackAppToken, "slack.mode: http"}, "signing_secret"},
		{"socket with both tokens", "", map[string]string{EnvSlackBotToken: "xoxb-1", EnvSlackAppToken: "xapp-1"}, nil, ""},
		{"http without the signing secret", "slack: {mode: http}\n", map[string]string{EnvSlackBotToken: "xoxb-1", EnvSlackAppToken: "xapp-1"},
			[]string{"slack.signing_secret", EnvSlackSigningSecret, "slack.mode: socket"}, "app_token"},
		{"http needs no app token", "slack: {mode: http}\n", map[string]string{EnvSlackBotToken: "xoxb-1", EnvSlackSigningSecret: "8f742231b10e8888abcd99yyyzzz85a5"}, nil, ""},
		{"http by environment, mode in capitals", "", map[string]string{"ATTEST_SLACK_MODE": "HTTP", EnvSlackBotToken: "xoxb-1",
			"ATTEST_SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"}, nil, ""},
		{"http still needs the bot token", "slack: {mode: http}\n", map[string]string{EnvSlackSigningSecret: "s3cr3t-signing"},
			[]string{"slack.bot_token", EnvSlackBotToken}, "app_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = c.RequireSlack()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("RequireSlack = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("RequireSlack accepted it; want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("RequireSlack error lacks %q: %v", w, err)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("RequireSlack error names %s, which this mode does not need: %v", tc.notWant, err)
			}
		})
	}
}

func TestSlackModeValidation(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{"unknown mode", "slack: {mode: events}\n", nil, []string{"slack.mode", `"events" is not a mode`, "socket", "http"}},
		{"http with the listener off", "slack: {mode: http}\nhttp: {listen: \"off\"}\n", nil,
			[]string{"http.listen", "slack.mode is http"}},
		{"a bot token as the signing secret", "", map[string]string{EnvSlackSigningSecret: "xoxb-123-456"},
			[]string{"slack.signing_secret (from SLACK_SIGNING_SECRET)", "holds a bot token", "App Credentials"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), func(k string) string { return tc.env[k] })
			if err == nil {
				t.Fatalf("accepted; want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), "xoxb-123-456") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

// The signing secret is a Secret: it never prints.
func TestSigningSecretRedacted(t *testing.T) {
	c, err := Parse([]byte("slack: {mode: http, signing_secret: 8f742231b10e8888abcd99yyyzzz85a5}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "8f742231") || !strings.Contains(string(out), "signing_secret: <secret>") {
		t.Fatalf("redacted config:\n%s", out)
	}
	if c.Slack.Mode != SlackModeHTTP || c.Slack.SigningSecret.Reveal() != "8f742231b10e8888abcd99yyyzzz85a5" {
		t.Fatalf("slack = %+v", c.Slack)
	}
}
