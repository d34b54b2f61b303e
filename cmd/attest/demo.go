package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	bundle "github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/store"
)

// demoDefinition is the campaign `attest demo` launches; the first %s is
// the launcher's email, the second the IAM team's (who decide for people
// without a manager).
const demoDefinition = `# The campaign attest demo launches: every active user's apps,
# confirmed by the member, then by their manager.
name: Demo access review
description: Every active user's apps, confirmed by their managers.
owner: %s
stages:
  self_attestation: {enabled: true, duration: 7d}
  manager: {enabled: true, duration: 7d}
escalation: {after: 3d, iam_reviewers: [%s]}
approval: {required: 1}
remediation: {mode: revoke, no_decision: keep}
`

// demoDef fills demoDefinition with the IAM team's emails.
func demoDef(in defInput) string {
	return fmt.Sprintf(demoDefinition, in.IAM[0], strings.Join(in.IAM, ", "))
}

// demoOptions are `attest demo`'s flags.
type demoOptions struct {
	people int
	seed   int64
	out    string
}

// demoRun is a finished demo: what it printed is read from these.
type demoRun struct {
	dir, evidenceDir string
	world            *world // stopped; its fakes keep their state
	sim              *sim
	plan             []campaign.PlanItem
	ops              []campaign.Operation
	verify           *bundle.VerifyReport
}

func cmdDemo(e *env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o demoOptions
	fs.IntVar(&o.people, "people", 200, "size of the synthetic org, 10 to 1000")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the synthetic org and of people's answers")
	fs.StringVar(&o.out, "out", "", "directory for the database, log and evidence: new or empty (default: a new temporary directory)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: attest demo [--people N] [--out DIR] [--seed S]")
		fmt.Fprintln(e.stderr, "\nRuns a whole access review against a built-in fake Okta and fake Slack, no credentials needed.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo takes no arguments")
	}
	if o.people < 10 || o.people > 1000 {
		return usagef("--people %d: use 10 to 1000 (every answer recomputes the campaign's progress, so time grows with the square)", o.people)
	}
	_, err := runDemo(e.ctx, o, e.stdout, e.stderr)
	return err
}

