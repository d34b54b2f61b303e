package evidence_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/store"
)

// An app owner's decision in stage 3 is exported on its case in
// cases.json (owner_decision, its decider by Okta id), and the file is
// valid against its schema.
func TestOwnerDecisionExported(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"), store.WithAuditKey([]byte(auditKey)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: t0}
	st.Now = clk.Now
	if _, err := st.SaveSnapshot(ctx, rigSnapshot(), campaign.Count(rigSnapshot())); err != nil {
		t.Fatal(err)
	}
	eng := &campaign.Engine{Store: st, Now: clk.Now, Admins: []string{"iam@x.com"}}
	const def = `name: owners
stages:
  self_attestation: {enabled: false}
  manager: {duration: 3d}
  app_owner: {enabled: true, owners: {App 1: [ceo@x.com]}}
approval: {approvers: [approver@x.com]}
`
	d, err := campaign.ParseDefinition("o.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: d, YAML: def, Owner: campaign.Actor{Email: "iam@x.com", Via: "cli"}, Trigger: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Answer(ctx, campaign.AnswerRequest{CampaignID: c.ID, Actor: campaign.Actor{Email: "fast@x.com", Via: "cli"},
		User: "s1", Entitlement: "App 1", Decision: "keep"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3*24*time.Hour + time.Minute)
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	cases, err := st.Cases(ctx, c.ID, campaign.CaseQuery{UserID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	var target campaign.CaseRecord
	for _, cs := range cases {
		if cs.Label == "App 1" {
			target = cs
		}
	}
	if n, err := eng.OwnerDecide(ctx, campaign.OwnerDecisionRequest{CampaignID: c.ID, Actor: campaign.Actor{Email: "ceo@x.com", Via: "cli"},
		AppID: target.EntitlementID, Decisions: map[int64]string{target.ID: "revoke"}, Comment: "left sales"}); err != nil || n != 1 {
		t.Fatalf("owner decision: %d, %v", n, err)
	}
	clk.Advance(time.Hour)
	if _, _, err := eng.Close(ctx, c.ID, campaign.Actor{Email: "iam@x.com", Via: "cli"}); err != nil {
		t.Fatal(err)
	}
	dir := export(t, &rig{st: st, id: c.ID, clk: clk}, signedOptions())
	if err := evidence.ValidateFile(evidence.FileCases, filepath.Join(dir, evidence.FileCases)); err != nil {
		t.Fatalf("cases.json schema: %v", err)
	}
	var file evidence.CasesFile
	readJSON(t, filepath.Join(dir, evidence.FileCases), &file)
	var found bool
	for _, cs := range file.Cases {
		if cs.ID != target.ID {
			if cs.OwnerDecision != "" {
				t.Errorf("case %d: owner decision %q, want none", cs.ID, cs.OwnerDecision)
			}
			continue
		}
		found = true
		if cs.OwnerDecision != "revoke" || cs.OwnerComment != "left sales" || cs.OwnerDecidedByID != "ceo" || cs.OwnerAt == nil ||
			cs.Outcome != "revoked" {
			t.Errorf("exported case: %+v; want the owner's revoke by ceo", cs)
		}
	}
	if !found {
		t.Fatalf("case %d not exported", target.ID)
	}
}
