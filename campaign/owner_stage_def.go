package campaign

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
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
	// OwnersAttribute would name an Okta app profile attribute holding
	// the owners' emails; the sync does not read app profiles yet, so
	// Validate refuses it with a sentence saying what to use instead.
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
	if s.OwnersAttribute != "" {
		errs = append(errs, fmt.Errorf("%s.owners_attribute: app profile attributes are not read from Okta yet; name owners under %s.owners or %s.owners_group", key, key, key))
	}
	if s.On() && len(s.Owners) == 0 && s.OwnersGroup == "" {
		errs = append(errs, errors.New(key+": is enabled but names no owners; set owners (app label: [emails]) or owners_group (e.g. \"app-owners-{label}\")"))
	}
	return errs
}
