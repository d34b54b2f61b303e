package config

import (
	"fmt"
	"os"
	"strings"
)

// Load reads the YAML file at path, applies environment overrides through
// getenv, fills defaults and validates. An empty path means no file: defaults
// and environment only. A path that was given but cannot be read is an error
// wrapping the os error (errors.Is(err, fs.ErrNotExist) tells a missing
// file), so the caller decides whether a missing default path matters.
// Problems with the content are returned as a *ValidationError naming the
// file, the line and the key. A nil getenv means no environment.
func Load(path string, getenv func(string) string) (*Config, error) {
	if path == "" {
		return parse("", nil, getenv)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse(path, data, getenv)
}

// Parse is Load from bytes already read; errors name no file. Empty data is
// a valid config of defaults (plus environment).
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	return parse("", data, getenv)
}

func parse(file string, data []byte, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := Default()
	c.src = &sources{file: file, lines: map[string]int{}, env: map[string]string{}}
	if err := c.decode(data); err != nil {
		return nil, err
	}
	// Problems with the environment and with the values are reported
	// together, so one run shows them all.
	var p problems
	c.applyEnv(getenv, &p)
	c.normalize()
	c.fillDefaults()
	c.check(&p)
	if err := p.err(c); err != nil {
		return nil, err
	}
	return c, nil
}

// domainURL turns OKTA_DOMAIN into a URL: a bare host gets https://, a full
// URL is used as is.
func domainURL(v string) string {
	if strings.Contains(v, "://") {
		return v
	}
	return "https://" + v
}

// instanceURL turns SERVICENOW_INSTANCE into a URL: "acme" becomes
// https://acme.service-now.com, a host gets https://, a full URL is kept.
func instanceURL(v string) string {
	switch {
	case strings.Contains(v, "://"):
		return v
	case strings.Contains(v, "."):
		return "https://" + v
	default:
		return "https://" + v + ".service-now.com"
	}
}

// normalize puts values in the one form the rest of attest expects, so that
// harmless variations (a trailing slash, "INFO") are not errors.
func (c *Config) normalize() {
	c.Okta.OrgURL = strings.TrimRight(strings.TrimSpace(c.Okta.OrgURL), "/")
	c.ServiceNow.URL = strings.TrimRight(strings.TrimSpace(c.ServiceNow.URL), "/")
	c.normalizeServiceNow()
	c.Slack.APIURL = strings.TrimSpace(c.Slack.APIURL)
	if c.Slack.APIURL != "" && !strings.HasSuffix(c.Slack.APIURL, "/") {
		c.Slack.APIURL += "/"
	}
	c.Slack.Command = strings.TrimSpace(c.Slack.Command)
	c.Slack.Mode = strings.ToLower(strings.TrimSpace(c.Slack.Mode))
	c.Okta.Auth = strings.ToLower(strings.TrimSpace(c.Okta.Auth))
	c.Slack.ApprovalsChannel = strings.TrimSpace(c.Slack.ApprovalsChannel)
	c.Log.Level = strings.ToLower(strings.TrimSpace(c.Log.Level))
	c.Log.Format = strings.ToLower(strings.TrimSpace(c.Log.Format))
	c.HTTP.Listen = strings.TrimSpace(c.HTTP.Listen)
	c.Okta.SyncSchedule = strings.TrimSpace(c.Okta.SyncSchedule)
	// "off" turns the sweep off, as "" does: the environment cannot give "".
	if c.Sweep.Schedule = strings.TrimSpace(c.Sweep.Schedule); strings.EqualFold(c.Sweep.Schedule, ListenOff) {
		c.Sweep.Schedule = ""
	}
	for label, level := range c.Risk.Apps {
		c.Risk.Apps[label] = RiskLevel(strings.ToLower(strings.TrimSpace(string(level))))
	}
}

// fillDefaults puts defaults back into string keys that were set to "".
// Numbers keep what the file said, since 0 is meaningful for some of them;
// Default seeded them before decoding.
func (c *Config) fillDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Store.Path, DefaultStorePath)
	def(&c.Log.Level, DefaultLogLevel)
	def(&c.Log.Format, DefaultLogFormat)
	def(&c.Slack.APIURL, DefaultSlackAPIURL)
	def(&c.Slack.Command, DefaultSlackCommand)
	def(&c.Slack.Mode, DefaultSlackMode)
	def(&c.Okta.ManagerAttribute, DefaultManagerAttribute)
	def(&c.Okta.SyncSchedule, DefaultSyncSchedule)
	def(&c.Okta.Auth, OktaAuthToken)
	def(&c.Campaigns.Dir, DefaultCampaignsDir)
	def(&c.HTTP.Listen, DefaultHTTPListen)
}
