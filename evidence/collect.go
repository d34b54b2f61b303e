package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// Bundle is everything Export writes, before it is written.
type Bundle struct {
	Campaign   CampaignFile
	Population PopulationFile
	Cases      CasesFile
	Decisions  DecisionsFile
	Analytics  AnalyticsFile
	Approvals  ApprovalsFile
	Operations OperationsFile
	Tickets    TicketsFile
	Audit      []AuditLine
	head       store.AuditHead
	people     map[string]*campaign.User
}

// Collect reads campaign id's evidence from src. It returns an error
// wrapping campaign.ErrNotFound for an unknown campaign, or the first
// failed read.
func Collect(ctx context.Context, src Source, id int64, o Options) (*Bundle, error) {
	c, err := src.GetCampaign(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("evidence: campaign %d: %w", id, err)
	}
	b := &Bundle{}
	if err := b.collectCampaign(ctx, src, c, o); err != nil {
		return nil, err
	}
	if err := b.collectCases(ctx, src, c); err != nil {
		return nil, err
	}
	if err := b.collectPopulation(ctx, src, c); err != nil {
		return nil, err
	}
	entries, head, err := src.AuditEntries(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("evidence: audit entries: %w", err)
	}
	if got := store.ChainColumns(); !slices.Equal(got, chainColumns) {
		return nil, fmt.Errorf("evidence: the audit log hashes columns %v, this exporter knows %v: update package evidence", got, chainColumns)
	}
	b.head = head
	b.Audit = auditLines(entries, head)
	b.Decisions = decisionsOf(c.ID, entries)
	if err := b.collectRemediation(ctx, src, c, entries); err != nil {
		return nil, err
	}
	deliveries, err := src.FormDeliveries(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("evidence: form deliveries: %w", err)
	}
	b.Analytics = Analyze(c, b.Cases.Cases, b.Decisions, deliveries, o.Thresholds)
	applyDeadline(&b.Operations, o.RemovalDeadline, b.Campaign.GeneratedAt)
	b.Analytics.Leavers = leaverCheck(b.Cases.Cases, b.Operations.Operations, b.Population.HR.Checked)
	return b, nil
}

func (b *Bundle) collectCampaign(ctx context.Context, src Source, c *campaign.Campaign, o Options) error {
	sum := sha256.Sum256([]byte(c.DefinitionYAML))
	b.Campaign = CampaignFile{SchemaVersion: SchemaVersion, GeneratedAt: o.now(),
		Campaign: CampaignInfo{ID: c.ID, Name: c.Name, Description: c.Description, Owner: c.Owner, State: string(c.State),
			Trigger: c.Trigger, CreatedAt: c.CreatedAt.UTC(), Stage1Ends: at(c.Stage1Ends), Stage2Started: at(c.Stage2Started),
			Deadline: at(c.Deadline), ClosedAt: at(c.ClosedAt)},
		Definition: DefinitionInfo{YAML: c.DefinitionYAML, SHA256: hex.EncodeToString(sum[:])},
		Scope:      map[string]any{}, Transitions: []TransitionInfo{}}
	if c.Definition != nil {
		scope, err := scopeMap(c.Definition.Scope)
		if err != nil {
			return fmt.Errorf("evidence: campaign %d scope: %w", c.ID, err)
		}
		b.Campaign.Scope = scope
	}
	info, err := src.Snapshot(ctx, c.SnapshotID)
	if err != nil {
		return fmt.Errorf("evidence: snapshot %d: %w", c.SnapshotID, err)
	}
	b.Campaign.Snapshot = SnapshotRef{ID: info.ID, OrgURL: info.OrgURL, StartedAt: at(info.StartedAt),
		CompletedAt: at(info.CompletedAt), SHA256: c.SnapshotDigest}
	ts, err := src.Transitions(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("evidence: transitions: %w", err)
	}
	for _, t := range ts {
		b.Campaign.Transitions = append(b.Campaign.Transitions, TransitionInfo{From: string(t.From), To: string(t.To),
			Actor: t.Actor, At: t.At.UTC(), Note: t.Note})
	}
	return nil
}

// scopeMap turns the definition's scope into the map its YAML keys make,
// so JSON names match the definition file.
func scopeMap(s campaign.Scope) (map[string]any, error) {
	raw, err := yaml.Marshal(s)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (b *Bundle) collectCases(ctx context.Context, src Source, c *campaign.Campaign) error {
	users, err := src.SnapshotUsers(ctx, c.SnapshotID)
	if err != nil {
		return fmt.Errorf("evidence: users of snapshot %d: %w", c.SnapshotID, err)
	}
	b.people = make(map[string]*campaign.User, len(users))
	for i := range users {
		b.people[users[i].ID] = &users[i]
	}
	records, err := src.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		return fmt.Errorf("evidence: cases: %w", err)
	}
	b.Cases = CasesFile{SchemaVersion: SchemaVersion, CampaignID: c.ID, Cases: make([]Case, 0, len(records))}
	out := &b.Campaign.Outcomes
	for i := range records {
		cs := caseOf(&records[i], b.people)
		out.add(cs.Outcome)
		b.Cases.Cases = append(b.Cases.Cases, cs)
	}
	return nil
}

// caseOf turns a stored case into its evidence record.
func caseOf(r *campaign.CaseRecord, people map[string]*campaign.User) Case {
	cs := Case{ID: r.ID, UserID: r.UserID, Kind: r.Kind, EntitlementID: r.EntitlementID, Entitlement: r.Label,
		Direct: r.Direct, ViaGroups: orEmpty(r.ViaGroups), Flags: orEmpty(r.Flags.Names()), Risk: r.Risk,
		ManagerID: r.ManagerID, ReviewerID: r.ReviewerID, Reviewer: "IAM team", EscalationLevel: r.EscalationLevel,
		DelegatedBy: r.DelegatedBy, MemberDecision: r.MemberDecision, MemberComment: r.MemberComment, MemberAt: at(r.MemberAt),
		ReviewerDecision: r.ReviewerDecision, ReviewerComment: r.ReviewerComment, ReviewerAt: at(r.ReviewerAt),
		DecidedBy: r.DecidedBy, AcceptUntil: at(r.AcceptUntil), Outcome: outcomeName(r.Outcome),
		OwnerDecision: r.OwnerDecision, OwnerComment: r.OwnerComment, OwnerAt: at(r.OwnerAt), OwnerDecidedBy: r.OwnerDecidedBy,
		OwnerDecidedByID: r.OwnerDecidedByID}
	if u := people[r.UserID]; u != nil {
		cs.UserEmail, cs.UserName, cs.UserStatus, cs.Department = firstOf(u.Email, u.Login), u.DisplayName(), u.Status, u.Department
	}
	if u := people[r.ReviewerID]; u != nil {
		cs.Reviewer = firstOf(u.Email, u.Login)
	}
	return cs
}

// outcomeName spells a stored outcome in snake_case; "" is open.
func outcomeName(o string) string {
	if o == "" {
		return "open"
	}
	return strings.ReplaceAll(o, "-", "_")
}

// add counts one case with outcome o (outcomeName's spelling).
func (out *Outcomes) add(o string) {
	out.Cases++
	switch o {
	case "kept":
		out.Kept++
	case "revoked":
		out.Revoked++
	case "revoked_by_member":
		out.RevokedByMember++
	case "no_decision_kept":
		out.NoDecisionKept++
	case "no_decision_revoked":
		out.NoDecisionRevoked++
	default:
		out.Open++
	}
}

func firstOf(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