// runDemo runs the demo and prints its results to stdout, its progress to
// stderr. It returns the finished run, also on a failure after serve
// started (with what is known so far).
func runDemo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) (*demoRun, error) {
	dir, err := demoDir(o.out)
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "attest.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	log := zerolog.New(zerolog.SyncWriter(logFile)).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	p := newProgress(stderr)
	fmt.Fprintf(stderr, "attest demo: %d people, seed %d, working in %s (serve's log: attest.log)\n", o.people, o.seed, dir)

	w, err := startWorld(ctx, worldOptions{dir: dir, people: o.people, seed: o.seed, definition: demoDef, log: log})
	if err != nil {
		return nil, err
	}
	run := &demoRun{dir: dir, world: w}
	defer w.stop()
	p.phase("okta", "fake Okta on %s: %d users, %d apps, %d groups, %d user-app relations", w.okta.URL, len(w.org.Users),
		len(w.org.Apps), len(w.org.Groups), w.org.Relations())
	snap, _ := w.app.Store.LatestSnapshot(ctx)
	p.phase("serve", "synced snapshot %d, mapped %d Slack users, Socket Mode connected to the fake Slack on %s", snap.ID,
		len(w.slackOf), w.slack.URL())

	s := newSim(w, o.seed, p)
	run.sim = s
	if err := s.launch(ctx); err != nil {
		return run, err
	}
	cases, err := w.app.Store.Cases(ctx, s.id, campaign.CaseQuery{})
	if err != nil {
		return run, err
	}
	p.phase("launch", "%s ran `/access-review start demo`: campaign %d, %d cases", w.admin.Email, s.id, len(cases))
	if err := s.answerMembers(ctx); err != nil {
		return run, err
	}
	p.phase("members", "%d of %d members answered (%d silent): %d needed, %d not needed, %d not sure", s.membersAnswered, s.members,
		s.membersSilent, s.answers[campaign.DecisionKeep], s.answers[campaign.DecisionRevoke], s.answers[campaign.DecisionUnsure])
	if err := s.startStage2(ctx); err != nil {
		return run, err
	}
	open, _, err := s.openReviews(ctx)
	if err != nil {
		return run, err
	}
	silent, err := s.pickSilent(ctx, open)
	if err != nil {
		return run, err
	}
	p.phase("stage 2", "7 simulated days later: %d reviewers have forms; %s will stay silent", len(open), name(w, silent))
	if err := s.decideReviews(ctx, silent, "managers"); err != nil {
		return run, err
	}
	p.phase("managers", "%d reviewers decided: %d keep, %d revoke (%d forms by the IAM team in the channel)", s.reviewers,
		s.decisions[campaign.DecisionKeep], s.decisions[campaign.DecisionRevoke], s.iamForms)
	if err := s.escalate(ctx, silent); err != nil {
		return run, err
	}
	if silent != "" {
		p.phase("escalate", "3 simulated days later: %s's %d open cases went to %s, who decided them", name(w, s.escalation.From),
			s.escalation.Cases, name(w, s.escalation.To))
	}
	reply, err := s.close(ctx)
	if err != nil {
		return run, err
	}
	p.phase("close", "%s ran `/access-review close %d`: %s", w.admin.Email, s.id, reply)
	if err := s.approve(ctx); err != nil {
		return run, err
	}
	p.phase("approve", "approved in #iam-approvals by %s", strings.Join(s.approvedBy, ", "))
	if err := s.execute(ctx); err != nil {
		return run, err
	}
	if run.plan, err = w.app.Store.Plan(ctx, s.id); err != nil {
		return run, err
	}
	if run.ops, err = w.app.Store.Operations(ctx, s.id); err != nil {
		return run, err
	}
	r := tallyOps(run.plan, run.ops)
	p.phase("execute", "%d Okta operations: %d removed, %d failed; %d read back as gone", len(run.ops), r.done, r.failed, r.verified)
	report, err := w.app.Engine.Report(ctx, s.id)
	if err != nil {
		return run, err
	}
	if err := w.stop(); err != nil {
		return run, fmt.Errorf("stop serve: %w", err)
	}
	run.evidenceDir = filepath.Join(dir, "evidence")
	if run.verify, err = exportEvidence(ctx, w, s.id, run.evidenceDir); err != nil {
		return run, err
	}
	p.phase("evidence", "exported and verified %s", run.evidenceDir)

	if err := printReport(stdout, report, filepath.Join(dir, "report.md")); err != nil {
		return run, err
	}
	printDemoResults(stdout, run, r)
	if !run.verify.OK {
		return run, fmt.Errorf("%w: %s", errVerifyFailed, oneLine(errors.New(run.verify.Summary())))
	}
	return run, nil
}

// printReport writes the whole campaign report to path and prints it
// without the plan's table, which is as long as the plan (the evidence
// and the file have it).
func printReport(out io.Writer, r *campaign.Report, path string) error {
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	text := b.String()
	if i := strings.Index(text, "\n## Remediation plan"); i >= 0 {
		text = text[:i+1] + fmt.Sprintf("\n(The remediation plan's table is in %s and in the evidence.)\n", path)
	}
	_, err := io.WriteString(out, text)
	return err
}

// demoDir makes the working directory: out when new or empty, else a new
// temporary one.
func demoDir(out string) (string, error) {
	if out == "" {
		return os.MkdirTemp("", "attest-demo-")
	}
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return out, os.MkdirAll(out, 0o755)
	case err != nil:
		return "", fmt.Errorf("--out %s: %w", out, err)
	case len(entries) > 0:
		return "", usagef("--out %s is not empty: give a new or empty directory", out)
	}
	return out, nil
}

// name shows an Okta user of the sandbox by email.
func name(w *world, oktaID string) string {
	if oktaID == "" {
		return "nobody"
	}
	if u := w.org.User(oktaID); u != nil {
		return u.Email
	}
	return oktaID
}

// opTally counts a plan's results.
type opTally struct {
	done, alreadyGone, failed, skipped, verified, manual, conflicts int
}

