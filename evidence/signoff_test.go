package evidence_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/evidence"
)

func TestControlOwnerSignOff(t *testing.T) {
	r := runCampaign(t)
	ctx := context.Background()
	first := export(t, r, signedOptions())
	digest, err := evidence.ManifestDigest(first)
	if err != nil {
		t.Fatal(err)
	}
	eng := &campaign.Engine{Store: r.st, Now: r.clk.Now}
	def, err := campaign.ParseDefinition("q4.yaml", []byte(rigDefinition))
	if err != nil {
		t.Fatal(err)
	}
	open, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: rigDefinition, Owner: campaign.Actor{Email: "iam@x.com", Via: "cli"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  evidence.SignOffRequest
		want error
	}{
		{"a reviewer is not the control owner", evidence.SignOffRequest{CampaignID: r.id, Actor: campaign.Actor{Email: "fast@x.com"}}, campaign.ErrForbidden},
		{"nobody", evidence.SignOffRequest{CampaignID: r.id}, campaign.ErrForbidden},
		{"an open campaign", evidence.SignOffRequest{CampaignID: open.ID, Actor: campaign.Actor{Email: "iam@x.com"}}, campaign.ErrConflict},
		{"unknown campaign", evidence.SignOffRequest{CampaignID: 99, Actor: campaign.Actor{Email: "iam@x.com"}}, campaign.ErrNotFound},
		{"the owner, naming the bundle", evidence.SignOffRequest{CampaignID: r.id, Actor: campaign.Actor{Email: "IAM@x.com"}, ManifestSHA256: digest}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := evidence.SignOff(ctx, r.st, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	second := export(t, r, signedOptions())
	var ap evidence.ApprovalsFile
	readJSON(t, filepath.Join(second, evidence.FileApprovals), &ap)
	if len(ap.SignOffs) != 1 {
		t.Fatalf("sign-offs = %+v, want one", ap.SignOffs)
	}
	so := ap.SignOffs[0]
	if so.By != "IAM@x.com" || so.ByID != "iam" || so.ManifestSHA256 != digest || so.Statement != evidence.DefaultStatement || so.AuditSeq == 0 {
		t.Errorf("sign-off = %+v", so)
	}
	if rep, err := evidence.Verify(second, evidence.VerifyOptions{AuditKey: []byte(auditKey)}); err != nil || !rep.OK {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
}
