package main

import (
	"cmp"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	bundle "github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/store"
)

// signingKeyEnv sets evidence.signing_key, the Ed25519 key that signs
// evidence manifests (PEM, or base64 of the seed); never printed.
const signingKeyEnv = "ATTEST_EVIDENCE_SIGNING_KEY"

// evidenceCommands are the subcommands of `attest evidence`.
var evidenceCommands = []struct {
	name, args, summary string
	run                 func(e *env, fs *flag.FlagSet, c *common, args []string) error
}{
	{"export", "ID --out DIR", "write campaign ID's evidence bundle into DIR (new or empty), its manifest signed", evidenceExport},
	{"verify", "DIR", "check a bundle offline: hashes, signatures, schemas, audit chain; exit 1 on any mismatch", evidenceVerify},
	{"sign-off", "ID --as EMAIL", "record the control owner's sign-off (--bundle DIR: the bundle reviewed, verified first; --decline REASON: refuse)", evidenceSignOff},
	{"public-key", "", "print the PEM public key of " + signingKeyEnv + ", to publish for verify --public-key", evidencePublicKey},
}

func cmdEvidence(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: attest evidence SUBCOMMAND [flags]\n\nSubcommands:")
		for _, s := range evidenceCommands {
			fmt.Fprintf(e.stderr, "  %-10s %-13s %s\n", s.name, s.args, s.summary)
		}
		fmt.Fprintf(e.stderr, "\nThe manifest is signed with HMAC-SHA256 under %s (store.audit_key) and,\nwhen %s is set, with Ed25519.\n", auditKeyEnv, signingKeyEnv)
		if len(args) == 0 {
			return usagef("evidence needs a subcommand")
		}
		return flag.ErrHelp
	}
	for _, s := range evidenceCommands {
		if s.name == args[0] {
			fs, c := newFlags(e, "evidence "+s.name, s.args, true)
			return s.run(e, fs, c, args[1:])
		}
	}
	return usagef("unknown evidence subcommand %q", args[0])
}

// evidenceExport is `attest evidence export ID --out DIR`.
func evidenceExport(e *env, fs *flag.FlagSet, c *common, args []string) error {
	out := fs.String("out", "", "directory to write the bundle into: new or empty (required)")
	// Zero flags take the evidence.* config keys, and zero keys the defaults.
	d := bundle.DefaultThresholds
	fast := fs.Float64("fast-seconds", 0, fmt.Sprintf("a decision this soon after the one before (or the form's delivery) is fast (default evidence.fast_decision_seconds, else %g)", d.FastDecisionSeconds))
	fastMax := fs.Int("fast-max", 0, fmt.Sprintf("flag a reviewer with more fast decisions than this (default evidence.fast_decisions_max, else %d)", d.FastDecisionsMax))
	within := fs.Float64("within-delivery", 0, fmt.Sprintf("count decisions made within this many seconds of the form's delivery (default evidence.within_delivery_seconds, else %g)", d.WithinDeliverySeconds))
	allKept := fs.Int("all-kept-min", 0, fmt.Sprintf("flag a reviewer who kept all of at least this many cases, some stale (default evidence.all_kept_min_cases, else %d)", d.AllKeptMinCases))
	deadline := fs.String("removal-deadline", "", "time allowed from approval to each removal, e.g. 72h or 7d (default evidence.removal_deadline, else 7d)")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := oneCampaignID(fs)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out DIR is required")
	}
	var due time.Duration
	if *deadline != "" {
		if due, err = days(*deadline); err != nil || due <= 0 {
			return usagef("--removal-deadline %q: use a duration such as 72h or 7d", *deadline)
		}
	}
	cfg, _, err := e.setup(c)
	if err != nil {
		return err
	}
	ec := cfg.Evidence
	o := bundle.Options{Generator: "attest " + version, AuditKey: []byte(cfg.Store.AuditKey.Reveal()),
		RemovalDeadline: cmp.Or(due, ec.RemovalDeadline.Duration()),
		Thresholds: bundle.Thresholds{FastDecisionSeconds: cmp.Or(*fast, ec.FastDecisionSeconds), FastDecisionsMax: cmp.Or(*fastMax, ec.FastDecisionsMax),
			WithinDeliverySeconds: cmp.Or(*within, ec.WithinDeliverySeconds), AllKeptMinCases: cmp.Or(*allKept, ec.AllKeptMinCases)}}
	if k := ec.SigningKey.Reveal(); k != "" {
		if o.SigningKey, err = bundle.ParseSigningKey(k); err != nil {
			return fmt.Errorf("%s: %w", signingKeyEnv, err)
		}
	}
	if len(o.AuditKey) == 0 && o.SigningKey == nil {
		fmt.Fprintf(e.stderr, "warning: neither %s nor %s is set: the manifest is unsigned and verify will refuse it without --allow-unsigned\n", auditKeyEnv, signingKeyEnv)
	}
	// Read-only: an export never creates a database nor writes one.
	st, err := store.OpenReadOnly(e.ctx, cfg.Store.Target())
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	body, err := bundle.Export(e.ctx, st, id, *out, o)
	if err != nil {
		return friendly(err)
	}
	if c.json {
		return writeJSON(e.stdout, map[string]any{"campaign": id, "dir": *out, "files": body.Files,
			"audit_chain_head": body.AuditChainHead, "seconds": time.Since(start).Seconds()})
	}
	var size int64
	for _, f := range body.Files {
		size += f.Size
	}
	fmt.Fprintf(e.stdout, "wrote %d files (%d bytes) and manifest.json into %s in %s\n", len(body.Files), size, *out,
		time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "audit log head at export: entry %d %s\n", body.AuditChainHead.Seq, body.AuditChainHead.Hash)
	return nil
}

