package evidence

import "time"

// CasesFile is cases.json: every certification case with every answer
// given about it and its outcome.
type CasesFile struct {
	SchemaVersion string `json:"schema_version"`
	CampaignID    int64  `json:"campaign_id"`
	Cases         []Case `json:"cases"`
}

// Case is one user's one entitlement under review.
type Case struct {
	ID               int64      `json:"id"`
	UserID           string     `json:"user_id"`
	UserEmail        string     `json:"user_email"`
	UserName         string     `json:"user_name"`
	UserStatus       string     `json:"user_status"`
	Department       string     `json:"department"`
	Kind             string     `json:"kind"`
	EntitlementID    string     `json:"entitlement_id"`
	Entitlement      string     `json:"entitlement"`
	Direct           bool       `json:"direct"`
	ViaGroups        []string   `json:"via_groups"`
	Flags            []string   `json:"flags"`
	Risk             string     `json:"risk"`
	ManagerID        string     `json:"manager_id"`
	ReviewerID       string     `json:"reviewer_id"`
	Reviewer         string     `json:"reviewer"`
	EscalationLevel  int        `json:"escalation_level"`
	DelegatedBy      string     `json:"delegated_by"`
	MemberDecision   string     `json:"member_decision"`
	MemberComment    string     `json:"member_comment"`
	MemberAt         *time.Time `json:"member_at,omitempty"`
	ReviewerDecision string     `json:"reviewer_decision"`
	ReviewerComment  string     `json:"reviewer_comment"`
	ReviewerAt       *time.Time `json:"reviewer_at,omitempty"`
	DecidedBy        string     `json:"decided_by"`
	AcceptUntil      *time.Time `json:"accept_until,omitempty"`
	// Outcome is kept, revoked, revoked_by_member, no_decision_kept,
	// no_decision_revoked, or open before the campaign closes.
	Outcome string `json:"outcome"`
	// OwnerDecision is an app owner's keep or revoke in the app-owner
	// stage ("" when the case had none), with its comment, time and
	// decider (as shown, and by Okta user id).
	OwnerDecision    string     `json:"owner_decision"`
	OwnerComment     string     `json:"owner_comment"`
	OwnerAt          *time.Time `json:"owner_at,omitempty"`
	OwnerDecidedBy   string     `json:"owner_decided_by"`
	OwnerDecidedByID string     `json:"owner_decided_by_id"`
}

// DecisionsFile is decisions.json: every answer, escalation and
// delegation, each tied to its audit entry by seq and hash.
type DecisionsFile struct {
	SchemaVersion string       `json:"schema_version"`
	CampaignID    int64        `json:"campaign_id"`
	Decisions     []Decision   `json:"decisions"`
	Escalations   []Escalation `json:"escalations"`
	Delegations   []Delegation `json:"delegations"`
}

// AuditRef ties a record to its entry in audit.jsonl and the audit log.
type AuditRef struct {
	AuditSeq  int64  `json:"audit_seq"`
	AuditHash string `json:"audit_hash"`
}

// Decision is one answer on one case.
type Decision struct {
	AuditRef
	At            time.Time `json:"at"`
	CaseID        int64     `json:"case_id"`
	Stage         string    `json:"stage"`
	Decision      string    `json:"decision"`
	Previous      string    `json:"previous,omitempty"`
	Comment       string    `json:"comment,omitempty"`
	Bulk          bool      `json:"bulk"`
	AcceptUntil   string    `json:"accept_until,omitempty"`
	ActorEmail    string    `json:"actor_email"`
	ActorID       string    `json:"actor_id"`
	Via           string    `json:"via"`
	SlackUserID   string    `json:"slack_user_id,omitempty"`
	SlackTeamID   string    `json:"slack_team_id,omitempty"`
	SlackActionTS string    `json:"slack_action_ts,omitempty"`
	PayloadSHA256 string    `json:"payload_sha256,omitempty"`
}

