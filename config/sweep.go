package config

import "github.com/robfig/cron/v3"

// SweepConfig schedules the stale-access sweep that `attest serve` runs
// over the latest snapshot, posting its findings to the approvals channel.
type SweepConfig struct {
	// Schedule is a cron spec or descriptor; "" turns the sweep off.
	Schedule string `yaml:"schedule" json:"schedule"`
	// Thresholds, in days and groups (0: the campaign defaults 60, 90, 30).
	StaleLoginDays  int `yaml:"stale_login_days" json:"stale_login_days"`
	UnusedAppDays   int `yaml:"unused_app_days" json:"unused_app_days"`
	ExcessiveGroups int `yaml:"excessive_groups" json:"excessive_groups"`
}

// DefaultSweepSchedule is Mondays at 08:00.
const DefaultSweepSchedule = "0 8 * * 1"

func (c *Config) validateSweep(p *problems) {
	s := c.Sweep
	if s.Schedule != "" {
		if _, err := cron.ParseStandard(s.Schedule); err != nil {
			p.add("sweep.schedule", "%q is not a cron schedule (%v); use e.g. %q", s.Schedule, err, DefaultSweepSchedule)
		}
	}
	for key, v := range map[string]int{"sweep.stale_login_days": s.StaleLoginDays, "sweep.unused_app_days": s.UnusedAppDays,
		"sweep.excessive_groups": s.ExcessiveGroups} {
		if v < 0 {
			p.add(key, "%d is negative; use 0 for the default or a positive number", v)
		}
	}
}
