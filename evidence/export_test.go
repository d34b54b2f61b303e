package evidence_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/evidence"
)

var signingKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// export writes the rig's campaign into a new directory.
func export(t *testing.T, r *rig, o evidence.Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	if o.Now == nil {
		o.Now = r.clk.Now
	}
	if _, err := evidence.Export(context.Background(), r.st, r.id, dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

func signedOptions() evidence.Options {
	return evidence.Options{AuditKey: []byte(auditKey), SigningKey: signingKey, Generator: "attest test",
		Thresholds: evidence.Thresholds{FastDecisionsMax: 10}}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestWholeCampaignExportVerifies(t *testing.T) {
	r := runCampaign(t)
	dir := export(t, r, signedOptions())

	for _, tc := range []struct {
		name       string
		o          evidence.VerifyOptions
		signatures int
		unchecked  int
	}{
		{"audit key and pinned public key", evidence.VerifyOptions{AuditKey: []byte(auditKey), PublicKey: signingKey.Public().(ed25519.PublicKey)}, 2, 0},
		{"public key in the manifest, no secret", evidence.VerifyOptions{}, 1, 1},
		{"audit key only", evidence.VerifyOptions{AuditKey: []byte(auditKey)}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := evidence.Verify(dir, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK {
				t.Fatalf("verify failed:\n%s", rep.Summary())
			}
			if len(rep.Signatures) != tc.signatures || len(rep.Unchecked) != tc.unchecked {
				t.Errorf("signatures %v, unchecked %v; want %d and %d", rep.Signatures, rep.Unchecked, tc.signatures, tc.unchecked)
			}
			if rep.Files != len(evidence.Files) || rep.Audit.Entries == 0 {
				t.Errorf("files %d, audit entries %d", rep.Files, rep.Audit.Entries)
			}
			// The chain is keyed: entries' hashes are recomputed with the key only.
			if recomputed := rep.Audit.Recomputed == rep.Audit.Entries; recomputed != (tc.o.AuditKey != nil) {
				t.Errorf("audit %+v with key %v", rep.Audit, tc.o.AuditKey != nil)
			}
		})
	}

	var a evidence.AnalyticsFile
	readJSON(t, filepath.Join(dir, evidence.FileAnalytics), &a)
	flagged := map[string][]string{}
	for _, rs := range a.Reviewers {
		flagged[rs.Reviewer+" "+rs.Stage] = rs.Flags
	}
	if got := flagged["fast@x.com stage2"]; !slices.Contains(got, evidence.FlagFastDecisions) {
		t.Errorf("the fast reviewer's flags = %v, want %s (reviewers %+v)", got, evidence.FlagFastDecisions, a.Reviewers)
	}
	if got := flagged["slow@x.com stage2"]; len(got) != 0 {
		t.Errorf("the slow reviewer is flagged %v", got)
	}
	if len(a.Flags) == 0 || a.Flags[0].Reviewer != "fast@x.com" {
		t.Errorf("flags = %+v, want the fast reviewer's first", a.Flags)
	}
	for _, rs := range a.Reviewers {
		if rs.Reviewer == "fast@x.com" && (rs.TimedFrom != "mixed" || rs.WithinDelivery == 0 || rs.MinSeconds != 0.5) {
			t.Errorf("fast reviewer timed from %s, %d within delivery, min %gs; want mixed, some, 0.5s", rs.TimedFrom, rs.WithinDelivery, rs.MinSeconds)
		}
	}

	var c evidence.CampaignFile
	readJSON(t, filepath.Join(dir, evidence.FileCampaign), &c)
	o := c.Outcomes
	if sum := o.Kept + o.Revoked + o.RevokedByMember + o.NoDecisionKept + o.NoDecisionRevoked + o.Open; sum != o.Cases || o.Cases != 28 {
		t.Errorf("outcomes %+v sum to %d, want 28 cases", o, sum)
	}
	if o.RevokedByMember != 1 || o.Revoked != 3 || o.NoDecisionKept != 3 || o.Open != 0 {
		t.Errorf("outcomes = %+v; want 1 revoked by member, 3 revoked, 3 no decision kept", o)
	}
	// Leavers: the suspended user's 2 cases (Okta), and with the HR CSV
	// s2's 5 (terminated in HR) and e2's 3 (not in HR), all kept.
	l := a.Leavers
	if !l.HRChecked || l.Cases != 10 || l.Kept != 10 || len(l.Items) != 10 || l.ByReason["okta_suspended"] != 2 ||
		l.ByReason["terminated_in_hr"] != 5 || l.ByReason["not_in_hr"] != 3 {
		t.Errorf("leaver check = %+v; want 2 suspended, 5 terminated in HR, 3 not in HR, all kept", l)
	}
	for _, it := range l.Items {
		want := map[string]string{"gone": "okta_suspended", "s2": "terminated_in_hr", "e2": "not_in_hr"}[it.UserID]
		if want == "" || !slices.Contains(it.Reasons, want) {
			t.Errorf("leaver item %+v: want reason %q", it, want)
		}
	}
	var pop evidence.PopulationFile
	readJSON(t, filepath.Join(dir, evidence.FilePopulation), &pop)
	if h := pop.HR; !h.Checked || h.Terminated != 1 || h.Absent != 1 || len(h.Leavers) != 2 {
		t.Errorf("population hr_cross_check = %+v; want s2 terminated and e2 absent", h)
	}
	var cf evidence.CasesFile
	readJSON(t, filepath.Join(dir, evidence.FileCases), &cf)
	for _, cs := range cf.Cases {
		if cs.UserID == "s2" && !slices.Contains(cs.Flags, "terminated_in_hr") || cs.UserID == "e2" && !slices.Contains(cs.Flags, "not_in_hr") {
			t.Errorf("case %d of %s: flags %v, want the HR flag", cs.ID, cs.UserID, cs.Flags)
		}
	}
	var ops evidence.OperationsFile
	readJSON(t, filepath.Join(dir, evidence.FileOperations), &ops)
	if len(ops.Operations) != 4 || ops.ApprovedAt == nil || ops.Late != 0 || ops.DeadlineHours != 168 {
		t.Fatalf("operations = %+v", ops)
	}
	for _, op := range ops.Operations {
		if op.Result != "removed" || op.ReadBack != "gone" || op.FinishedAt == nil || op.HoursToDone == nil || op.Late || op.Deadline == nil {
			t.Errorf("operation %+v: want removed, read back gone, with times", op)
		}
	}
	var d evidence.DecisionsFile
	readJSON(t, filepath.Join(dir, evidence.FileDecisions), &d)
	if len(d.Decisions) != 6+20+4 {
		t.Errorf("%d decisions, want 30", len(d.Decisions))
	}
	slackDecisions := 0
	for _, x := range d.Decisions {
		if x.SlackActionTS != "" && x.PayloadSHA256 != "" && x.SlackUserID == "Ufast" {
			slackDecisions++
		}
	}
	if slackDecisions != 20 {
		t.Errorf("%d decisions carry the Slack action ts and payload hash, want 20", slackDecisions)
	}
}

// TestFlippedByteFailsNamingTheFile flips bytes across every file of a
// bundle, one at a time, and wants verification to fail naming the file.
func TestFlippedByteFailsNamingTheFile(t *testing.T) {
	r := runCampaign(t)
	dir := export(t, r, signedOptions())
	o := evidence.VerifyOptions{AuditKey: []byte(auditKey)}
	for _, name := range append([]string{evidence.FileManifest}, evidence.Files...) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, orig, 0o640)
			positions := []int{0, len(orig) / 2, len(orig) - 1}
			step := max(1, len(orig)/12)
			if name == evidence.FileManifest {
				step = 11
			}
			for i := step; i < len(orig); i += step {
				positions = append(positions, i)
			}
			for _, pos := range positions {
				b := bytes.Clone(orig)
				b[pos] ^= 0x01
				if err := os.WriteFile(path, b, 0o640); err != nil {
					t.Fatal(err)
				}
				rep, err := evidence.Verify(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				named := slices.ContainsFunc(rep.Problems, func(p evidence.Problem) bool { return p.File == name })
				if rep.OK || !named {
					t.Fatalf("byte %d of %s flipped (%q): ok=%v, problems %+v", pos, name, orig[pos], rep.OK, rep.Problems)
				}
			}
			if err := os.WriteFile(path, orig, 0o640); err != nil {
				t.Fatal(err)
			}
			if rep, _ := evidence.Verify(dir, o); !rep.OK {
				t.Fatalf("restored bundle fails: %s", rep.Summary())
			}
		})
	}
}

