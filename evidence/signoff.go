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

// EventSignedOff is the audit event of a control owner's sign-off.
const EventSignedOff = "campaign.signed_off"

// DefaultStatement is what a control owner signs when they give no text.
const DefaultStatement = "As the owner of this control, I reviewed this access review's results and evidence; " +
	"the review is complete, and its removals are done or accounted for."

// SignOffStore is what SignOff reads and writes. *store.Store implements it.
type SignOffStore interface {
	GetCampaign(ctx context.Context, id int64) (*campaign.Campaign, error)
	FindUser(ctx context.Context, snapshotID int64, key string) (campaign.User, error)
	AppendEvent(ctx context.Context, ev campaign.Event) error
}

var _ SignOffStore = (*store.Store)(nil)

// SignOffRequest is a control owner's sign-off of one campaign.
type SignOffRequest struct {
	CampaignID int64
	// Actor signs: the campaign's owner or its definition's owner.
	Actor     campaign.Actor
	Statement string
	// ManifestSHA256, when set, is the SHA-256 of the manifest.json of the
	// bundle the owner reviewed (ManifestDigest).
	ManifestSHA256 string
	At             time.Time
}

// SignOff records a control owner's sign-off in the audit log, where the
// next export finds it. Only the campaign's owner or its definition's
// owner signs, and only once the campaign is closed. It returns an error
// wrapping campaign.ErrForbidden for anyone else, campaign.ErrConflict for
// a campaign still open, or the failed read or append.
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
	switch {
	case who == "" || !containsFold(owners, who):
		return campaign.Event{}, fmt.Errorf("evidence: %q may not sign off campaign %d: its control owner (%s) signs: %w",
			who, c.ID, strings.Join(owners, " or "), campaign.ErrForbidden)
	case c.State.Open() || c.State == campaign.StateDraft:
		return campaign.Event{}, fmt.Errorf("evidence: campaign %d is %s: sign off once it has closed: %w", c.ID, c.State, campaign.ErrConflict)
	}
	actor := req.Actor
	actor.Email = who
	if actor.Via == "" {
		actor.Via = "cli"
	}
	if u, err := st.FindUser(ctx, c.SnapshotID, who); err == nil {
		actor.UserID = u.ID
	} else if !errors.Is(err, campaign.ErrNotFound) {
		return campaign.Event{}, fmt.Errorf("evidence: sign off campaign %d: %w", c.ID, err)
	}
	statement := strings.TrimSpace(req.Statement)
	if statement == "" {
		statement = DefaultStatement
	}
	detail := map[string]any{"statement": statement, "state": string(c.State)}
	if req.ManifestSHA256 != "" {
		detail["bundle_manifest_sha256"] = req.ManifestSHA256
	}
	ev := campaign.Event{At: req.At, CampaignID: c.ID, Type: EventSignedOff, Actor: actor, Detail: detail}
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

// SignOffRecord is one sign-off as approvals.json lists it.
type SignOffRecord struct {
	AuditRef
	By             string    `json:"by"`
	ByID           string    `json:"by_id"`
	At             time.Time `json:"at"`
	Statement      string    `json:"statement"`
	ManifestSHA256 string    `json:"bundle_manifest_sha256,omitempty"`
}

// signOffsOf reads the sign-offs out of the campaign's audit entries.
func signOffsOf(entries []store.AuditEntry) []SignOffRecord {
	out := []SignOffRecord{}
	for _, e := range entries {
		if e.Fields[typeColumn] != EventSignedOff {
			continue
		}
		v := viewOf(e)
		out = append(out, SignOffRecord{AuditRef: v.ref, By: v.actor, ByID: v.id, At: v.at, Statement: v.str("statement"),
			ManifestSHA256: v.str("bundle_manifest_sha256")})
	}
	return out
}
