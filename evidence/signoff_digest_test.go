package evidence_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/evidence"
)

// A sign-off binds to the evidence digest: a digest that is no longer the
// evidence's is refused (something was recorded since) and records
// nothing; the current one is recorded, and verify recomputes it from
// audit.jsonl. A decline needs a reason and is recorded as such; sign-offs
// do not change the digest.
func TestSignOffBindsToEvidenceDigest(t *testing.T) {
	r := runCampaign(t)
	ctx := context.Background()
	rec := &evidence.SignOffs{Store: r.st, Now: r.clk.Now}
	facts, err := rec.SignOffFacts(ctx, r.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(facts.EvidenceSHA256) != 64 || !strings.Contains(facts.Summary, "28 cases") || len(facts.Exceptions) == 0 || facts.Signed != nil {
		t.Fatalf("facts = %+v", facts)
	}
	shown := facts.EvidenceSHA256
	owner := campaign.Actor{Email: "iam@x.com", UserID: "iam", Via: "slack"}

	if _, err := rec.RecordSignOff(ctx, campaign.SignOffRequest{CampaignID: r.id, Actor: owner, EvidenceSHA256: shown, Decline: true}); !errors.Is(err, campaign.ErrInvalid) {
		t.Fatalf("decline without reason: %v, want invalid", err)
	}
	// Something is recorded about the campaign after the message showed
	// the digest: the sign-off bound to the old digest is refused.
	if err := r.st.AppendEvent(ctx, campaign.Event{At: r.clk.Now(), CampaignID: r.id, Type: "ticket.updated", Actor: campaign.System,
		Detail: map[string]any{"note": "late ticket state"}}); err != nil {
		t.Fatal(err)
	}
	_, err = rec.RecordSignOff(ctx, campaign.SignOffRequest{CampaignID: r.id, Actor: owner, EvidenceSHA256: shown})
	var changed *campaign.EvidenceChangedError
	if !errors.As(err, &changed) || !errors.Is(err, campaign.ErrConflict) || changed.Shown != shown || changed.Current == shown {
		t.Fatalf("stale digest: %v, want an EvidenceChangedError", err)
	}
	now, err := evidence.EvidenceDigest(ctx, r.st, r.id)
	if err != nil || now != changed.Current {
		t.Fatalf("digest now %s (%v), the refusal said %s", now, err, changed.Current)
	}
	if _, err := rec.RecordSignOff(ctx, campaign.SignOffRequest{CampaignID: r.id, Actor: owner, EvidenceSHA256: now, Decline: true,
		Reason: "ticket INC1 still open"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := evidence.EvidenceDigest(ctx, r.st, r.id); after != now {
		t.Fatal("a decline changed the evidence digest")
	}
	ev, err := rec.RecordSignOff(ctx, campaign.SignOffRequest{CampaignID: r.id, Actor: owner, EvidenceSHA256: now})
	if err != nil || ev.Detail["evidence_sha256"] != now || ev.Type != campaign.EventSignedOff {
		t.Fatalf("sign-off: %+v, %v", ev, err)
	}

	dir := export(t, r, signedOptions())
	var ap evidence.ApprovalsFile
	readJSON(t, filepath.Join(dir, evidence.FileApprovals), &ap)
	if len(ap.SignOffs) != 2 || ap.SignOffs[0].Decision != "declined" || ap.SignOffs[0].Reason != "ticket INC1 still open" ||
		ap.SignOffs[1].Decision != "signed_off" || ap.SignOffs[1].EvidenceSHA256 != now || ap.SignOffs[1].Via != "slack" || ap.SignOffs[1].ByID != "iam" {
		t.Fatalf("sign-offs = %+v", ap.SignOffs)
	}
	if rep, err := evidence.Verify(dir, evidence.VerifyOptions{AuditKey: []byte(auditKey)}); err != nil || !rep.OK {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
	if f, _ := rec.SignOffFacts(ctx, r.id); f.Signed == nil || f.Signed.Type != campaign.EventSignedOff {
		t.Fatalf("facts after signing: %+v", f.Signed)
	}

	// Verify recomputes the digest: a bundle whose audit.jsonl lacks an
	// entry before the sign-off no longer gives the digest it quotes. (The
	// manifest catches the edit too; the digest check names approvals.json.)
	raw, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	if err := os.WriteFile(filepath.Join(dir, evidence.FileAudit), []byte(strings.Join(lines[1:], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _ := evidence.Verify(dir, evidence.VerifyOptions{AuditKey: []byte(auditKey)})
	found := false
	for _, p := range rep.Problems {
		if p.File == evidence.FileApprovals && strings.Contains(p.Reason, "evidence digest") {
			found = true
		}
	}
	if rep.OK || !found {
		t.Fatalf("verify after dropping an audit line: %s", rep.Summary())
	}
}
