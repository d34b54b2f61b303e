// Package config loads attest's settings from one YAML file plus environment
// variables, fills defaults and validates the result with errors that name the
// key and the fix.
//
// Precedence, lowest first: built-in defaults, the YAML file, the environment.
// An environment variable that is empty counts as unset.
//
// Every key can be set by environment: ATTEST_ followed by the key path
// upper-cased with "." turned into "_" (http.listen is ATTEST_HTTP_LISTEN,
// okta.event_hook.secret is ATTEST_OKTA_EVENT_HOOK_SECRET). The names are
// derived from the yaml tags, so a new key needs no extra code; EnvVars
// lists them. Values read as YAML reads them: durations ("90s", "36h",
// "90d"), whole numbers, decimal numbers, booleans (true/false, yes/no,
// on/off, 1/0); lists are comma-separated ("U012ABC, S0IAMTEAM") or a JSON
// list; maps are label=level pairs ("Payroll=critical,AWS Production=high")
// or a JSON object. A list or map from the environment replaces the file's.
//
// The short names below predate that rule and keep working beside it. For
// one key the first short name set wins (OKTA_ORG_URL over OKTA_DOMAIN); a
// generic variable set beside a short one must hold the same value, else
// the config is refused naming both.
//
//	ATTEST_DB               store.path
//	ATTEST_DATABASE_URL     store.url
//	ATTEST_AUDIT_KEY        store.audit_key
//	SLACK_APP_TOKEN         slack.app_token
//	SLACK_BOT_TOKEN         slack.bot_token
//	SLACK_SIGNING_SECRET    slack.signing_secret
//	SLACK_API_URL           slack.api_url
//	OKTA_ORG_URL            okta.org_url (a full URL)
//	OKTA_DOMAIN             okta.org_url when OKTA_ORG_URL is unset (a bare host gets https://)
//	OKTA_API_TOKEN          okta.api_token
//	OKTA_WRITE_API_TOKEN    okta.write_api_token
//	OKTA_PRIVATE_KEY        okta.private_key (the PEM itself; okta.private_key may also be a file path)
//	OKTA_WRITE_PRIVATE_KEY  okta.write_private_key (the PEM itself)
//	OKTA_EVENT_HOOK_SECRET  okta.event_hook.secret
//	SERVICENOW_URL          servicenow.url (a full URL)
//	SERVICENOW_INSTANCE     servicenow.url when SERVICENOW_URL is unset ("acme" -> https://acme.service-now.com)
//	SERVICENOW_USERNAME     servicenow.username
//	SERVICENOW_PASSWORD     servicenow.password
//	SERVICENOW_CLIENT_ID    servicenow.client_id (OAuth instead of username and password)
//	SERVICENOW_CLIENT_SECRET servicenow.client_secret
//
// Errors about a value from the environment name the variable it came from.
//
// The config file's own path (--config or ATTEST_CONFIG) is the caller's
// business: Load takes the path it is given.
//
// Secrets are of type Secret, which prints as "<secret>" through fmt, JSON,
// YAML and text encoding; only Reveal returns the value.
package config

