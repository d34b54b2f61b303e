package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// EventSignedOff is the audit event of a control owner's sign-off, and
// EventSignOffDeclined of their refusal to sign (with a reason).
const (
	EventSignedOff       = campaign.EventSignedOff
	EventSignOffDeclined = campaign.EventSignOffDeclined
)

// DefaultStatement is what a control owner signs when they give no text.
const DefaultStatement = "As the owner of this control, I reviewed this access review's results and evidence; " +
	"the review is complete, and its removals are done or accounted for."

// SignOffStore is what SignOff reads and writes. *store.Store implements it.
type SignOffStore interface {
	GetCampaign(ctx context.Context, id int64) (*campaign.Campaign, error)
	FindUser(ctx context.Context, snapshotID int64, key string) (campaign.User, error)
	AppendEvent(ctx context.Context, ev campaign.Event) error
	AuditEntries(ctx context.Context, campaignID int64) ([]store.AuditEntry, store.AuditHead, error)
}

var _ SignOffStore = (*store.Store)(nil)

// SignOffRequest is a control owner's sign-off of one campaign.
type SignOffRequest struct {
	CampaignID int64
	// Actor signs: the campaign's owner or its definition's owner, by
	// Okta id (Actor.UserID) or, from the CLI, by email or login.
	Actor     campaign.Actor
	Statement string
	// Decline records a refusal to sign instead, for Reason.
	Decline bool
	Reason  string
	// EvidenceSHA256, when set, is the evidence digest the owner was shown
	// (EvidenceDigest); a sign-off is refused with a
	// *campaign.EvidenceChangedError if the evidence has changed since.
	EvidenceSHA256 string
	// ManifestSHA256, when set, is the SHA-256 of the manifest.json of the
	// bundle the owner reviewed (ManifestDigest).
	ManifestSHA256 string
	At             time.Time
}

