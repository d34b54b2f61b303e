package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

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

	Entitlements    Entitlements    `yaml:"entitlements,omitempty"`
	Stages          Stages          `yaml:"stages,omitempty"`
	Reminders       Reminders       `yaml:"reminders,omitempty"`
	Escalation      Escalation      `yaml:"escalation,omitempty"`
	Decisions       Decisions       `yaml:"decisions,omitempty"`
	Approval        ApprovalPolicy  `yaml:"approval,omitempty"`
	Remediation     Remediation     `yaml:"remediation,omitempty"`
	Schedule        Schedule        `yaml:"schedule,omitempty"`
	Recertification Recertification `yaml:"recertification,omitempty"`
}

// Entitlements says what kinds of access are reviewed.
type Entitlements struct {
	// Apps reviews app assignments (default true).
	Apps *bool `yaml:"apps,omitempty"`
	// Groups reviews memberships of the groups whose names match one of
	// these patterns (shell globs, case-insensitive), for groups that grant
	// no app, such as admin groups.
	Groups []string `yaml:"groups,omitempty"`
}

// ReviewsApps reports whether app assignments are reviewed.
func (e Entitlements) ReviewsApps() bool { return e.Apps == nil || *e.Apps }

// Stage configures one review stage.
type Stage struct {
	Enabled  *bool  `yaml:"enabled,omitempty"`  // default true
	Duration Period `yaml:"duration,omitempty"` // default 7d
}

// On reports whether the stage runs.
func (s Stage) On() bool { return s.Enabled == nil || *s.Enabled }

// Stages configures self-attestation, manager confirmation and the
// app-owner stage, which run in that order, each switched on or off.
type Stages struct {
	SelfAttestation Stage `yaml:"self_attestation,omitempty"`
	Manager         Stage `yaml:"manager,omitempty"`
	// AppOwner is the optional third stage: app owners confirm what the
	// first two kept (see OwnerStage).
	AppOwner OwnerStage `yaml:"app_owner,omitempty"`
	// ConfirmMemberRevokes makes managers confirm the member's "revoke"
	// answers too, instead of sending them straight to the removal list.
	ConfirmMemberRevokes bool `yaml:"confirm_member_revokes,omitempty"`
	// CloseWhenDecided closes the campaign as soon as no case is left to
	// decide (event reviews), instead of waiting for the deadline.
	CloseWhenDecided bool `yaml:"close_when_decided,omitempty"`
}

// Reminders configures when people with open cases are reminded.
type Reminders struct {
	// Before lists how long before a stage's deadline to remind (default
	// 3d and 1d).
	Before []Period `yaml:"before,omitempty"`
	// OverdueEvery repeats reminders after the deadline (default 1d).
	OverdueEvery Period `yaml:"overdue_every,omitempty"`
	Disabled     bool   `yaml:"disabled,omitempty"`
}

// Escalation configures what happens to silent managers.
type Escalation struct {
	// After is how long a reviewer may stay silent in stage 2 before their
	// open cases go to their own manager (default 3d; 0 disables).
	After Period `yaml:"after,omitempty"`
	// IAMReviewers (emails) review cases of members without a manager or
	// whose chain ended (default: the owner).
	IAMReviewers []string `yaml:"iam_reviewers,omitempty"`
}

// Decisions constrains how reviewers decide.
type Decisions struct {
	// RequireCommentFor lists risk levels whose decisions need a comment.
	RequireCommentFor []string `yaml:"require_comment_for,omitempty"`
	// DisableBulk forbids deciding many cases in one action.
	DisableBulk bool `yaml:"disable_bulk,omitempty"`
}

// ApprovalPolicy configures who approves the removal plan.
type ApprovalPolicy struct {
	Approvers []string `yaml:"approvers,omitempty"` // emails
	Required  int      `yaml:"required,omitempty"`  // default 1
}

// Remediation modes and no-decision outcomes.
const (
	ModeRevoke     = "revoke"
	ModeReportOnly = "report-only"
	DecisionKeep   = "keep"
	DecisionRevoke = "revoke"
	DecisionUnsure = "unsure"
)

// Remediation configures what a closed campaign does.
type Remediation struct {
	// Mode is revoke (remove after approval, default) or report-only.
	Mode string `yaml:"mode,omitempty"`
	// NoDecision is the outcome of a case nobody decided: keep (default,
	// and reported) or revoke.
	NoDecision string `yaml:"no_decision,omitempty"`
	// ProtectedGroups and ProtectedUsers (names, ids, emails) are never
	// planned for removal; BUILT_IN groups never are either.
	ProtectedGroups []string `yaml:"protected_groups,omitempty"`
	ProtectedUsers  []string `yaml:"protected_users,omitempty"`
}

