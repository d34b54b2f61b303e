package config

// EvidenceConfig tunes evidence bundles (`attest evidence export`): the
// key that signs their manifests and the thresholds of the reviewer flags.
// Zero thresholds take the defaults of package evidence (2 s, 50
// decisions, 30 s, 10 cases, 7 days).
type EvidenceConfig struct {
	// SigningKey is an Ed25519 private key (PEM, or base64 of the 32-byte
	// seed) that signs manifests so verification needs no secret;
	// ATTEST_EVIDENCE_SIGNING_KEY.
	SigningKey Secret `yaml:"signing_key" json:"signing_key"`
	// FastDecisionSeconds: a decision this soon after the reviewer's
	// previous one (or the form's delivery) is fast.
	FastDecisionSeconds float64 `yaml:"fast_decision_seconds" json:"fast_decision_seconds"`
	// FastDecisionsMax: more fast decisions than this flag the reviewer.
	FastDecisionsMax int `yaml:"fast_decisions_max" json:"fast_decisions_max"`
	// WithinDeliverySeconds: decisions this soon after the form's delivery
	// are counted.
	WithinDeliverySeconds float64 `yaml:"within_delivery_seconds" json:"within_delivery_seconds"`
	// AllKeptMinCases: a reviewer who kept all of at least this many cases,
	// some stale, is flagged.
	AllKeptMinCases int `yaml:"all_kept_min_cases" json:"all_kept_min_cases"`
	// RemovalDeadline is the time allowed from approval to each removal.
	RemovalDeadline Duration `yaml:"removal_deadline" json:"removal_deadline"`
}

func (c *Config) validateEvidence(p *problems) {
	e := c.Evidence
	for key, v := range map[string]float64{"evidence.fast_decision_seconds": e.FastDecisionSeconds,
		"evidence.fast_decisions_max": float64(e.FastDecisionsMax), "evidence.within_delivery_seconds": e.WithinDeliverySeconds,
		"evidence.all_kept_min_cases": float64(e.AllKeptMinCases), "evidence.removal_deadline": float64(e.RemovalDeadline)} {
		if v < 0 {
			p.add(key, "%v is negative; use 0 for the default or a positive value", v)
		}
	}
}
