package main

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/attestbot/attest/campaign"
	bundle "github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/store"
)

// TestDemoIsBackedByReality runs `attest demo --people 40` in-process and
// checks what it printed against the fake Okta's directory, the database
// serve wrote and the evidence bundle on disk: the removals it reports
// are gone from Okta, the escalation it names happened, the bundle it
// calls verified verifies (and stops verifying once a file is changed).
func TestDemoIsBackedByReality(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	var stdout, stderr bytes.Buffer
	ctx := context.Background()
	run, err := runDemo(ctx, demoOptions{people: 40, seed: 1, out: out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, stderr.String())
	}
	printed := stdout.String()
	num := func(re string) []int {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(printed)
		if m == nil {
			t.Fatalf("output lacks %s:\n%s", re, printed)
		}
		var ns []int
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			ns = append(ns, n)
		}
		return ns
	}

	// The removals: what the fake Okta was asked to delete, and what its
	// directory holds now.
	r := num(`Removals: (\d+) done, (\d+) failed, (\d+) manual`)
	done, failed, manual := r[0], r[1], r[2]
	if done == 0 {
		t.Fatalf("the demo removed nothing:\n%s", printed)
	}
	if got := run.world.okta.Deletes(); got != done {
		t.Errorf("printed %d removals done; the fake Okta answered %d DELETEs with 204", done, got)
	}
	st, err := store.OpenReadOnly(ctx, filepath.Join(out, "attest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := run.sim.id
	ops, err := st.Operations(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	org := run.world.okta.Org()
	removed, failedOps := 0, 0
	for _, o := range ops {
		if o.State == campaign.OpFailed {
			failedOps++
		}
		if o.State != campaign.OpDone || o.Result != campaign.ResultRemoved {
			continue
		}
		removed++
		switch o.Kind {
		case campaign.OpRemoveMembership:
			if slices.Contains(org.Members[o.GroupID], o.UserID) {
				t.Errorf("op %d: %s is still a member of %s in the fake Okta", o.Seq, o.UserID, o.GroupID)
			}
		case campaign.OpUnassignApp:
			if slices.Contains(org.AppDirect[o.AppID], o.UserID) {
				t.Errorf("op %d: %s is still assigned %s in the fake Okta", o.Seq, o.UserID, o.AppID)
			}
		default:
			t.Errorf("op %d: unexpected kind %s", o.Seq, o.Kind)
		}
	}
	if removed != done || failedOps != failed {
		t.Errorf("printed %d done, %d failed; the database has %d removed, %d failed", done, failed, removed, failedOps)
	}
	plan, err := st.Plan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKinds(plan)[campaign.ItemManual]; n != manual {
		t.Errorf("printed %d manual items; the plan has %d", manual, n)
	}
	c, err := st.GetCampaign(ctx, id)
	if err != nil || c.State != campaign.StateDone {
		t.Fatalf("campaign %d: %v, %v; want done", id, c, err)
	}

	// The escalation: the silent manager's cases are with their manager.
	m := regexp.MustCompile(`Escalation: (\S+) stayed silent; (\d+) cases went to (\S+)`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("no escalation printed:\n%s", printed)
	}
	from, _ := st.FindUser(ctx, c.SnapshotID, m[1])
	to, _ := st.FindUser(ctx, c.SnapshotID, m[3])
	cases, err := st.Cases(ctx, id, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	escalated := 0
	for _, cs := range cases {
		if cs.EscalationLevel > 0 {
			escalated++
			if cs.ManagerID != from.ID || cs.ReviewerID != to.ID || cs.ReviewerDecision == "" {
				t.Errorf("case %d escalated from %s to %s, decided %q; printed %s to %s", cs.ID, cs.ManagerID, cs.ReviewerID,
					cs.ReviewerDecision, m[1], m[3])
			}
		}
	}
	if want, _ := strconv.Atoi(m[2]); escalated != want || escalated == 0 {
		t.Errorf("%d cases escalated; printed %s", escalated, m[2])
	}
	if from.ManagerID != to.ID {
		t.Errorf("cases escalated to %s, who is not %s's manager", m[3], m[1])
	}

	// The evidence: it verifies with the key the demo left, and a
	// changed file makes it fail.
	ev := regexp.MustCompile(`Evidence: (\S+) verified`).FindStringSubmatch(printed)
	if ev == nil || ev[1] != filepath.Join(out, "evidence") {
		t.Fatalf("evidence line: %v\n%s", ev, printed)
	}
	key, err := os.ReadFile(filepath.Join(out, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bundle.Verify(ev[1], bundle.VerifyOptions{AuditKey: key})
	if err != nil || !rep.OK || rep.CampaignID != id {
		t.Fatalf("bundle: %v, %+v", err, rep)
	}
	csvPath := filepath.Join(ev[1], bundle.FileCasesCSV)
	raw, _ := os.ReadFile(csvPath)
	if err := os.WriteFile(csvPath, bytes.Replace(raw, []byte("revoked"), []byte("kept"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := bundle.Verify(ev[1], bundle.VerifyOptions{AuditKey: key}); err == nil && rep.OK {
		t.Error("a changed cases.csv still verifies")
	}

	// The report is the campaign's, the progress went to stderr, serve's
	// log to its file, and everything listened on loopback only.
	if !strings.Contains(printed, "# Access review "+strconv.FormatInt(id, 10)+": Demo access review") ||
		!strings.Contains(printed, "| State | done |") {
		t.Errorf("no campaign report printed:\n%s", printed)
	}
	for _, phase := range []string{"launch", "members", "managers", "escalate", "close", "approve", "execute", "evidence"} {
		if !regexp.MustCompile(`(?m)^\[ *[\d.]+s\] ` + phase + ` `).MatchString(stderr.String()) {
			t.Errorf("no %q progress line:\n%s", phase, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), `"level"`) {
		t.Errorf("serve's log reached the terminal:\n%s", stderr.String())
	}
	if info, err := os.Stat(filepath.Join(out, "attest.log")); err != nil || info.Size() == 0 {
		t.Errorf("serve's log file: %v", err)
	}
	for _, raw := range []string{run.world.okta.URL, run.world.slack.URL(), "http://" + run.world.app.Addr().String()} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
			t.Errorf("%s is not a loopback address", raw)
		}
	}
}

// TestDemoUsage: bad flags are usage errors (exit 2) that say the fix;
// a directory with files in it is refused before anything starts.
func TestDemoUsage(t *testing.T) {
	c := newCLI(t)
	full := filepath.Join(c.dir, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	c.write("full/attest.db", "x")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--people", "5"}, "use 10 to 1000"},
		{[]string{"demo", "extra"}, "no arguments"},
		{[]string{"demo", "--out", full}, "not empty"},
	} {
		code, _, errs := c.run(tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("attest %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
