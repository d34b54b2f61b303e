package campaign

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
)

// OwnerStage configures the app-owner stage (stage 3): after the manager
// stage, each app's owners confirm the access that members and managers
// kept. It is off unless enabled.
type OwnerStage struct {
	Enabled  *bool  `yaml:"enabled,omitempty"`  // default false
	Duration Period `yaml:"duration,omitempty"` // default 5d
	// Owners names each app's owners, by app label or Okta app id, as
	// emails or logins of Okta users.
	Owners map[string][]string `yaml:"owners,omitempty"`
	// OwnersGroup is the name pattern of the Okta group whose members own
	// an app: {label}, {name} and {id} stand for the app's label, Okta
	// machine name and id, e.g. "app-owners-{label}".
	OwnersGroup string `yaml:"owners_group,omitempty"`
	// OwnersAttribute names the Okta app profile attribute holding each
	// app's owners (emails or logins, comma or space separated, or a
	// list). The sync reads only the attribute okta.app_owner_attribute
	// names, so the two must be equal (checked at launch).
	OwnersAttribute string `yaml:"owners_attribute,omitempty"`
}

// DefaultOwnerStageDuration is how long owners have when duration is unset.
const DefaultOwnerStageDuration = Period(5 * 24 * time.Hour)

// On reports whether the owner stage runs: only when enabled.
func (s OwnerStage) On() bool { return s.Enabled != nil && *s.Enabled }

// duration is the stage's configured length, 0 when it is off.
func (s OwnerStage) duration() time.Duration {
	if !s.On() {
		return 0
	}
	return s.Duration.D()
}

func (s *OwnerStage) setDefaults() {
	if s.Duration == 0 {
		s.Duration = DefaultOwnerStageDuration
	}
}

// ownerGroupFields are the placeholders an owners_group pattern may use.
var ownerGroupFields = []string{"{label}", "{name}", "{id}"}

// validate reports the owner stage's problems, each naming its key.
func (s OwnerStage) validate() []error {
	const key = "stages.app_owner"
	var errs []error
	apps := make([]string, 0, len(s.Owners))
	for app := range s.Owners {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	for _, app := range apps {
		if strings.TrimSpace(app) == "" {
			errs = append(errs, fmt.Errorf("%s.owners: an empty app name; name apps by Okta label or id", key))
		}
		if len(s.Owners[app]) == 0 {
			errs = append(errs, fmt.Errorf("%s.owners.%s: lists nobody; name at least one owner by email", key, app))
		}
		for _, o := range s.Owners[app] {
			if !strings.Contains(o, "@") {
				errs = append(errs, fmt.Errorf("%s.owners.%s: %q is not an email or login; name owners by email", key, app, o))
			}
		}
	}
	if p := s.OwnersGroup; p != "" {
		has := false
		for _, f := range ownerGroupFields {
			has = has || strings.Contains(p, f)
		}
		if !has {
			errs = append(errs, fmt.Errorf("%s.owners_group: %q names one group for every app; put {label}, {name} or {id} in it, e.g. \"app-owners-{label}\"", key, p))
		}
	}
	if a := s.OwnersAttribute; a != "" && !attrName(a) {
		errs = append(errs, fmt.Errorf("%s.owners_attribute: %q is not an app profile attribute name (letters, digits and _)", key, a))
	}
	return errs
}

// attrName reports whether s is an Okta profile attribute variable name.
func attrName(s string) bool {
	for i, r := range s {
		if r != '_' && !unicode.IsLetter(r) && !(i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}

// ownerStage is def's owner stage with the configuration's owners
// (campaigns.owners) added: the definition's list wins for an app both
// name (by label or id, case-insensitive).
func (e *Engine) ownerStage(def *Definition) OwnerStage {
	s := def.Stages.AppOwner
	if len(e.AppOwners) == 0 {
		return s
	}
	merged := make(map[string][]string, len(s.Owners)+len(e.AppOwners))
	named := map[string]bool{}
	for app, who := range s.Owners {
		merged[app] = who
		named[strings.ToLower(strings.TrimSpace(app))] = true
	}
	for app, who := range e.AppOwners {
		if !named[strings.ToLower(strings.TrimSpace(app))] {
			merged[app] = who
		}
	}
	s.Owners = merged
	return s
}

// checkOwnerSources refuses, at launch, an owner stage that can find no
// owners: none named by the definition or the configuration
// (campaigns.owners), or an owners_attribute the sync does not read.
func (e *Engine) checkOwnerSources(def *Definition) error {
	const key = "stages.app_owner"
	s := def.Stages.AppOwner
	if !s.On() {
		return nil
	}
	if a := s.OwnersAttribute; a != "" && a != e.AppOwnerAttribute {
		read := "no app profile attribute (okta.app_owner_attribute is unset)"
		if e.AppOwnerAttribute != "" {
			read = fmt.Sprintf("only %q", e.AppOwnerAttribute)
		}
		return fmt.Errorf("%s.owners_attribute: %q is not read by the Okta sync, which reads %s; set okta.app_owner_attribute: %s and sync again: %w",
			key, a, read, a, ErrInvalid)
	}
	if len(s.Owners) == 0 && s.OwnersGroup == "" && s.OwnersAttribute == "" && len(e.AppOwners) == 0 {
		return fmt.Errorf("%s: is enabled but names no owners; set owners (app label: [emails]), owners_group (e.g. \"app-owners-{label}\"), owners_attribute, or campaigns.owners in attest.yaml: %w", key, ErrInvalid)
	}
	return nil
}