func TestFilesAddedOrRemovedFail(t *testing.T) {
	r := runCampaign(t)
	for _, tc := range []struct {
		name  string
		alter func(dir string) error
		file  string
	}{
		{"extra file", func(dir string) error { return os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o640) }, "notes.txt"},
		{"missing file", func(dir string) error { return os.Remove(filepath.Join(dir, evidence.FileTickets)) }, evidence.FileTickets},
		{"missing manifest", func(dir string) error { return os.Remove(filepath.Join(dir, evidence.FileManifest)) }, evidence.FileManifest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := export(t, r, signedOptions())
			if err := tc.alter(dir); err != nil {
				t.Fatal(err)
			}
			rep, err := evidence.Verify(dir, evidence.VerifyOptions{AuditKey: []byte(auditKey)})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || !slices.ContainsFunc(rep.Problems, func(p evidence.Problem) bool { return p.File == tc.file }) {
				t.Fatalf("ok=%v, problems %+v; want one naming %s", rep.OK, rep.Problems, tc.file)
			}
		})
	}
}

func TestSignaturePolicy(t *testing.T) {
	r := runCampaign(t)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	for _, tc := range []struct {
		name string
		ex   evidence.Options
		o    evidence.VerifyOptions
		ok   bool
	}{
		{"unsigned bundle fails", evidence.Options{}, evidence.VerifyOptions{}, false},
		{"unsigned bundle allowed", evidence.Options{}, evidence.VerifyOptions{AllowUnsigned: true}, true},
		{"HMAC only, no key to check it", evidence.Options{AuditKey: []byte(auditKey)}, evidence.VerifyOptions{}, false},
		{"HMAC under another key", evidence.Options{AuditKey: []byte(auditKey)}, evidence.VerifyOptions{AuditKey: []byte("another-key-0123456789")}, false},
		{"Ed25519 by another key than the pinned one", evidence.Options{SigningKey: other}, evidence.VerifyOptions{PublicKey: signingKey.Public().(ed25519.PublicKey)}, false},
		{"Ed25519 by the pinned key", evidence.Options{SigningKey: signingKey}, evidence.VerifyOptions{PublicKey: signingKey.Public().(ed25519.PublicKey)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := export(t, r, tc.ex)
			rep, err := evidence.Verify(dir, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK != tc.ok {
				t.Fatalf("ok=%v, want %v:\n%s", rep.OK, tc.ok, rep.Summary())
			}
		})
	}
}

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// dataMaps are JSON objects keyed by data (statuses, kinds), not names.
var dataMaps = map[string]bool{"users_by_status": true, "cases_by_kind": true, "cases_by_flag": true, "scope": true}

// TestCleanJSON checks every JSON file of a real export: snake_case keys,
// no null, no zero time, and each file valid against its schema.
func TestCleanJSON(t *testing.T) {
	r := runCampaign(t)
	dir := export(t, r, signedOptions())
	var walk func(t *testing.T, path string, v any)
	walk = func(t *testing.T, path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("%s is null", path)
		case string:
			if strings.HasPrefix(x, "0001-01-01") {
				t.Errorf("%s is the zero time", path)
			}
		case []any:
			for _, e := range x {
				walk(t, path+"[]", e)
			}
		case map[string]any:
			for k, e := range x {
				if !snakeKey.MatchString(k) && !dataMaps[path[strings.LastIndexByte(path, '.')+1:]] {
					t.Errorf("%s.%s is not snake_case", path, k)
				}
				walk(t, path+"."+k, e)
			}
		}
	}
	for _, name := range append([]string{evidence.FileManifest}, evidence.Files...) {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var v any
			readJSON(t, filepath.Join(dir, name), &v)
			walk(t, name, v)
			if err := evidence.ValidateFile(name, filepath.Join(dir, name)); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
	if err := evidence.ValidateFile(evidence.FileAudit, filepath.Join(dir, evidence.FileAudit)); err != nil {
		t.Errorf("audit.jsonl schema: %v", err)
	}
}

func TestSchemaRejectsGoFieldNames(t *testing.T) {
	for _, tc := range []struct{ name, file, body string }{
		{"Go field name", evidence.FileTickets, `{"schema_version":"attest-evidence/1","campaign_id":1,"tickets":[],"ID":1}`},
		{"null list", evidence.FileTickets, `{"schema_version":"attest-evidence/1","campaign_id":1,"tickets":null}`},
		{"zero time", evidence.FileApprovals, `{"schema_version":"attest-evidence/1","campaign_id":1,"approvals":[],"plan":[],"approved_at":"0001-01-01T00:00:00"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := evidence.ValidateFile(tc.file, path); err == nil {
				t.Fatal("the schema accepted it")
			}
		})
	}
}

func TestRemovalDeadline(t *testing.T) {
	r := runCampaign(t)
	for _, tc := range []struct {
		name     string
		deadline time.Duration
		late     int
	}{
		{"default: a week", 0, 0},
		{"a day", 24 * time.Hour, 0},
		{"five minutes: the removals ran ten minutes after approval", 5 * time.Minute, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := signedOptions()
			o.RemovalDeadline = tc.deadline
			dir := export(t, r, o)
			var ops evidence.OperationsFile
			readJSON(t, filepath.Join(dir, evidence.FileOperations), &ops)
			if ops.Late != tc.late {
				t.Errorf("late = %d, want %d", ops.Late, tc.late)
			}
			if rep, err := evidence.Verify(dir, evidence.VerifyOptions{AuditKey: []byte(auditKey)}); err != nil || !rep.OK {
				t.Fatalf("verify: %v %+v", err, rep)
			}
		})
	}
}
