package config

import (
	"regexp"
	"strings"
)

// Environment variables of the ServiceNow OAuth client, the alternative to
// a username and password.
const (
	EnvServiceNowClientID     = "SERVICENOW_CLIENT_ID"
	EnvServiceNowClientSecret = "SERVICENOW_CLIENT_SECRET"
)

// Defaults of the ServiceNow ticket keys.
const (
	// DefaultServiceNowTable is where tickets are filed.
	DefaultServiceNowTable = "incident"
	// DefaultServiceNowCloseCode is the incident close code of recent
	// releases' base system; instances often have their own choices.
	DefaultServiceNowCloseCode = "Solution provided"
	// DefaultServiceNowCloseNotes is written when a ticket is resolved.
	DefaultServiceNowCloseNotes = "Resolved by attest: the access review is complete."
)

// defaultServiceNow is ServiceNowConfig's defaults: ticket keys only, the
// connection keys stay unset so ServiceNow stays disabled.
func defaultServiceNow() ServiceNowConfig {
	return ServiceNowConfig{
		Table:      DefaultServiceNowTable,
		CloseCode:  DefaultServiceNowCloseCode,
		CloseNotes: DefaultServiceNowCloseNotes,
	}
}

// UsesOAuth reports whether attest authenticates with the OAuth client
// credentials grant rather than basic auth: it does whenever a client id
// or secret is set.
func (s ServiceNowConfig) UsesOAuth() bool {
	return s.ClientID != "" || s.ClientSecret.IsSet()
}

// normalizeServiceNow trims the ticket keys and puts back the defaults of
// those set to "".
func (c *Config) normalizeServiceNow() {
	s := &c.ServiceNow
	for _, v := range []*string{&s.ClientID, &s.Username, &s.Table, &s.AssignmentGroup, &s.CallerID, &s.CloseCode} {
		*v = strings.TrimSpace(*v)
	}
	s.Table = strings.ToLower(s.Table)
	d := defaultServiceNow()
	for _, kv := range [][2]*string{{&s.Table, &d.Table}, {&s.CloseCode, &d.CloseCode}, {&s.CloseNotes, &d.CloseNotes}} {
		if strings.TrimSpace(*kv[0]) == "" {
			*kv[0] = *kv[1]
		}
	}
}

var tableNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,79}$`)

// validateServiceNowAuth checks that one complete set of credentials is
// given: an OAuth client, or else a username and password.
func (c *Config) validateServiceNowAuth(p *problems) {
	s := &c.ServiceNow
	if s.UsesOAuth() {
		if s.ClientID == "" {
			p.add("servicenow.client_id", "not set while servicenow.client_secret is; set %s or servicenow.client_id "+
				"to the OAuth client's id (System OAuth > Application Registry)", EnvServiceNowClientID)
		}
		if !s.ClientSecret.IsSet() {
			p.add("servicenow.client_secret", "not set while servicenow.client_id is; set %s to the OAuth client's secret",
				EnvServiceNowClientSecret)
		}
		return
	}
	if s.Username == "" {
		p.add("servicenow.username", "not set; set %s or servicenow.username to the integration user "+
			"(or %s and %s for OAuth)", EnvServiceNowUsername, EnvServiceNowClientID, EnvServiceNowClientSecret)
	}
	if !s.Password.IsSet() {
		p.add("servicenow.password", "not set; set %s to the integration user's password", EnvServiceNowPassword)
	}
}

// validateServiceNowTickets checks the ticket keys.
func (c *Config) validateServiceNowTickets(p *problems) {
	s := &c.ServiceNow
	if !tableNameRE.MatchString(s.Table) {
		p.add("servicenow.table", "%q is not a table name; use incident or sc_task", s.Table)
	}
	for _, kv := range [][2]string{{"servicenow.assignment_group", s.AssignmentGroup}, {"servicenow.caller_id", s.CallerID}} {
		if strings.ContainsAny(kv[1], "\n\r\t") {
			p.add(kv[0], "contains a tab or line break; use a sys_id or a name")
		}
	}
	if len(s.CloseNotes) > 4000 {
		p.add("servicenow.close_notes", "is %d characters; keep it under 4000", len(s.CloseNotes))
	}
}
