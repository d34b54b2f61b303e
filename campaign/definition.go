package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Definition is a campaign definition file: what a review covers. A
// definition with only a name is valid: every active user (and orphaned
// accounts), every active app except company-wide ones.
type Definition struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Owner       string `yaml:"owner,omitempty"`
	Scope       Scope  `yaml:"scope,omitempty"`
	Flags       Flags  `yaml:"flags,omitempty"`
}

// Scope selects the users and apps a campaign reviews. User selectors are
// combined: a user is in scope if any selector names them (all users when
// none is given).
type Scope struct {
	Departments []string `yaml:"departments,omitempty"`
	// Managers selects each named manager (by email or login) and everyone
	// below them in the management chain.
	Managers []string `yaml:"managers,omitempty"`
	Users    []string `yaml:"users,omitempty"` // emails, logins or Okta ids
	// Statuses overrides the user statuses reviewed (default: ACTIVE,
	// RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, plus SUSPENDED and
	// DEPROVISIONED accounts that still hold access, flagged orphaned).
	Statuses []string `yaml:"statuses,omitempty"`
	// ExcludeOrphaned leaves suspended and deprovisioned accounts out.
	ExcludeOrphaned bool      `yaml:"exclude_orphaned,omitempty"`
	Apps            AppFilter `yaml:"apps,omitempty"`
}

// AppFilter selects apps by label or Okta id.
type AppFilter struct {
	Include []string `yaml:"include,omitempty"` // only these (default: all)
	Exclude []string `yaml:"exclude,omitempty"`
	// CompanyWide apps are never reviewed, in addition to every app
	// assigned to the Everyone group.
	CompanyWide        []string `yaml:"company_wide,omitempty"`
	IncludeCompanyWide bool     `yaml:"include_company_wide,omitempty"`
	IncludeInactive    bool     `yaml:"include_inactive,omitempty"`
}

// Flags set the thresholds of the risk flags put on cases.
type Flags struct {
	StaleLoginDays  int `yaml:"stale_login_days,omitempty"`  // default 60
	UnusedAppDays   int `yaml:"unused_app_days,omitempty"`   // default 90
	ExcessiveGroups int `yaml:"excessive_groups,omitempty"` // default 30
}

// Default thresholds.
const (
	DefaultStaleLoginDays  = 60
	DefaultUnusedAppDays   = 90
	DefaultExcessiveGroups = 30
)

var knownStatuses = []string{StatusActive, StatusStaged, StatusProvisioned, StatusRecovery,
	StatusPasswordExpired, StatusLockedOut, StatusSuspended, StatusDeprovisioned}

// ParseDefinition reads a definition, rejecting unknown keys, fills defaults
// and validates. name is used in error messages (usually the file path).
func ParseDefinition(name string, data []byte) (*Definition, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var d Definition
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty definition; it needs at least `name:`", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d.setDefaults()
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &d, nil
}

func (d *Definition) setDefaults() {
	if d.Flags.StaleLoginDays == 0 {
		d.Flags.StaleLoginDays = DefaultStaleLoginDays
	}
	if d.Flags.UnusedAppDays == 0 {
		d.Flags.UnusedAppDays = DefaultUnusedAppDays
	}
	if d.Flags.ExcessiveGroups == 0 {
		d.Flags.ExcessiveGroups = DefaultExcessiveGroups
	}
	for i, s := range d.Scope.Statuses {
		d.Scope.Statuses[i] = strings.ToUpper(strings.TrimSpace(s))
	}
}

// Validate reports every problem at once, each naming its key.
func (d *Definition) Validate() error {
	var errs []error
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, errors.New("name: is required; give the campaign a name such as \"Q4 access review\""))
	}
	for _, s := range d.Scope.Statuses {
		if !contains(knownStatuses, s) {
			errs = append(errs, fmt.Errorf("scope.statuses: %q is not an Okta user status; use one of %s", s, strings.Join(knownStatuses, ", ")))
		}
	}
	for key, v := range map[string]int{"flags.stale_login_days": d.Flags.StaleLoginDays,
		"flags.unused_app_days": d.Flags.UnusedAppDays, "flags.excessive_groups": d.Flags.ExcessiveGroups} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: %d is negative; use a positive number", key, v))
		}
	}
	for _, m := range d.Scope.Managers {
		if !strings.Contains(m, "@") {
			errs = append(errs, fmt.Errorf("scope.managers: %q is not an email or login; name managers by email", m))
		}
	}
	sortErrs(errs)
	return errors.Join(errs...)
}

func sortErrs(errs []error) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Error() < errs[j-1].Error(); j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
