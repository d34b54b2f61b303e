package config

// EnvOktaWriteToken names the environment variable of the separate Okta
// token used for removals.
const EnvOktaWriteToken = "OKTA_WRITE_API_TOKEN"

// RemediationConfig guards the removals attest performs after approval.
type RemediationConfig struct {
	// DryRun does everything but the Okta write, logging "would remove".
	DryRun bool `yaml:"dry_run" json:"dry_run"`
	// MaxOperations: a plan with more operations needs one more approval
	// than its definition asks (0 disables).
	MaxOperations int `yaml:"max_operations" json:"max_operations"`
	// MaxGroupShare: a plan removing more than this share (0..1) of one
	// group's members needs one more approval (0 disables).
	MaxGroupShare float64 `yaml:"max_group_share" json:"max_group_share"`
	// ProtectedGroups and ProtectedUsers (names, ids, emails) are never
	// touched, even by a tampered plan.
	ProtectedGroups []string `yaml:"protected_groups" json:"protected_groups"`
	ProtectedUsers  []string `yaml:"protected_users" json:"protected_users"`
	// StepUp makes an approval count only after the approver accepts an
	// Okta Verify push that attest sends (off by default).
	StepUp bool `yaml:"step_up" json:"step_up"`
}

// Default remediation guards.
const (
	DefaultMaxOperations = 500
	DefaultMaxGroupShare = 0.5
)

func (c *Config) validateRemediation(p *problems) {
	r := c.Remediation
	if r.MaxOperations < 0 {
		p.add("remediation.max_operations", "%d is negative; use 0 to disable the limit or a positive number", r.MaxOperations)
	}
	if r.MaxGroupShare < 0 || r.MaxGroupShare > 1 {
		p.add("remediation.max_group_share", "%g is not a share; use a number from 0 (off) to 1", r.MaxGroupShare)
	}
}

// WriteToken is the Okta token removals use: okta.write_api_token when
// set (so the sync token can stay read-only), else okta.api_token.
func (o OktaConfig) WriteToken() Secret {
	if o.WriteAPIToken.IsSet() {
		return o.WriteAPIToken
	}
	return o.APIToken
}
