package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEvidenceCLI exports a campaign through the CLI, verifies it with and
// without secrets, and wants exit 1 naming the file once a byte changes.
func TestEvidenceCLI(t *testing.T) {
	c, srv := withOkta(t, smallOrg("managerId"))
	c.ok("sync")
	org := srv.Org()
	owner := org.Users[1].Email
	def := c.write("q.yaml", "name: Evidence review\nowner: "+owner+"\nstages: {self_attestation: {enabled: false}}\n")
	var started campaignView
	c.json(&started, "campaign", "start", def, "--as", owner)
	id := strconv.FormatInt(started.ID, 10)
	seed := bytes.Repeat([]byte{3}, ed25519.SeedSize)
	c.env[auditKeyEnv] = "0123456789abcdef-cli-evidence"
	c.env[signingKeyEnv] = base64.StdEncoding.EncodeToString(seed)

	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no id", []string{"evidence", "export", "--out", "x"}, 2, "campaign ID"},
		{"no out", []string{"evidence", "export", id}, 2, "--out"},
		{"unknown campaign", []string{"evidence", "export", "999", "--out", filepath.Join(c.dir, "none")}, 1, "not found"},
		{"no subcommand", []string{"evidence"}, 2, "subcommand"},
		{"bad deadline", []string{"evidence", "export", id, "--out", "x", "--removal-deadline", "soon"}, 2, "--removal-deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := c.run(tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Fatalf("exit %d %q; want %d and %q", code, errs, tc.code, tc.err)
			}
		})
	}

	if code, _, errs := c.run("evidence", "sign-off", id, "--as", owner); code != 1 || !strings.Contains(errs, "refused") {
		t.Fatalf("sign-off of an open campaign: exit %d %q", code, errs)
	}
	c.ok("campaign", "close", id, "--as", owner)
	dir := filepath.Join(c.dir, "bundle")
	c.ok("evidence", "export", id, "--out", dir)
	if code, _, errs := c.run("evidence", "sign-off", id, "--as", org.Users[2].Email, "--bundle", dir); code != 1 || !strings.Contains(errs, "not allowed") {
		t.Fatalf("sign-off by someone else: exit %d %q", code, errs)
	}
	stale := strings.Repeat("0", 64)
	if code, _, errs := c.run("evidence", "sign-off", id, "--as", owner, "--evidence-sha256", stale); code != 1 || !strings.Contains(errs, "evidence changed") {
		t.Fatalf("sign-off bound to a digest that is not the evidence's: exit %d %q", code, errs)
	}
	if code, _, errs := c.run("evidence", "sign-off", id, "--as", owner, "--decline", " "); code != 1 || !strings.Contains(errs, "reason") {
		t.Fatalf("decline without a reason: exit %d %q", code, errs)
	}
	var declined struct {
		Declined bool   `json:"declined"`
		Reason   string `json:"reason"`
		Digest   string `json:"evidence_sha256"`
	}
	c.json(&declined, "evidence", "sign-off", id, "--as", owner, "--decline", "tickets still open")
	if !declined.Declined || declined.Reason != "tickets still open" || len(declined.Digest) != 64 {
		t.Fatalf("decline: %+v", declined)
	}
	// The digest the decline quoted is still the evidence's: a sign-off
	// bound to it is recorded.
	c.ok("evidence", "sign-off", id, "--as", owner, "--bundle", dir, "--statement", "Reviewed; complete.", "--evidence-sha256", declined.Digest)
	signed := filepath.Join(c.dir, "signed")
	c.ok("evidence", "export", id, "--out", signed)
	var ap struct {
		SignOffs []struct {
			Decision  string `json:"decision"`
			By        string `json:"by"`
			Statement string `json:"statement"`
			Manifest  string `json:"bundle_manifest_sha256"`
			Digest    string `json:"evidence_sha256"`
		} `json:"sign_offs"`
	}
	raw, err := os.ReadFile(filepath.Join(signed, "approvals.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ap); err != nil || len(ap.SignOffs) != 2 || ap.SignOffs[0].Decision != "declined" ||
		ap.SignOffs[1].Decision != "signed_off" || ap.SignOffs[1].By != owner || ap.SignOffs[1].Digest != declined.Digest ||
		ap.SignOffs[1].Statement != "Reviewed; complete." || len(ap.SignOffs[1].Manifest) != 64 {
		t.Fatalf("sign-offs in the new bundle: %v %+v", err, ap)
	}
	if code, _, errs := c.run("evidence", "export", id, "--out", dir); code != 1 || !strings.Contains(errs, "not empty") {
		t.Fatalf("export into a full directory: exit %d %q", code, errs)
	}
	pub := c.write("pub.pem", c.ok("evidence", "public-key"))
	if out := c.ok("evidence", "verify", dir); !strings.Contains(out, "OK: campaign "+id) {
		t.Fatalf("verify: %s", out)
	}
	delete(c.env, auditKeyEnv)
	if out := c.ok("evidence", "verify", dir, "--public-key", pub); !strings.Contains(out, "ed25519") {
		t.Fatalf("verify with the public key only: %s", out)
	}
	var rep struct {
		OK       bool                    `json:"ok"`
		Problems []struct{ File string } `json:"problems"`
	}
	c.json(&rep, "evidence", "verify", dir, "--public-key", pub)
	if !rep.OK {
		t.Fatalf("verify --json: %+v", rep)
	}

	path := filepath.Join(dir, "cases.csv")
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	if err := os.WriteFile(path, raw, 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errs := c.run("evidence", "verify", dir, "--public-key", pub)
	if code != 1 || !strings.Contains(out, "cases.csv") || !strings.Contains(errs, "cases.csv") {
		t.Fatalf("verify after a change: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}
