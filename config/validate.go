package config

import (
	"math"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Validate checks every key and returns all problems at once as a
// *ValidationError, each naming the key path and the fix; nil when the
// config is valid. Keys that only some commands need (Okta, Slack tokens)
// may be unset here: see RequireOkta and RequireSlack.
func (c *Config) Validate() error {
	var p problems
	c.check(&p)
	return p.err(c)
}

// check records every problem with the values in p.
func (c *Config) check(p *problems) {
	c.validateBasics(p)
	c.validateSlack(p)
	c.validateOkta(p)
	c.validateCampaignOwners(p)
	c.validateServiceNow(p)
	c.validateRisk(p)
	c.validateRemediation(p)
	c.validateSweep(p)
	c.validateEvidence(p)
}

// RequireOkta checks that the keys needed to talk to Okta are set, for the
// commands that do. It returns a *ValidationError naming each missing key
// and the environment variable that sets it.
func (c *Config) RequireOkta() error {
	var p problems
	if c.Okta.OrgURL == "" {
		p.add("okta.org_url", "not set; set %s (or %s) or okta.org_url in the config file, e.g. https://example.okta.com",
			EnvOktaOrgURL, EnvOktaDomain)
	}
	switch {
	case c.Okta.Auth == OktaAuthPrivateKey:
		if c.Okta.ClientID == "" {
			p.add("okta.client_id", "not set; okta.auth is %s: set the service app's client id", OktaAuthPrivateKey)
		}
		if !c.Okta.PrivateKey.IsSet() {
			p.add("okta.private_key", "not set; okta.auth is %s: set %s to the PEM or okta.private_key to its path",
				OktaAuthPrivateKey, EnvOktaPrivateKey)
		}
	case !c.Okta.APIToken.IsSet():
		p.add("okta.api_token", "not set; set %s to an Okta API token (Admin Console > Security > API > Tokens), "+
			"or use an OAuth service app (okta.auth: %s)", EnvOktaAPIToken, OktaAuthPrivateKey)
	}
	return p.err(c)
}

// RequireSlack checks that the Slack credentials slack.mode needs are set,
// for `attest serve`: the bot token, and the app-level token in socket mode
// or the signing secret in http mode. It returns a *ValidationError naming
// each missing key and its environment variable.
func (c *Config) RequireSlack() error {
	var p problems
	switch {
	case c.Slack.Mode == SlackModeHTTP && !c.Slack.SigningSecret.IsSet():
		p.add("slack.signing_secret", "not set, and slack.mode is http; set %s to the Signing Secret from the app's "+
			"Basic Information > App Credentials, or use slack.mode: socket", EnvSlackSigningSecret)
	case c.Slack.Mode != SlackModeHTTP && !c.Slack.AppToken.IsSet():
		p.add("slack.app_token", "not set; set %s to the app-level token (xapp-…) from the app's Basic Information page, "+
			"or use slack.mode: http with %s", EnvSlackAppToken, EnvSlackSigningSecret)
	}
	if !c.Slack.BotToken.IsSet() {
		p.add("slack.bot_token", "not set; set %s to the bot token (xoxb-…) from the app's OAuth & Permissions page",
			EnvSlackBotToken)
	}
	return p.err(c)
}

var (
	levels  = []string{"trace", "debug", "info", "warn", "error"}
	formats = []string{"auto", "json", "console"}
)

func (c *Config) validateBasics(p *problems) {
	if c.Store.Path == "" && !c.Store.URL.IsSet() {
		p.add("store.path", "not set; set a file path such as %s, or %s", DefaultStorePath, EnvDB)
	}
	if u := strings.ToLower(c.Store.URL.Reveal()); u != "" && !strings.HasPrefix(u, "postgres://") &&
		!strings.HasPrefix(u, "postgresql://") && !strings.HasPrefix(u, "sqlite://") {
		// The value is not repeated: it may hold a password.
		p.add("store.url", "not a database URL; use postgres://user:password@host:5432/attest (or postgresql://…) for PostgreSQL, or sqlite:///path/to/attest.db")
	}
	if k := c.Store.AuditKey; k.IsSet() && len(k.Reveal()) < MinAuditKeyLen {
		p.add("store.audit_key", "too short to be a secret; use at least %d random bytes, such as the output of `openssl rand -hex 32`", MinAuditKeyLen)
	}
	if !contains(levels, c.Log.Level) {
		p.add("log.level", "%q is not a level; use one of %s", c.Log.Level, strings.Join(levels, ", "))
	}
	if !contains(formats, c.Log.Format) {
		p.add("log.format", "%q is not a format; use one of %s", c.Log.Format, strings.Join(formats, ", "))
	}
	if c.Campaigns.Dir == "" {
		p.add("campaigns.dir", "not set; set the directory of campaign definitions, e.g. %s", DefaultCampaignsDir)
	}
	if c.Campaigns.HistoryRetention < Duration(24*time.Hour) {
		p.add("campaigns.history_retention", "%s is too short; keep history at least 1d (default %s)", c.Campaigns.HistoryRetention, DefaultHistoryRetention)
	}
	checkListen(p, "http.listen", c.HTTP.Listen)
	if c.HTTP.Listen == ListenOff && c.Slack.Mode == SlackModeHTTP {
		p.add("http.listen", "is off, but slack.mode is http and Slack's requests arrive on this listener; give host:port or use slack.mode: socket")
	}
	if c.HTTP.Listen == ListenOff && c.Okta.EventHook.Secret.IsSet() {
		p.add("http.listen", "is off, but okta.event_hook.secret is set and Okta event hooks arrive on this listener; give host:port or unset the secret")
	}
	if d := c.Serve.ShutdownTimeout.Duration(); d < time.Second || d > 10*time.Minute {
		p.add("serve.shutdown_timeout", "%s is out of range; use 1s to 10m (default %s)", c.Serve.ShutdownTimeout, DefaultShutdownTimeout)
	}
	if d := c.Serve.ClaimLease.Duration(); d < time.Second || d > time.Hour {
		p.add("serve.claim_lease", "%s is out of range; use 1s to 1h (default %s)", c.Serve.ClaimLease, DefaultClaimLease)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ListenOff as http.listen runs serve without its HTTP listener.
const ListenOff = "off"

// checkListen wants host:port with a numeric port (an empty host means
// every interface) or ListenOff.
func checkListen(p *problems, key, addr string) {
	if addr == ListenOff {
		return
	}
	fix := "use host:port, e.g. " + DefaultHTTPListen + ", or :8080 for every interface"
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(key, "%q is not host:port; %s", addr, fix)
		return
	}
	// Port 0 picks a free port; serve logs the one it got.
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add(key, "port %q is not a number from 0 to 65535; %s", port, fix)
	}
}

func (c *Config) validateOkta(p *problems) {
	o := &c.Okta
	if o.OrgURL != "" && checkURL(p, "okta.org_url", o.OrgURL, true) {
		if host := hostOf(o.OrgURL); strings.HasSuffix(strings.SplitN(host, ".", 2)[0], "-admin") {
			p.add("okta.org_url", "%q is the Admin Console's address; use the org URL without -admin, e.g. https://%s",
				o.OrgURL, strings.Replace(host, "-admin.", ".", 1))
		}
	}
	if tok := o.APIToken.Reveal(); tok != "" {
		switch {
		case strings.HasPrefix(strings.ToUpper(tok), "SSWS "):
			p.add("okta.api_token", `starts with "SSWS "; give only the token, attest adds the SSWS scheme`)
		case strings.ContainsAny(tok, " \t\r\n"):
			p.add("okta.api_token", "contains whitespace; paste only the token")
		}
	}
	if !attrNameRE.MatchString(o.ManagerAttribute) {
		p.add("okta.manager_attribute", "%q is not a profile attribute name; use managerId, manager or a custom "+
			"attribute's variable name (letters, digits and _)", o.ManagerAttribute)
	}
	if a := o.AppOwnerAttribute; a != "" && !attrNameRE.MatchString(a) {
		p.add("okta.app_owner_attribute", "%q is not an app profile attribute name; use the attribute's variable name "+
			"(letters, digits and _), e.g. owner_email", a)
	}
	c.validateOktaAuth(p)
	intRange(p, "okta.concurrency", o.Concurrency, 1, 75, " (Okta allows at most 75 concurrent requests per org)")
	switch d := o.RequestTimeout.Duration(); {
	case d <= 0:
		p.add("okta.request_timeout", "%s is not positive; use a timeout such as 30s", o.RequestTimeout)
	case d > 10*time.Minute:
		p.add("okta.request_timeout", "%s is too long for one request; use at most 10m", o.RequestTimeout)
	}
	intRange(p, "okta.max_retries", o.MaxRetries, 0, 20, "")
	if h := o.RateLimitHeadroom; math.IsNaN(h) || h < 0 || h > 0.5 {
		p.add("okta.rate_limit_headroom", "%v is out of range; use a fraction from 0 to 0.5 (0.2 leaves a fifth "+
			"of each rate-limit window to other integrations)", h)
	}
	intRange(p, "okta.system_log_days", o.SystemLogDays, 1, 180, " (the System Log keeps at most 180 days)")
	// The same parser as the scheduler in `attest serve`, so a spec that
	// passes here cannot fail there.
	if _, err := cron.ParseStandard(o.SyncSchedule); err != nil {
		p.add("okta.sync_schedule", "%q is not a schedule (%v); use a five-field cron spec such as \"0 */6 * * *\" "+
			"or a descriptor such as @daily or \"@every 6h\"", o.SyncSchedule, err)
	}
}

var attrNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

func intRange(p *problems, key string, v, lo, hi int, why string) {
	if v < lo || v > hi {
		p.add(key, "%d is out of range; use %d..%d%s", v, lo, hi, why)
	}
}

func (c *Config) validateServiceNow(p *problems) {
	s := &c.ServiceNow
	if !s.Enabled() {
		return
	}
	if s.URL == "" {
		p.add("servicenow.url", "not set while other servicenow keys are; set %s (or %s, e.g. acme) or "+
			"servicenow.url, or remove the servicenow keys", EnvServiceNowURL, EnvServiceNowInstance)
	} else {
		checkURL(p, "servicenow.url", s.URL, true)
	}
	c.validateServiceNowAuth(p)
	c.validateServiceNowTickets(p)
}

func (c *Config) validateRisk(p *problems) {
	for _, set := range []struct {
		key string
		m   map[string]RiskLevel
	}{{"risk.apps", c.Risk.Apps}, {"risk.groups", c.Risk.Groups}} {
		labels := make([]string, 0, len(set.m))
		for label := range set.m {
			labels = append(labels, label)
		}
		sort.Strings(labels)
		for _, label := range labels {
			key := keyPath(set.key, label)
			if strings.TrimSpace(label) == "" {
				p.add(key, "empty key; use the label, name or id as Okta shows it, or a pattern such as \"AWS *\"")
				continue
			}
			if level := set.m[label]; !level.Valid() {
				p.add(key, "%q is not a risk level; use low, medium, high or critical", string(level))
			}
		}
	}
}

// validateCampaignOwners checks campaigns.owners: app names and owners'
// emails, in app order.
func (c *Config) validateCampaignOwners(p *problems) {
	apps := make([]string, 0, len(c.Campaigns.Owners))
	for app := range c.Campaigns.Owners {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	for _, app := range apps {
		if strings.TrimSpace(app) == "" {
			p.add("campaigns.owners", "an empty app name; name apps by Okta label or app id")
		}
		who := c.Campaigns.Owners[app]
		if len(who) == 0 {
			p.add("campaigns.owners."+app, "lists nobody; name at least one owner by email")
		}
		for _, o := range who {
			if !strings.Contains(o, "@") {
				p.add("campaigns.owners."+app, "%q is not an email or login; name owners by email", o)
			}
		}
	}
}