// SignOff records a control owner's sign-off (or, with Decline, their
// refusal and its reason) in the audit log, where the next export finds
// it, bound to the campaign's evidence digest at that moment. Only the
// campaign's owner or its definition's owner signs (compared by Okta id
// when the snapshot knows them, else by email), and only once the campaign
// is closed. It is the one sign-off path: the CLI and Slack (through
// campaign.Engine.SignOff and SignOffs) both call it. It returns an error
// wrapping campaign.ErrForbidden for anyone else, campaign.ErrConflict
// for a campaign still open or a digest that is no longer current (a
// *campaign.EvidenceChangedError), campaign.ErrInvalid for a decline
// without reason, or the failed read or append.
func SignOff(ctx context.Context, st SignOffStore, req SignOffRequest) (campaign.Event, error) {
	c, err := st.GetCampaign(ctx, req.CampaignID)
	if err != nil {
		return campaign.Event{}, fmt.Errorf("evidence: sign off campaign %d: %w", req.CampaignID, err)
	}
	who := strings.TrimSpace(req.Actor.Email)
	owners := []string{c.Owner}
	if c.Definition != nil && c.Definition.Owner != "" {
		owners = append(owners, c.Definition.Owner)
	}
	actor := req.Actor
	actor.Email = who
	if actor.Via == "" {
		actor.Via = "cli"
	}
	if actor.UserID == "" && who != "" {
		if u, err := st.FindUser(ctx, c.SnapshotID, who); err == nil {
			actor.UserID = u.ID
		} else if !errors.Is(err, campaign.ErrNotFound) {
			return campaign.Event{}, fmt.Errorf("evidence: sign off campaign %d: %w", c.ID, err)
		}
	}
	ownerIDs := map[string]bool{}
	if c.OwnerID != "" {
		ownerIDs[c.OwnerID] = true
	}
	for _, o := range owners {
		if u, err := st.FindUser(ctx, c.SnapshotID, strings.TrimSpace(o)); err == nil {
			ownerIDs[u.ID] = true
		}
	}
	byID := actor.UserID != "" && ownerIDs[actor.UserID]
	switch {
	case !byID && (who == "" || !containsFold(owners, who)):
		return campaign.Event{}, fmt.Errorf("evidence: %q may not sign off campaign %d: its control owner (%s) signs: %w",
			firstOf(who, actor.UserID), c.ID, strings.Join(owners, " or "), campaign.ErrForbidden)
	case c.State.Open() || c.State == campaign.StateDraft:
		return campaign.Event{}, fmt.Errorf("evidence: campaign %d is %s: sign off once it has closed: %w", c.ID, c.State, campaign.ErrConflict)
	case req.Decline && strings.TrimSpace(req.Reason) == "":
		return campaign.Event{}, fmt.Errorf("evidence: declining the sign-off of campaign %d needs a reason: %w", c.ID, campaign.ErrInvalid)
	}
	digest, err := EvidenceDigest(ctx, st, c.ID)
	if err != nil {
		return campaign.Event{}, err
	}
	if req.EvidenceSHA256 != "" && req.EvidenceSHA256 != digest {
		return campaign.Event{}, fmt.Errorf("evidence: sign off campaign %d: %w", c.ID,
			&campaign.EvidenceChangedError{Shown: req.EvidenceSHA256, Current: digest})
	}
	typ := EventSignedOff
	detail := map[string]any{"state": string(c.State), "evidence_sha256": digest}
	if req.Decline {
		typ = EventSignOffDeclined
		detail["reason"] = strings.TrimSpace(req.Reason)
	} else {
		statement := strings.TrimSpace(req.Statement)
		if statement == "" {
			statement = DefaultStatement
		}
		detail["statement"] = statement
	}
	if req.ManifestSHA256 != "" {
		detail["bundle_manifest_sha256"] = req.ManifestSHA256
	}
	ev := campaign.Event{At: req.At, CampaignID: c.ID, Type: typ, Actor: actor, Detail: detail}
	if err := st.AppendEvent(ctx, ev); err != nil {
		return campaign.Event{}, fmt.Errorf("evidence: sign off campaign %d: %w", c.ID, err)
	}
	return ev, nil
}

// ManifestDigest returns the hex SHA-256 of a bundle's manifest.json: the
// digest a sign-off quotes to name the bundle it approves.
func ManifestDigest(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, FileManifest))
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// SignOffRecord is one sign-off or decline as approvals.json lists it.
type SignOffRecord struct {
	AuditRef
	// Decision is "signed_off" or "declined".
	Decision  string    `json:"decision"`
	By        string    `json:"by"`
	ByID      string    `json:"by_id"`
	Via       string    `json:"via"`
	At        time.Time `json:"at"`
	Statement string    `json:"statement"`
	Reason    string    `json:"reason,omitempty"`
	// EvidenceSHA256 is the evidence digest the sign-off is bound to
	// (EvidenceDigest over the audit entries before it); verify recomputes
	// it from audit.jsonl.
	EvidenceSHA256 string `json:"evidence_sha256,omitempty"`
	ManifestSHA256 string `json:"bundle_manifest_sha256,omitempty"`
}

// signOffsOf reads the sign-offs and declines out of the campaign's audit
// entries.
func signOffsOf(entries []store.AuditEntry) []SignOffRecord {
	out := []SignOffRecord{}
	for _, e := range entries {
		typ := e.Fields[typeColumn]
		if typ != EventSignedOff && typ != EventSignOffDeclined {
			continue
		}
		v := viewOf(e)
		decision := "signed_off"
		if typ == EventSignOffDeclined {
			decision = "declined"
		}
		out = append(out, SignOffRecord{AuditRef: v.ref, Decision: decision, By: v.actor, ByID: v.id, Via: v.via, At: v.at,
			Statement: v.str("statement"), Reason: v.str("reason"), EvidenceSHA256: v.str("evidence_sha256"),
			ManifestSHA256: v.str("bundle_manifest_sha256")})
	}
	return out
}