import (
	"bytes"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Names of the short environment variables kept beside the generic
// ATTEST_<KEY> names (see EnvName).
const (
	EnvConfig             = "ATTEST_CONFIG" // the config file's path: read by the caller, not by Load
	EnvDB                 = "ATTEST_DB"
	EnvDatabaseURL        = "ATTEST_DATABASE_URL"
	EnvAuditKey           = "ATTEST_AUDIT_KEY"
	EnvSlackAppToken      = "SLACK_APP_TOKEN"
	EnvSlackBotToken      = "SLACK_BOT_TOKEN"
	EnvSlackSigningSecret = "SLACK_SIGNING_SECRET"
	EnvSlackAPIURL        = "SLACK_API_URL"
	EnvOktaOrgURL         = "OKTA_ORG_URL"
	EnvOktaDomain         = "OKTA_DOMAIN"
	EnvOktaAPIToken       = "OKTA_API_TOKEN"
	EnvOktaEventHook      = "OKTA_EVENT_HOOK_SECRET"
	EnvServiceNowURL      = "SERVICENOW_URL"
	EnvServiceNowInstance = "SERVICENOW_INSTANCE"
	EnvServiceNowUsername = "SERVICENOW_USERNAME"
	EnvServiceNowPassword = "SERVICENOW_PASSWORD"
)

// MinAuditKeyLen is the shortest store.audit_key accepted, in bytes.
const MinAuditKeyLen = 16

// Defaults for the keys that have one.
const (
	DefaultStorePath         = "./attest.db"
	DefaultLogLevel          = "info"
	DefaultLogFormat         = "auto"
	DefaultSlackAPIURL       = "https://slack.com/api/"
	DefaultSlackCommand      = "/access-review"
	DefaultSlackMode         = SlackModeSocket
	DefaultManagerAttribute  = "managerId"
	DefaultOktaConcurrency   = 4
	DefaultOktaTimeout       = Duration(30 * time.Second)
	DefaultOktaMaxRetries    = 5
	DefaultSystemLogDays     = 90
	DefaultSyncSchedule      = "@daily"
	DefaultCampaignsDir      = "./campaigns"
	DefaultHistoryRetention  = Duration(3 * 365 * 24 * time.Hour)
	DefaultHTTPListen        = "127.0.0.1:8080"
	DefaultRateLimitHeadroom = 0.0
	DefaultShutdownTimeout   = Duration(30 * time.Second)
	DefaultClaimLease        = Duration(2 * time.Minute)
)

// Config is the whole effective configuration. Build one with Load, Parse or
// Default; the zero value is not valid.
type Config struct {
	Store      StoreConfig      `yaml:"store" json:"store"`
	Log        LogConfig        `yaml:"log" json:"log"`
	Slack      SlackConfig      `yaml:"slack" json:"slack"`
	Okta       OktaConfig       `yaml:"okta" json:"okta"`
	ServiceNow ServiceNowConfig `yaml:"servicenow" json:"servicenow"`
	Campaigns  CampaignsConfig  `yaml:"campaigns" json:"campaigns"`
	HTTP       HTTPConfig       `yaml:"http" json:"http"`
	Risk       RiskConfig       `yaml:"risk" json:"risk"`
	// Remediation guards the removals made after approval.
	Remediation RemediationConfig `yaml:"remediation" json:"remediation"`
	// Sweep schedules the stale-access sweep.
	Sweep SweepConfig `yaml:"sweep" json:"sweep"`
	// Serve tunes the long-running process.
	Serve ServeConfig `yaml:"serve" json:"serve"`
	// Evidence signs evidence bundles and sets their reviewer flags.
	Evidence EvidenceConfig `yaml:"evidence" json:"evidence"`

	// src remembers where values came from, so errors can point at a file
	// line or an environment variable. It never holds a secret.
	src *sources
}

// StoreConfig locates the database: an SQLite file (the default) or a
// PostgreSQL database shared by several replicas.
type StoreConfig struct {
	// Path of the SQLite database file; ATTEST_DB overrides it.
	Path string `yaml:"path" json:"path"`
	// URL, when set, is used instead of Path: postgres://… (or
	// postgresql://…) for PostgreSQL, or sqlite:///path/to/attest.db;
	// ATTEST_DATABASE_URL overrides it. A secret: it may hold a password.
	URL Secret `yaml:"url" json:"url"`
	// AuditKey keys the audit log's hash chain (HMAC-SHA256) and signs its
	// prune checkpoints; ATTEST_AUDIT_KEY overrides it. Once the chain is
	// keyed, every process that writes the database needs it.
	AuditKey Secret `yaml:"audit_key" json:"audit_key"`
}

// LogConfig sets the logger up.
type LogConfig struct {
	// Level is one of trace, debug, info, warn, error.
	Level string `yaml:"level" json:"level"`
	// Format is auto (console on a terminal, JSON otherwise), json or console.
	Format string `yaml:"format" json:"format"`
}

// The ways Slack reaches attest (slack.mode).
const (
	// SlackModeSocket is Socket Mode: attest opens a websocket to Slack,
	// so it needs no public ingress; it needs slack.app_token.
	SlackModeSocket = "socket"
	// SlackModeHTTP is request URLs: Slack POSTs to /slack/commands,
	// /slack/interactivity and /slack/events on http.listen; it needs
	// slack.signing_secret.
	SlackModeHTTP = "http"
)

// SlackConfig holds the Slack app's tokens and who may do what.
type SlackConfig struct {
	// Mode is how Slack reaches attest: socket or http.
	Mode string `yaml:"mode" json:"mode"`
	// AppToken is the app-level token (xapp-) for Socket Mode.
	AppToken Secret `yaml:"app_token" json:"app_token"`
	// BotToken is the bot token (xoxb-) for the Web API.
	BotToken Secret `yaml:"bot_token" json:"bot_token"`
	// SigningSecret verifies the requests Slack sends in http mode.
	SigningSecret Secret `yaml:"signing_secret" json:"signing_secret"`
	// APIURL is the Web API base URL, always ending in "/".
	APIURL string `yaml:"api_url" json:"api_url"`
	// Command is the slash command, starting with "/".
	Command string `yaml:"command" json:"command"`
	// ApprovalsChannel is the id (C… or G…) of the channel where plans are approved.
	ApprovalsChannel string `yaml:"approvals_channel" json:"approvals_channel"`
	// SecurityChannel is where risk alerts go (default: ApprovalsChannel).
	SecurityChannel string `yaml:"security_channel" json:"security_channel"`
	// Admins may launch and close campaigns: user ids (U…, W…), user group
	// ids (S…) or handles (@name).
	Admins []string `yaml:"admins" json:"admins"`
	// Approvers may approve removals; same shapes as Admins.
	Approvers []string `yaml:"approvers" json:"approvers"`
	// EnterpriseID is the Enterprise Grid org (E…) the app is installed
	// on org-wide; empty for an install on one workspace (slack_grid.go).
	EnterpriseID string `yaml:"enterprise_id" json:"enterprise_id"`
	// TeamIDs are the org's workspaces (T…) attest works in: users are
	// mapped from them and clicks accepted from them. Empty: every
	// workspace the org-wide app was added to (auth.teams.list).
	TeamIDs []string `yaml:"team_ids" json:"team_ids"`
}

// OktaConfig says how to reach Okta and how hard to push it.
type OktaConfig struct {
	// OrgURL is the org's base URL, without a path or trailing slash.
	OrgURL string `yaml:"org_url" json:"org_url"`
	// APIToken is an SSWS API token.
	APIToken Secret `yaml:"api_token" json:"api_token"`
	// WriteAPIToken, when set, is used for removals instead of APIToken,
	// so the sync token can stay read-only.
	WriteAPIToken Secret `yaml:"write_api_token" json:"write_api_token"`
	// Auth is how attest authenticates: token (APIToken, SSWS) or
	// private_key (an OAuth 2.0 service app, see okta_auth.go).
	Auth string `yaml:"auth" json:"auth"`
	// ClientID is the service app's client id (auth: private_key).
	ClientID string `yaml:"client_id" json:"client_id"`
	// PrivateKey is the service app's private key: a PEM file path, or the
	// PEM itself (OKTA_PRIVATE_KEY).
	PrivateKey Secret `yaml:"private_key" json:"private_key"`
	// KeyID is the kid of the public key registered with the app; optional.
	KeyID string `yaml:"key_id" json:"key_id"`
	// Scopes are the read client's Okta API scopes.
	Scopes []string `yaml:"scopes" json:"scopes"`
	// WriteClientID, WritePrivateKey and WriteKeyID are the service app of
	// removals, each falling back to the read client's when unset.
	WriteClientID   string `yaml:"write_client_id" json:"write_client_id"`
	WritePrivateKey Secret `yaml:"write_private_key" json:"write_private_key"`
	WriteKeyID      string `yaml:"write_key_id" json:"write_key_id"`
	// WriteScopes are the write client's Okta API scopes.
	WriteScopes []string `yaml:"write_scopes" json:"write_scopes"`
	// DPoP sends DPoP proofs (tokens bound to a key of this process); turn
	// it off only for apps with "Require DPoP" off.
	DPoP bool `yaml:"dpop" json:"dpop"`
	// ManagerAttribute is the user profile attribute that holds the manager.
	ManagerAttribute string `yaml:"manager_attribute" json:"manager_attribute"`
	// AppOwnerAttribute is the app profile attribute the sync keeps as
	// each app's owners (for stages.app_owner.owners_attribute); "" reads
	// none.
	AppOwnerAttribute string `yaml:"app_owner_attribute" json:"app_owner_attribute"`
	// Concurrency is the number of requests in flight, 1..75.
	Concurrency int `yaml:"concurrency" json:"concurrency"`
	// RequestTimeout bounds one HTTP request.
	RequestTimeout Duration `yaml:"request_timeout" json:"request_timeout"`
	// MaxRetries bounds retries after 5xx answers and timeouts, 0..20.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// RateLimitHeadroom is the fraction (0..0.5) of each rate-limit window
	// left unused for other integrations.
	RateLimitHeadroom float64 `yaml:"rate_limit_headroom" json:"rate_limit_headroom"`
	// SystemLogDays is how far back the System Log is read for last app use, 1..180.
	SystemLogDays int `yaml:"system_log_days" json:"system_log_days"`
	// SyncSchedule is when `attest serve` syncs the directory: a five-field
	// cron spec ("0 */6 * * *") or a descriptor ("@daily", "@every 6h").
	SyncSchedule string `yaml:"sync_schedule" json:"sync_schedule"`
	// HRCSV is an optional path to a CSV (email, manager_email, department)
	// that overrides Okta's manager and department.
	HRCSV string `yaml:"hr_csv" json:"hr_csv"`
	// EventHook configures the Okta event hook endpoint.
	EventHook EventHookConfig `yaml:"event_hook" json:"event_hook"`
}

// EventHookConfig holds the shared secret Okta sends with event hook calls.
type EventHookConfig struct {
	// Secret is the value of the Authorization header Okta sends.
	Secret Secret `yaml:"secret" json:"secret"`
	// QuarantineGroup (an Okta group id), when set, is the group a user
	// rated HIGH by Okta is proposed to join, and to leave when the risk
	// drops; approvers decide, attest never does it on its own.
	QuarantineGroup string `yaml:"quarantine_group" json:"quarantine_group"`
}

// ServiceNowConfig reaches the ServiceNow Table API; all empty disables it.
type ServiceNowConfig struct {
	// URL is the instance's base URL, without a path or trailing slash.
	URL string `yaml:"url" json:"url"`
	// Username is the integration user.
	Username string `yaml:"username" json:"username"`
	// Password is the integration user's password.
	Password Secret `yaml:"password" json:"password"`
	// ClientID and ClientSecret select OAuth client credentials instead
	// of the username and password.
	ClientID     string `yaml:"client_id" json:"client_id"`
	ClientSecret Secret `yaml:"client_secret" json:"client_secret"`
	// Table is the table tickets are filed in: incident or sc_task.
	Table string `yaml:"table" json:"table"`
	// AssignmentGroup is the group (sys_id or name) tickets are assigned
	// to; empty leaves it to the instance's assignment rules.
	AssignmentGroup string `yaml:"assignment_group" json:"assignment_group"`
	// CallerID is the user (sys_id or user name) tickets are raised for;
	// empty means the integration user.
	CallerID string `yaml:"caller_id" json:"caller_id"`
	// CloseCode and CloseNotes are set when a ticket is resolved; the
	// close code choices vary by instance.
	CloseCode  string `yaml:"close_code" json:"close_code"`
	CloseNotes string `yaml:"close_notes" json:"close_notes"`
	// ReviewTickets files one ticket per manager when manager
	// confirmation starts, resolved when the campaign closes.
	ReviewTickets bool `yaml:"review_tickets" json:"review_tickets"`
}

// Enabled reports whether ServiceNow is configured at all.
func (s ServiceNowConfig) Enabled() bool {
	return s.URL != "" || s.Username != "" || s.Password.IsSet() || s.UsesOAuth()
}

// CampaignsConfig locates campaign definition files.
type CampaignsConfig struct {
	// HistoryRetention is how long certification history (who certified
	// which access, when) is kept for recertification and evidence.
	HistoryRetention Duration `yaml:"history_retention" json:"history_retention"`
	// Dir holds one campaign definition per *.yaml file.
	Dir string `yaml:"dir" json:"dir"`
	// Owners names app owners for the app-owner stage: app label or Okta
	// app id -> owners' emails or logins. A definition's
	// stages.app_owner.owners wins for an app both name.
	Owners map[string][]string `yaml:"owners" json:"owners"`
}

// HTTPConfig sets the HTTP listener for event hooks, health and metrics.
type HTTPConfig struct {
	// Listen is a host:port; an empty host listens on every interface.
	Listen string `yaml:"listen" json:"listen"`
}

// ServeConfig tunes `attest serve`.
type ServeConfig struct {
	// ShutdownTimeout bounds a shutdown: in-flight Slack work, syncs and
	// removals get this long to finish before the store closes anyway.
	ShutdownTimeout Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`
	// ClaimLease, on a store shared by several replicas, is how long a
	// replica's claim on queued work (a Slack message being sent, a
	// removal being executed) holds before another replica takes it
	// over, settling it by reading Slack or Okta first: longer than any
	// one call with its retries.
	ClaimLease Duration `yaml:"claim_lease" json:"claim_lease"`
}

// RiskConfig rates apps so reviewers see what matters most.
type RiskConfig struct {
	// Apps maps an Okta app label, app id or label pattern ("AWS *") to
	// its risk level.
	Apps map[string]RiskLevel `yaml:"apps" json:"apps"`
	// Groups maps a group name, id or name pattern ("*-admins") to its
	// risk level; groups marked high or critical are privileged.
	Groups map[string]RiskLevel `yaml:"groups" json:"groups"`
}

// Default returns a Config holding only the defaults. It is valid as it is;
// Okta, Slack and ServiceNow are left unset.
func Default() *Config {
	return &Config{
		Store: StoreConfig{Path: DefaultStorePath},
		Log:   LogConfig{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Slack: SlackConfig{Mode: DefaultSlackMode, APIURL: DefaultSlackAPIURL, Command: DefaultSlackCommand},
		Okta: OktaConfig{
			ManagerAttribute:  DefaultManagerAttribute,
			Concurrency:       DefaultOktaConcurrency,
			RequestTimeout:    DefaultOktaTimeout,
			MaxRetries:        DefaultOktaMaxRetries,
			RateLimitHeadroom: DefaultRateLimitHeadroom,
			SystemLogDays:     DefaultSystemLogDays,
			SyncSchedule:      DefaultSyncSchedule,
			Auth:              OktaAuthToken,
			Scopes:            DefaultOktaScopes(),
			WriteScopes:       DefaultOktaWriteScopes(),
			DPoP:              true,
		},
		Campaigns:   CampaignsConfig{Dir: DefaultCampaignsDir, HistoryRetention: DefaultHistoryRetention},
		HTTP:        HTTPConfig{Listen: DefaultHTTPListen},
		ServiceNow:  defaultServiceNow(),
		Remediation: RemediationConfig{MaxOperations: DefaultMaxOperations, MaxGroupShare: DefaultMaxGroupShare},
		Sweep:       SweepConfig{Schedule: DefaultSweepSchedule},
		Serve:       ServeConfig{ShutdownTimeout: DefaultShutdownTimeout, ClaimLease: DefaultClaimLease},
	}
}

// Redacted renders the effective config as YAML, every secret shown as
// "<secret>" (or empty when unset), for `attest check-config`. It fails only
// if YAML encoding fails.
func (c *Config) Redacted() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("config: render: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: render: %w", err)
	}
	return buf.Bytes(), nil
}

// Target is the database the store opens: URL when set, else Path.
func (s StoreConfig) Target() string {
	if s.URL.IsSet() {
		return s.URL.Reveal()
	}
	return s.Path
}
