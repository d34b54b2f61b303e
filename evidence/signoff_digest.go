package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// The evidence digest is what a sign-off binds to: the SHA-256 (hex) of
// one line "<seq> <hash>\n" per audit entry of the campaign, in order,
// sign-offs and declines left out. Every answer, decision, approval,
// removal and read-back is an audit entry whose hash covers its content
// and the chain before it, so the digest changes when anything is recorded
// about the campaign; audit.jsonl holds every entry's seq and hash, so
// verify recomputes the digest each sign-off quotes, with no database.

// digestEntry is one audit entry as the evidence digest reads it.
type digestEntry struct {
	seq       int64
	hash, typ string
}

// evidenceDigestOf returns the evidence digest of the entries with a seq
// below before (every entry when before is 0).
func evidenceDigestOf(entries []digestEntry, before int64) string {
	h := sha256.New()
	for _, e := range entries {
		if before > 0 && e.seq >= before {
			break
		}
		if e.typ == EventSignedOff || e.typ == EventSignOffDeclined {
			continue
		}
		h.Write([]byte(strconv.FormatInt(e.seq, 10) + " " + e.hash + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// EvidenceDigest returns the campaign's evidence digest now: the digest a
// sign-off made now binds to. It returns the store's error.
func EvidenceDigest(ctx context.Context, st interface {
	AuditEntries(ctx context.Context, campaignID int64) ([]store.AuditEntry, store.AuditHead, error)
}, campaignID int64) (string, error) {
	entries, _, err := st.AuditEntries(ctx, campaignID)
	if err != nil {
		return "", fmt.Errorf("evidence: digest of campaign %d: %w", campaignID, err)
	}
	return digestOfEntries(entries), nil
}

// digestOfEntries is the evidence digest of a campaign's audit entries.
func digestOfEntries(entries []store.AuditEntry) string {
	list := make([]digestEntry, 0, len(entries))
	for _, e := range entries {
		list = append(list, digestEntry{seq: e.ID, hash: e.Hash, typ: e.Fields[typeColumn]})
	}
	return evidenceDigestOf(list, 0)
}

// SignOffs is campaign.SignOffRecorder and campaign.ReviewerFlagger over
// the store: what the Slack sign-off message shows, the sign-off itself
// through SignOff (the CLI's path), and the reviewer flags the approval
// message shows.
type SignOffs struct {
	Store interface {
		Source
		SignOffStore
	}
	// Now stamps sign-offs; time.Now when nil.
	Now func() time.Time
	// Thresholds decide the reviewer flags (ReviewerFlags); zero fields
	// take DefaultThresholds' values.
	Thresholds Thresholds

	mu    sync.Mutex
	flags map[int64][]string              // of closed campaigns, whose decisions are final
	facts map[int64]campaign.SignOffFacts // the latest of each campaign, by its digest
}

// maxCachedFlags bounds the campaigns whose flags, and whose sign-off
// facts, are kept.
const maxCachedFlags = 32

var (
	_ campaign.SignOffRecorder = (*SignOffs)(nil)
	_ campaign.ReviewerFlagger = (*SignOffs)(nil)
)

// maxFacts bounds the exceptions and manual items a sign-off message
// lists; the rest are counted (the bundle has them all).
const maxFacts = 10

// SignOffFacts collects the campaign's evidence and returns its digest, a
// summary, the exceptions, the manual items still open and the latest
// sign-off. It returns the first failed read.
//
// The facts of one digest are kept: the evidence they describe has not
// changed while the digest has not, so the message's update after a click
// reads only the audit entries, not the whole bundle again.
func (s *SignOffs) SignOffFacts(ctx context.Context, id int64) (campaign.SignOffFacts, error) {
	entries, _, err := s.Store.AuditEntries(ctx, id)
	if err != nil {
		return campaign.SignOffFacts{}, fmt.Errorf("evidence: audit entries of campaign %d: %w", id, err)
	}
	digest := digestOfEntries(entries)
	s.mu.Lock()
	cached, ok := s.facts[id]
	s.mu.Unlock()
	if ok && cached.EvidenceSHA256 == digest {
		cached.Signed = lastSignOff(id, entries)
		return cached, nil
	}
	b, err := Collect(ctx, s.Store, id, Options{Now: s.Now})
	if err != nil {
		return campaign.SignOffFacts{}, err
	}
	o := b.Campaign.Outcomes
	ops := map[string]int{}
	for _, op := range b.Operations.Operations {
		switch {
		case op.ReadBack == "came_back":
			ops["came back"]++
		case op.State == "done" && (op.Result == "removed" || op.Result == "already_gone"):
			ops["done"]++
		default:
			ops["not done"]++
		}
	}
	f := campaign.SignOffFacts{EvidenceSHA256: digest, Exceptions: []string{}, ManualOpen: []string{},
		Summary: fmt.Sprintf("%d cases: %d kept, %d revoked (%d by the member's own answer), %d undecided (%d kept, %d revoked by the no-decision rule). "+
			"%d removals: %d done and read back, %d not done, %d came back.",
			o.Cases, o.Kept, o.Revoked+o.RevokedByMember, o.RevokedByMember, o.NoDecisionKept+o.NoDecisionRevoked, o.NoDecisionKept,
			o.NoDecisionRevoked, len(b.Operations.Operations), ops["done"], ops["not done"], ops["came back"])}
	exc := exceptionsOf(b)
	for i, e := range exc {
		if i == maxFacts {
			f.Exceptions = append(f.Exceptions, fmt.Sprintf("… and %d more in the evidence bundle", len(exc)-maxFacts))
			break
		}
		f.Exceptions = append(f.Exceptions, strings.TrimSpace(fmt.Sprintf("%s: %s %s — %s", e.What, e.User, e.Target, e.Detail)))
	}
	var open []string
	for _, t := range b.Tickets.Tickets {
		if t.State != "done" {
			open = append(open, fmt.Sprintf("%s %s (%s)", t.Table, firstOf(t.Number, t.Ref), t.State))
		}
	}
	if len(b.Tickets.Tickets) == 0 {
		for _, p := range b.Approvals.Plan {
			if p.Kind == campaign.ItemManual {
				open = append(open, fmt.Sprintf("manual removal: %s from %s (no ticket)", p.UserID, firstOf(p.GroupID, p.AppID)))
			}
		}
	}
	for i, m := range open {
		if i == maxFacts {
			f.ManualOpen = append(f.ManualOpen, fmt.Sprintf("… and %d more", len(open)-maxFacts))
			break
		}
		f.ManualOpen = append(f.ManualOpen, m)
	}
	s.mu.Lock()
	if s.facts == nil || len(s.facts) >= maxCachedFlags {
		s.facts = map[int64]campaign.SignOffFacts{}
	}
	s.facts[id] = f
	s.mu.Unlock()
	f.Signed = lastSignOff(id, entries)
	return f, nil
}

// lastSignOff is the latest sign-off or decline among the entries, nil if
// none.
func lastSignOff(id int64, entries []store.AuditEntry) *campaign.Event {
	list := signOffsOf(entries)
	if len(list) == 0 {
		return nil
	}
	last := list[len(list)-1]
	typ := EventSignedOff
	detail := map[string]any{"statement": last.Statement, "evidence_sha256": last.EvidenceSHA256}
	if last.Decision == "declined" {
		typ, detail = EventSignOffDeclined, map[string]any{"reason": last.Reason, "evidence_sha256": last.EvidenceSHA256}
	}
	return &campaign.Event{At: last.At, CampaignID: id, Type: typ, Actor: campaign.Actor{Email: last.By, UserID: last.ByID, Via: last.Via},
		Detail: detail}
}

// RecordSignOff records a sign-off or decline through SignOff.
func (s *SignOffs) RecordSignOff(ctx context.Context, req campaign.SignOffRequest) (campaign.Event, error) {
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now().UTC()
	}
	return SignOff(ctx, s.Store, SignOffRequest{CampaignID: req.CampaignID, Actor: req.Actor, Statement: req.Statement,
		Decline: req.Decline, Reason: req.Reason, EvidenceSHA256: req.EvidenceSHA256, At: now})
}

// ReviewerFlags returns the rubber-stamping flags of the campaign's
// reviewers as the evidence computes them (Analyze, with Thresholds), one
// line each ("reviewer (stage): flag: detail"), for the approval message.
// It reads the cases, the decisions in the audit log and the form
// deliveries, not the whole bundle; it returns the first failed read.
//
// Once a campaign has closed its decisions are final, so its flags are
// computed once (the approval message is refreshed at every approval).
func (s *SignOffs) ReviewerFlags(ctx context.Context, id int64) ([]string, error) {
	s.mu.Lock()
	cached, ok := s.flags[id]
	s.mu.Unlock()
	if ok {
		return cached, nil
	}
	c, err := s.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("evidence: reviewer flags of campaign %d: %w", id, err)
	}
	b := &Bundle{}
	if err := b.collectCases(ctx, s.Store, c); err != nil {
		return nil, err
	}
	entries, _, err := s.Store.AuditEntries(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("evidence: audit entries: %w", err)
	}
	deliveries, err := s.Store.FormDeliveries(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("evidence: form deliveries: %w", err)
	}
	a := Analyze(c, b.Cases.Cases, decisionsOf(id, entries), deliveries, s.Thresholds)
	out := make([]string, 0, len(a.Flags))
	for _, f := range a.Flags {
		out = append(out, fmt.Sprintf("%s (%s): %s: %s", f.Reviewer, f.Stage, strings.ReplaceAll(f.Flag, "_", " "), f.Detail))
	}
	if !c.State.Open() && c.State != campaign.StateDraft && c.State != campaign.StateClosing {
		s.mu.Lock()
		if s.flags == nil || len(s.flags) >= maxCachedFlags {
			s.flags = map[int64][]string{}
		}
		s.flags[id] = out
		s.mu.Unlock()
	}
	return out, nil
}
