package evidence_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/store"
)

// TestExportAtScale measures export and verification of a closed campaign
// of ATTEST_EVIDENCE_CASES cases (e.g. 200000), every case decided by a
// manager with its audit entry: ten apps a member, a hundred members a
// manager. It is skipped unless the variable is set.
func TestExportAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ATTEST_EVIDENCE_CASES"))
	if n <= 0 {
		t.Skip("set ATTEST_EVIDENCE_CASES=200000 to measure an export of that many cases")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{now: t0}
	st.Now = clk.Now
	const apps, perManager = 10, 100
	members := n / apps
	snap := &campaign.Snapshot{OrgURL: "https://example.okta.com", StartedAt: t0.Add(-time.Hour), CompletedAt: t0}
	snap.Users = append(snap.Users, campaign.User{ID: "ceo", Login: "ceo@x.com", Email: "ceo@x.com", Status: "ACTIVE", Department: "Exec"})
	for m := 0; m < (members+perManager-1)/perManager; m++ {
		id := fmt.Sprintf("m%d", m)
		snap.Users = append(snap.Users, campaign.User{ID: id, Login: id + "@x.com", Email: id + "@x.com", Status: "ACTIVE",
			Department: "Managers", ManagerRef: "ceo"})
	}
	for i := 0; i < members; i++ {
		id := fmt.Sprintf("u%d", i)
		snap.Users = append(snap.Users, campaign.User{ID: id, Login: id + "@x.com", Email: id + "@x.com", Status: "ACTIVE",
			Department: fmt.Sprintf("Team %d", i%40), ManagerRef: fmt.Sprintf("m%d", i/perManager), LastLogin: t0.Add(-time.Hour)})
		for a := 0; a < apps; a++ {
			snap.AppAssignments = append(snap.AppAssignments, campaign.AppAssignment{AppID: fmt.Sprintf("0oa%d", a), UserID: id, Scope: "USER"})
		}
	}
	for a := 0; a < apps; a++ {
		snap.Apps = append(snap.Apps, campaign.App{ID: fmt.Sprintf("0oa%d", a), Name: fmt.Sprintf("app%d", a), Label: fmt.Sprintf("App %d", a), Status: "ACTIVE"})
	}
	campaign.ResolveManagers(snap.Users)
	if _, err := st.SaveSnapshot(ctx, snap, campaign.Count(snap)); err != nil {
		t.Fatal(err)
	}
	eng := &campaign.Engine{Store: st, Now: clk.Now}
	def, err := campaign.ParseDefinition("big.yaml", []byte("name: Big review\nstages: {self_attestation: {enabled: false}}\nescalation: {after: 0d}\nremediation: {mode: report-only}\n"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: "name: Big review\n", Owner: campaign.Actor{Email: "ceo@x.com", Via: "cli"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("launched %d cases in %s", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	cases, err := st.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < len(cases); lo += 10_000 {
		var ups []campaign.CaseUpdate
		var evs []campaign.Event
		for i := lo; i < min(lo+10_000, len(cases)); i++ {
			cs := &cases[i]
			clk.Advance(700 * time.Millisecond)
			d := campaign.DecisionKeep
			if i%10 == 0 {
				d = campaign.DecisionRevoke
			}
			who := cs.ReviewerID + "@x.com"
			cs.ReviewerDecision, cs.ReviewerAt, cs.DecidedBy = d, clk.Now(), who
			ups = append(ups, campaign.CaseUpdate{Case: cs, ExpectReviewer: cs.ReviewerID})
			evs = append(evs, campaign.Event{At: clk.Now(), CampaignID: c.ID, CaseID: cs.ID, Type: "case.answered",
				Actor: campaign.Actor{UserID: cs.ReviewerID, Email: who, Via: "slack", SlackUserID: "U" + cs.ReviewerID,
					SlackActionTS: strconv.FormatInt(clk.Now().Unix(), 10) + ".000100", PayloadSHA256: fmt.Sprintf("%064d", i)},
				Detail: map[string]any{"user": cs.UserID, "kind": cs.Kind, "entitlement": cs.EntitlementID, "label": cs.Label,
					"decision": d, "stage": string(campaign.StateStage2)}})
		}
		if err := st.UpdateCases(ctx, ups, evs); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := eng.Close(ctx, c.ID, campaign.Actor{Email: "ceo@x.com", Via: "cli"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("decided and closed in %s", time.Since(start).Round(time.Millisecond))

	dir := filepath.Join(t.TempDir(), "bundle")
	start = time.Now()
	body, err := evidence.Export(ctx, st, c.ID, dir, evidence.Options{AuditKey: []byte(auditKey), SigningKey: signingKey})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var total int64
	for _, f := range body.Files {
		total += f.Size
		t.Logf("  %-16s %12d bytes", f.Name, f.Size)
	}
	t.Logf("export of %d cases: %s, %d files, %.1f MiB", n, took.Round(time.Millisecond), len(body.Files)+1, float64(total)/(1<<20))
	start = time.Now()
	rep, err := evidence.Verify(dir, evidence.VerifyOptions{AuditKey: []byte(auditKey)})
	if err != nil || !rep.OK {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
	t.Logf("verify: %s (%d audit entries)", time.Since(start).Round(time.Millisecond), rep.Audit.Entries)
}
