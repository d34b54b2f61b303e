// Package evidence writes and checks the evidence bundle of one campaign:
// a directory of JSON, CSV, JSONL and HTML files an auditor can read and
// verify offline, with a manifest of every file's SHA-256 signed with
// HMAC-SHA256 under the audit key and, when a signing key is given, with
// Ed25519 so verification needs no secret.
//
// Export reads the store through Source and writes files; Verify reads
// only the directory. Every JSON file carries schema_version and matches
// the JSON Schema embedded under schema/ (draft 2020-12).
package evidence

import (
	"context"
	"crypto/ed25519"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/ticketjob"
	"github.com/attestbot/attest/store"
)

// SchemaVersion names the bundle's format; it changes when a file's meaning
// changes, not when a field is added.
const SchemaVersion = "attest-evidence/1"

// Source is what Export reads: the store's campaign, snapshot, plan,
// operation, ticket and audit queries. *store.Store implements it.
type Source interface {
	GetCampaign(ctx context.Context, id int64) (*campaign.Campaign, error)
	Cases(ctx context.Context, campaignID int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error)
	Snapshot(ctx context.Context, id int64) (campaign.SnapshotInfo, error)
	SnapshotUsers(ctx context.Context, snapshotID int64) ([]campaign.User, error)
	SnapshotApps(ctx context.Context, snapshotID int64) ([]campaign.App, error)
	SnapshotGroupNames(ctx context.Context, snapshotID int64) (map[string]string, error)
	Transitions(ctx context.Context, campaignID int64) ([]store.Transition, error)
	Plan(ctx context.Context, campaignID int64) ([]campaign.PlanItem, error)
	Approvals(ctx context.Context, campaignID int64) ([]campaign.Approval, error)
	Operations(ctx context.Context, campaignID int64) ([]campaign.Operation, error)
	TicketsOf(ctx context.Context, campaignID int64) ([]ticketjob.Job, error)
	AuditEntries(ctx context.Context, campaignID int64) ([]store.AuditEntry, store.AuditHead, error)
	FormDeliveries(ctx context.Context, campaignID int64) ([]store.FormDelivery, error)
}

var _ Source = (*store.Store)(nil)

// Options tune Export.
type Options struct {
	// Now stamps the bundle; time.Now when nil.
	Now func() time.Time
	// Generator names the program that wrote the bundle ("attest v1.2").
	Generator string
	// AuditKey, when set, signs the manifest with HMAC-SHA256; it is the
	// audit key (store.audit_key, ATTEST_AUDIT_KEY).
	AuditKey []byte
	// SigningKey, when set, signs the manifest with Ed25519 and puts the
	// public key in it (ATTEST_EVIDENCE_SIGNING_KEY).
	SigningKey ed25519.PrivateKey
	// RemovalDeadline is the time allowed from approval to each removal
	// (DefaultRemovalDeadline when zero); later ones are reported late.
	RemovalDeadline time.Duration
	// Thresholds decide the reviewer analytics' flags; zero fields take
	// DefaultThresholds' values.
	Thresholds Thresholds
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}
	return o.Now().UTC()
}

// Bundle file names, in the order the manifest lists them.
const (
	FileCampaign   = "campaign.json"
	FilePopulation = "population.json"
	FileCases      = "cases.json"
	FileCasesCSV   = "cases.csv"
	FileDecisions  = "decisions.json"
	FileAnalytics  = "analytics.json"
	FileApprovals  = "approvals.json"
	FileOperations = "operations.json"
	FileTickets    = "tickets.json"
	FileAudit      = "audit.jsonl"
	FileReport     = "report.html"
	FileManifest   = "manifest.json"
)

// Files lists the files a bundle holds besides the manifest.
var Files = []string{FileCampaign, FilePopulation, FileCases, FileCasesCSV, FileDecisions, FileAnalytics,
	FileApprovals, FileOperations, FileTickets, FileAudit, FileReport}

// at returns a pointer to t in UTC, or nil for the zero time, so JSON
// leaves unknown times out rather than writing year 1.
func at(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// orEmpty returns s, or an empty slice for nil, so JSON writes [] and
// never null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