// Schedule launches the definition on a cron schedule inside attest serve.
type Schedule struct {
	Cron     string `yaml:"cron,omitempty"`     // e.g. "0 8 * * 1"
	Timezone string `yaml:"timezone,omitempty"` // IANA name, default UTC
}

// Recertification launches small campaigns for access whose last
// certification is older than Period.
type Recertification struct {
	Period Period `yaml:"period,omitempty"`
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
	// Risk, when set, keeps only entitlements rated at one of these
	// levels (config risk.apps / risk.groups), e.g. [critical].
	Risk []string `yaml:"risk,omitempty"`
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
	StaleLoginDays  int `yaml:"stale_login_days,omitempty"` // default 60
	UnusedAppDays   int `yaml:"unused_app_days,omitempty"`  // default 90
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
	if d.Stages.SelfAttestation.Duration == 0 {
		d.Stages.SelfAttestation.Duration = Period(7 * 24 * time.Hour)
	}
	if d.Stages.Manager.Duration == 0 {
		d.Stages.Manager.Duration = Period(7 * 24 * time.Hour)
	}
	d.Stages.AppOwner.setDefaults()
	if d.Reminders.Before == nil {
		d.Reminders.Before = []Period{Period(3 * 24 * time.Hour), Period(24 * time.Hour)}
	}
	if d.Reminders.OverdueEvery == 0 {
		d.Reminders.OverdueEvery = Period(24 * time.Hour)
	}
	if d.Escalation.After == 0 {
		d.Escalation.After = Period(3 * 24 * time.Hour)
	}
	if len(d.Escalation.IAMReviewers) == 0 && d.Owner != "" {
		d.Escalation.IAMReviewers = []string{d.Owner}
	}
	if d.Approval.Required == 0 {
		d.Approval.Required = 1
	}
	if d.Remediation.Mode == "" {
		d.Remediation.Mode = ModeRevoke
	}
	if d.Remediation.NoDecision == "" {
		d.Remediation.NoDecision = DecisionKeep
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
	if !d.Entitlements.ReviewsApps() && len(d.Entitlements.Groups) == 0 {
		errs = append(errs, errors.New("entitlements: reviews nothing; keep apps: true or name group patterns under entitlements.groups"))
	}
	for _, p := range d.Entitlements.Groups {
		if _, err := path.Match(strings.ToLower(p), ""); err != nil {
			errs = append(errs, fmt.Errorf("entitlements.groups: %q is not a valid pattern: %v", p, err))
		}
	}
	if !d.Stages.SelfAttestation.On() && !d.Stages.Manager.On() {
		errs = append(errs, errors.New("stages: both stages are disabled; enable self_attestation or manager"))
	}
	errs = append(errs, d.Stages.AppOwner.validate()...)
	switch d.Remediation.Mode {
	case ModeRevoke, ModeReportOnly:
	default:
		errs = append(errs, fmt.Errorf("remediation.mode: %q is not revoke or report-only", d.Remediation.Mode))
	}
	switch d.Remediation.NoDecision {
	case DecisionKeep, DecisionRevoke:
	default:
		errs = append(errs, fmt.Errorf("remediation.no_decision: %q is not keep or revoke", d.Remediation.NoDecision))
	}
	if d.Approval.Required < 0 {
		errs = append(errs, fmt.Errorf("approval.required: %d is negative; use 1 or more", d.Approval.Required))
	}
	for _, lvl := range d.Scope.Risk {
		if !contains([]string{"low", "medium", "high", "critical"}, strings.ToLower(lvl)) {
			errs = append(errs, fmt.Errorf("scope.risk: %q is not low, medium, high or critical", lvl))
		}
	}
	for _, lvl := range d.Decisions.RequireCommentFor {
		if !contains([]string{"low", "medium", "high", "critical"}, strings.ToLower(lvl)) {
			errs = append(errs, fmt.Errorf("decisions.require_comment_for: %q is not low, medium, high or critical", lvl))
		}
	}
	if d.Schedule.Timezone != "" {
		if _, err := time.LoadLocation(d.Schedule.Timezone); err != nil {
			errs = append(errs, fmt.Errorf("schedule.timezone: %q is not an IANA time zone such as Europe/Berlin", d.Schedule.Timezone))
		}
	}
	if d.Schedule.Cron != "" && len(strings.Fields(d.Schedule.Cron)) != 5 && !strings.HasPrefix(d.Schedule.Cron, "@") {
		errs = append(errs, fmt.Errorf("schedule.cron: %q needs five fields (minute hour day month weekday), e.g. \"0 8 * * 1\"", d.Schedule.Cron))
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