// Escalation is one case moved to the next reviewer.
type Escalation struct {
	AuditRef
	At     time.Time `json:"at"`
	CaseID int64     `json:"case_id"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Level  int       `json:"level"`
}

// Delegation is one reviewer handing a member's review to someone else.
type Delegation struct {
	AuditRef
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	ByID   string    `json:"by_id"`
	Member string    `json:"member"`
	To     string    `json:"to"`
	Cases  int       `json:"cases"`
}

// ApprovalsFile is approvals.json: the plan that was approved and who
// approved or rejected it, when.
type ApprovalsFile struct {
	SchemaVersion string     `json:"schema_version"`
	CampaignID    int64      `json:"campaign_id"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
	Approvals     []Approval `json:"approvals"`
	Plan          []PlanItem `json:"plan"`
	// SignOffs are the control owner's sign-offs (SignOff), oldest first.
	SignOffs []SignOffRecord `json:"sign_offs"`
}

// Approval is one approver's word on the plan.
// Its audit_seq is 0 when no audit entry records it.
type Approval struct {
	AuditRef
	Approver      string    `json:"approver"`
	ApproverID    string    `json:"approver_id"`
	Decision      string    `json:"decision"`
	At            time.Time `json:"at"`
	Via           string    `json:"via"`
	SlackUserID   string    `json:"slack_user_id,omitempty"`
	SlackActionTS string    `json:"slack_action_ts,omitempty"`
	PayloadSHA256 string    `json:"payload_sha256,omitempty"`
}

// PlanItem is one step of the remediation plan: an Okta operation, or a
// conflict or manual item a person must handle.
type PlanItem struct {
	Seq     int     `json:"seq"`
	Kind    string  `json:"kind"`
	UserID  string  `json:"user_id"`
	GroupID string  `json:"group_id"`
	AppID   string  `json:"app_id"`
	CaseIDs []int64 `json:"case_ids"`
	Reason  string  `json:"reason"`
}

// OperationsFile is operations.json: each Okta removal from approval to
// read-back.
type OperationsFile struct {
	SchemaVersion string     `json:"schema_version"`
	CampaignID    int64      `json:"campaign_id"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
	// DeadlineHours is the time allowed from approval to each removal;
	// Late counts the operations that missed it.
	DeadlineHours float64     `json:"removal_deadline_hours"`
	Late          int         `json:"late"`
	Operations    []Operation `json:"operations"`
}

// Operation is one Okta write with its result and read-back.
type Operation struct {
	Seq         int        `json:"seq"`
	Kind        string     `json:"kind"`
	UserID      string     `json:"user_id"`
	GroupID     string     `json:"group_id"`
	Group       string     `json:"group"`
	AppID       string     `json:"app_id"`
	App         string     `json:"app"`
	CaseIDs     []int64    `json:"case_ids"`
	State       string     `json:"state"`
	Result      string     `json:"result"`
	Attempts    int        `json:"attempts"`
	ErrorCode   string     `json:"error_code"`
	Error       string     `json:"error"`
	Executor    string     `json:"executor"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	ReadBack    string     `json:"read_back"`
	HoursToDone *float64   `json:"hours_from_approval,omitempty"`
	Deadline    *time.Time `json:"deadline,omitempty"`
	// Late: finished after the deadline, or unfinished past it.
	Late bool `json:"late"`
}

// TicketsFile is tickets.json: the ServiceNow records filed for the
// campaign.
type TicketsFile struct {
	SchemaVersion string   `json:"schema_version"`
	CampaignID    int64    `json:"campaign_id"`
	Tickets       []Ticket `json:"tickets"`
}

// Ticket is one queued ServiceNow call and the record it made.
type Ticket struct {
	Ref       string     `json:"ref"`
	Kind      string     `json:"kind"`
	Action    string     `json:"action"`
	Table     string     `json:"table"`
	Number    string     `json:"number"`
	SysID     string     `json:"sys_id"`
	State     string     `json:"state"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
}

// AuditLine is one line of audit.jsonl: an entry of the campaign (record
// "entry") with every hashed column as stored, or, last, the chain's head
// at export (record "head").
type AuditLine struct {
	Record string `json:"record"`
	Seq    int64  `json:"seq"`
	// Fields are the hashed columns after the id, by name, as text.
	Fields map[string]string `json:"fields,omitempty"`
	Hash   string            `json:"hash"`
	// Keyed: the hash is HMAC-SHA256 under the audit key, not SHA-256.
	Keyed     bool  `json:"keyed"`
	KeyedFrom int64 `json:"keyed_from,omitempty"`
}
