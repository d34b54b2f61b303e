package evidence

import "time"

// The types below are the bundle's files. Every field has an explicit
// snake_case json tag; lists are never null; unknown times are absent.

// CampaignFile is campaign.json: what was reviewed, under which rules, on
// which directory data.
type CampaignFile struct {
	SchemaVersion string         `json:"schema_version"`
	GeneratedAt   time.Time      `json:"generated_at"`
	Campaign      CampaignInfo   `json:"campaign"`
	Definition    DefinitionInfo `json:"definition"`
	// Scope is the definition's scope section as launched.
	Scope       map[string]any   `json:"scope"`
	Snapshot    SnapshotRef      `json:"snapshot"`
	Outcomes    Outcomes         `json:"outcomes"`
	Transitions []TransitionInfo `json:"transitions"`
}

// CampaignInfo is the campaign's identity and lifecycle times.
type CampaignInfo struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Description   string     `json:"description,omitempty"`
	Owner         string     `json:"owner"`
	State         string     `json:"state"`
	Trigger       string     `json:"trigger,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	Stage1Ends    *time.Time `json:"stage1_ends,omitempty"`
	Stage2Started *time.Time `json:"stage2_started,omitempty"`
	Deadline      *time.Time `json:"deadline,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
}

// DefinitionInfo is the definition's text as launched and its SHA-256.
type DefinitionInfo struct {
	YAML   string `json:"yaml"`
	SHA256 string `json:"sha256"`
}

// SnapshotRef names the frozen directory snapshot the campaign reviewed.
type SnapshotRef struct {
	ID          int64      `json:"id"`
	OrgURL      string     `json:"org_url"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	SHA256      string     `json:"sha256"`
}

// TransitionInfo is one recorded state change of the campaign.
type TransitionInfo struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// Outcomes counts cases by their one outcome. The fields do not overlap
// and sum to Cases:
//   - kept: a reviewer (or the member, without a manager stage) kept it;
//   - revoked: a reviewer revoked it;
//   - revoked_by_member: the member said "not needed" and it went to
//     removal without confirmation;
//   - no_decision_kept / no_decision_revoked: nobody decided and the
//     definition's no-decision rule kept or revoked it;
//   - open: the campaign has not closed, so the case has no outcome yet.
type Outcomes struct {
	Cases             int `json:"cases"`
	Kept              int `json:"kept"`
	Revoked           int `json:"revoked"`
	RevokedByMember   int `json:"revoked_by_member"`
	NoDecisionKept    int `json:"no_decision_kept"`
	NoDecisionRevoked int `json:"no_decision_revoked"`
	Open              int `json:"open"`
}

// PopulationFile is population.json: what the snapshot counted, and what
// the campaign took from it, so completeness can be tested.
type PopulationFile struct {
	SchemaVersion string         `json:"schema_version"`
	SnapshotID    int64          `json:"snapshot_id"`
	SnapshotSHA   string         `json:"snapshot_sha256"`
	OrgURL        string         `json:"org_url"`
	Sync          SyncInfo       `json:"sync"`
	Directory     DirectoryCount `json:"directory"`
	InScope       ScopeCount     `json:"in_scope"`
	// Read says whether the sync read every page and how its counts
	// reconcile with Okta's totals.
	Read ReadInfo `json:"read"`
	// HR is the sync's leaver cross-check against the HR CSV.
	HR HRInfo `json:"hr_cross_check"`
	// Gaps names what the store does not record about how the population
	// was read.
	Gaps []string `json:"gaps"`
}

// SyncInfo is the directory read that made the snapshot.
type SyncInfo struct {
	StartedAt       *time.Time `json:"started_at,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	DurationSeconds float64    `json:"duration_seconds"`
	APICalls        int64      `json:"api_calls"`
	RateLimited     int64      `json:"rate_limited"`
	Retries         int64      `json:"retries"`
	LogCursor       *time.Time `json:"system_log_cursor,omitempty"`
}

// DirectoryCount is the snapshot's content counted.
type DirectoryCount struct {
	Users                int            `json:"users"`
	UsersByStatus        map[string]int `json:"users_by_status"`
	UsersWithoutManager  int            `json:"users_without_manager"`
	UnresolvedManagers   int            `json:"unresolved_managers"`
	HRRowsUnmatched      int            `json:"hr_rows_unmatched"`
	Groups               int            `json:"groups"`
	GroupRules           int            `json:"group_rules"`
	Apps                 int            `json:"apps"`
	InactiveApps         int            `json:"inactive_apps"`
	Memberships          int            `json:"memberships"`
	AssignmentsDirect    int            `json:"assignments_direct"`
	GroupAppAssignments  int            `json:"group_app_assignments"`
	AssignmentsViaGroup  int            `json:"assignments_via_group"`
	EffectiveRelations   int            `json:"effective_relations"`
	AppSignInsRecorded   int            `json:"app_sign_ins"`
	SnapshotUsersRead    int            `json:"snapshot_users_read"`
	SnapshotAppsRead     int            `json:"snapshot_apps_read"`
	SnapshotGroupsRead   int            `json:"snapshot_groups_read"`
	CountsMatchSnapshot  bool           `json:"counts_match_snapshot"`
	CountMismatchDetails []string       `json:"count_mismatches"`
}

// ScopeCount is what the campaign took from the snapshot.
type ScopeCount struct {
	Cases        int            `json:"cases"`
	Members      int            `json:"members"`
	Entitlements int            `json:"entitlements"`
	Reviewers    int            `json:"reviewers"`
	ByKind       map[string]int `json:"cases_by_kind"`
	ByFlag       map[string]int `json:"cases_by_flag"`
}