// days parses a Go duration or a whole number of days ("7d").
func days(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

// errVerifyFailed makes verify exit 1 after printing the report.
var errVerifyFailed = errors.New("the bundle does not verify")

// evidenceVerify is `attest evidence verify DIR`: no config, no database.
func evidenceVerify(e *env, fs *flag.FlagSet, c *common, args []string) error {
	key := fs.String("key", "", "the audit key (default $"+auditKeyEnv+"); prefer --key-file, a flag shows in ps")
	keyFile := fs.String("key-file", "", "a file holding the audit key")
	pubFile := fs.String("public-key", "", "a file holding the exporter's Ed25519 public key (PEM or base64): only its signature counts")
	unsigned := fs.Bool("allow-unsigned", false, "accept a manifest no signature of which can be checked")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one bundle directory")
	}
	o := bundle.VerifyOptions{AllowUnsigned: *unsigned}
	switch {
	case *keyFile != "":
		raw, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("--key-file: %w", err)
		}
		o.AuditKey = []byte(strings.TrimSpace(string(raw)))
	case *key != "":
		o.AuditKey = []byte(*key)
	default:
		o.AuditKey = []byte(e.getenv(auditKeyEnv))
	}
	if *pubFile != "" {
		raw, err := os.ReadFile(*pubFile)
		if err != nil {
			return fmt.Errorf("--public-key: %w", err)
		}
		if o.PublicKey, err = bundle.ParsePublicKey(string(raw)); err != nil {
			return fmt.Errorf("--public-key %s: %w", *pubFile, err)
		}
	}
	rep, err := bundle.Verify(fs.Arg(0), o)
	if err != nil {
		return err
	}
	if c.json {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, rep.Summary())
	}
	if !rep.OK {
		return fmt.Errorf("%w: %d problem(s), first: %s: %s", errVerifyFailed, len(rep.Problems), rep.Problems[0].File, rep.Problems[0].Reason)
	}
	return nil
}

// evidenceSignOff is `attest evidence sign-off ID --as EMAIL`.
func evidenceSignOff(e *env, fs *flag.FlagSet, c *common, args []string) error {
	as := fs.String("as", "", "the control owner signing: the campaign's or its definition's owner (required)")
	statement := fs.String("statement", "", "what the owner attests (default: the standard statement)")
	dir := fs.String("bundle", "", "the evidence bundle the owner reviewed: verified first, its manifest's SHA-256 recorded")
	decline := fs.String("decline", "", "record that the owner does not sign off, for this reason, instead of signing")
	digest := fs.String("evidence-sha256", "", "the evidence digest the owner reviewed (as the Slack sign-off message shows it): refused if the evidence changed since")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := oneCampaignID(fs)
	if err != nil {
		return err
	}
	if *as == "" {
		return usagef("--as EMAIL is required")
	}
	cfg, _, err := e.setup(c)
	if err != nil {
		return err
	}
	key := []byte(cfg.Store.AuditKey.Reveal())
	req := bundle.SignOffRequest{CampaignID: id, Actor: cliActor(*as), Statement: *statement, EvidenceSHA256: strings.TrimSpace(*digest),
		Decline: *decline != "", Reason: *decline}
	if *dir != "" {
		rep, err := bundle.Verify(*dir, bundle.VerifyOptions{AuditKey: key})
		if err != nil {
			return err
		}
		if !rep.OK || rep.CampaignID != id {
			return fmt.Errorf("%w: the bundle in %s is of campaign %d, or fails: %s", errVerifyFailed, *dir, rep.CampaignID, oneLine(errors.New(rep.Summary())))
		}
		if req.ManifestSHA256, err = bundle.ManifestDigest(*dir); err != nil {
			return err
		}
	}
	st, err := store.OpenExisting(e.ctx, cfg.Store.Target(), store.WithAuditKey(key))
	if err != nil {
		return err
	}
	defer st.Close()
	ev, err := bundle.SignOff(e.ctx, st, req)
	if err != nil {
		return friendly(err)
	}
	if c.json {
		return writeJSON(e.stdout, map[string]any{"campaign": id, "signed_by": ev.Actor.Email, "statement": ev.Detail["statement"],
			"declined": req.Decline, "reason": ev.Detail["reason"], "evidence_sha256": ev.Detail["evidence_sha256"],
			"bundle_manifest_sha256": req.ManifestSHA256})
	}
	if req.Decline {
		fmt.Fprintf(e.stdout, "Campaign %d: %s declined to sign off (evidence %v); export the evidence again to include it.\n", id, ev.Actor.Email, ev.Detail["evidence_sha256"])
		return nil
	}
	fmt.Fprintf(e.stdout, "Campaign %d signed off by %s (evidence %v); export the evidence again to include it.\n", id, ev.Actor.Email, ev.Detail["evidence_sha256"])
	return nil
}

// evidencePublicKey prints the public half of the signing key.
func evidencePublicKey(e *env, fs *flag.FlagSet, c *common, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig(c)
	if err != nil {
		return err
	}
	k := cfg.Evidence.SigningKey.Reveal()
	if k == "" {
		return fmt.Errorf("%s (evidence.signing_key) is not set", signingKeyEnv)
	}
	priv, err := bundle.ParseSigningKey(k)
	if err != nil {
		return fmt.Errorf("%s: %w", signingKeyEnv, err)
	}
	pem, err := bundle.MarshalPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(pem)
	return err
}

// oneCampaignID is the one positional argument, a campaign id as
// campaignID reads it.
func oneCampaignID(fs *flag.FlagSet) (int64, error) {
	if fs.NArg() != 1 {
		return 0, usagef("want one campaign ID")
	}
	return campaignID(fs.Arg(0))
}