func tallyOps(plan []campaign.PlanItem, ops []campaign.Operation) opTally {
	var t opTally
	for _, o := range ops {
		switch {
		case o.State == campaign.OpDone && o.Result == campaign.ResultRemoved:
			t.done++
		case o.State == campaign.OpDone:
			t.alreadyGone++
		case o.State == campaign.OpFailed:
			t.failed++
		default:
			t.skipped++
		}
		if o.Verified == campaign.VerifiedGone {
			t.verified++
		}
	}
	for _, it := range plan {
		switch it.Kind {
		case campaign.ItemManual:
			t.manual++
		case campaign.ItemConflict:
			t.conflicts++
		}
	}
	return t
}

// exportEvidence writes the campaign's evidence bundle from the database
// opened read-only, as `attest evidence export` does, and verifies it
// offline, as `attest evidence verify` does.
func exportEvidence(ctx context.Context, w *world, id int64, dir string) (*bundle.VerifyReport, error) {
	st, err := store.OpenReadOnly(ctx, w.dbPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := bundle.Export(ctx, st, id, dir, bundle.Options{Generator: "attest demo " + version, AuditKey: w.auditKey,
		Now: w.clock.Now}); err != nil {
		return nil, fmt.Errorf("export evidence: %w", err)
	}
	return bundle.Verify(dir, bundle.VerifyOptions{AuditKey: w.auditKey})
}

// printDemoResults prints the plan's results, what the fake Okta holds
// now, and where the evidence is.
func printDemoResults(out io.Writer, run *demoRun, r opTally) {
	w, s := run.world, run.sim
	fmt.Fprintf(out, "\n## Removals\n\n")
	fmt.Fprintf(out, "Removals: %d done, %d failed, %d manual\n", r.done, r.failed, r.manual)
	fmt.Fprintf(out, "Plan: %d items: %d Okta operations (%d already gone, %d skipped), %d conflicts kept, %d manual\n",
		len(run.plan), len(run.ops), r.alreadyGone, r.skipped, r.conflicts, r.manual)
	fmt.Fprintf(out, "Read back from Okta after the run: %d of %d operations verified gone\n", r.verified, len(run.ops))
	gone := 0
	for _, o := range run.ops {
		if o.State == campaign.OpDone && o.Result == campaign.ResultRemoved && accessGone(w.okta.Org(), o) {
			gone++
		}
	}
	fmt.Fprintf(out, "Fake Okta now: %d removals answered 204, %d of the %d removed accesses absent from its directory\n",
		w.okta.Deletes(), gone, r.done)
	if e := s.escalation; e.From != "" {
		fmt.Fprintf(out, "Escalation: %s stayed silent; %d cases went to %s\n", name(w, e.From), e.Cases, name(w, e.To))
	}
	var kinds []string
	for k, n := range countKinds(run.plan) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	fmt.Fprintf(out, "Plan items by kind: %s\n", strings.Join(kinds, ", "))
	fmt.Fprintf(out, "\n## Evidence\n\n")
	verdict := "verified"
	if !run.verify.OK {
		verdict = fmt.Sprintf("FAILED verification (%d problems)", len(run.verify.Problems))
	}
	fmt.Fprintf(out, "Evidence: %s %s (%d files, %d audit entries, signature %s)\n", run.evidenceDir, verdict, run.verify.Files,
		run.verify.Audit.Entries, strings.Join(run.verify.Signatures, ", "))
	fmt.Fprintf(out, "Check it again: attest evidence verify %s --key-file %s\n", run.evidenceDir, filepath.Join(run.dir, "audit.key"))
	fmt.Fprintf(out, "Open %s for the auditor's report; serve's log is %s.\n", filepath.Join(run.evidenceDir, bundle.FileReport),
		filepath.Join(run.dir, "attest.log"))
}

func countKinds(plan []campaign.PlanItem) map[string]int {
	m := map[string]int{}
	for _, it := range plan {
		m[it.Kind]++
	}
	return m
}

// accessGone reports whether the access an operation removed is absent
// from the fake Okta's directory.
func accessGone(org *oktatest.Org, o campaign.Operation) bool {
	switch o.Kind {
	case campaign.OpRemoveMembership:
		for _, g := range org.GroupsOf(o.UserID) {
			if g == o.GroupID {
				return false
			}
		}
		return true
	case campaign.OpUnassignApp:
		for _, u := range org.AppDirect[o.AppID] {
			if u == o.UserID {
				return false
			}
		}
		return true
	}
	return false
}
