package campaign

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"
)

// Engine runs campaigns: launch, answers, stage changes, escalation,
// reminders, close, plan and approval. It keeps no state of its own: every
// step reads and writes the Store, so several front ends (CLI, Slack, cron)
// share one engine safely.
type Engine struct {
	Store    Store
	Notifier Notifier
	Now      func() time.Time
	// Risk rates an entitlement (kind, Okta id, label): low, medium,
	// high, critical or "" when unrated (see RiskRules).
	Risk func(kind, id, label string) string
	// Admins may launch, close and cancel any campaign and decide the IAM
	// team's cases; Approvers may approve any plan, in addition to the
	// definition's. Both name people by email, login or Okta id and are
	// compared by Okta id (see engine_identity.go).
	Admins, Approvers []string
	// IsAdmin and IsApprover, when set, also grant those rights; they are
	// asked at the moment of the action (Slack user group membership).
	IsAdmin, IsApprover func(ctx context.Context, a Actor) bool
	// MaxOperations and MaxGroupShare are the blast-radius limits: a plan
	// beyond them needs one more approval than its definition asks.
	MaxOperations int
	MaxGroupShare float64
	// StepUp, when set, must succeed (an Okta Verify push the approver
	// accepts) before an approval counts, so a hijacked Slack session
	// cannot approve removals.
	StepUp func(ctx context.Context, a Actor) error
	// HistoryRetention bounds how long certification history is kept
	// (default 3 years); Tick prunes what is older.
	HistoryRetention time.Duration
	// OnNotifyError is told about notifications that could not be sent.
	OnNotifyError func(n Notification, err error)
	// SignOffs, when set, records control-owner sign-offs made in Slack
	// (see SignOff); without it Slack offers no sign-off.
	SignOffs SignOffRecorder
	// Flags, when set, computes the reviewer flags (likely
	// rubber-stamping) the approval message shows to the approvers.
	Flags ReviewerFlagger
	// AppOwners names app owners for the app-owner stage from the
	// configuration (campaigns.owners: app label or id -> emails or
	// logins); a definition's stages.app_owner.owners wins for an app
	// both name.
	AppOwners map[string][]string
	// AppOwnerAttribute is the app profile attribute the Okta sync keeps
	// (okta.app_owner_attribute); a definition's owners_attribute must
	// name it.
	AppOwnerAttribute string

	// fannedOut remembers the stages whose fan-out this process saw
	// recorded (FormsQueuedType is append-only), so the tick reads the
	// audit log for a stage at most until it finds the record.
	fannedOut sync.Map // fanOutStage -> true
	// noticesRead remembers, per campaign, the audit id up to which every
	// escalation and delegation notice was seen queued (resumeNotices).
	noticesRead sync.Map // campaign id -> int64
}

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Now().UTC()
	}
	return e.Now().UTC()
}

// LaunchRequest asks for a new campaign.
type LaunchRequest struct {
	Definition *Definition
	YAML       string // the definition's text, stored as evidence
	Owner      Actor
	// Deadline, when set, ends the whole campaign; the stages share the
	// time in proportion to their configured durations.
	Deadline time.Time
	Trigger  string // cli, slack, schedule, recertification
	// Only, when set, restricts the cases to these entitlements.
	Only map[EntitlementKey]bool
	// claim, when set, is called once the draft campaign exists and
	// before any case is written or anyone is told; its error stops the
	// launch (the draft is cancelled). See LaunchSweepReview.
	claim func(ctx context.Context, campaignID int64) error
}

// Launch freezes the latest snapshot, builds the cases and starts stage 1
// (or stage 2 when self-attestation is off, or when no member has to
// answer). The owner is identified as the Okta user they are now, and
// their id kept on the campaign. It returns ErrForbidden when the owner is
// not an active user of the directory, and ErrInvalid when the definition
// selects nothing or the deadline is in the past.
func (e *Engine) Launch(ctx context.Context, req LaunchRequest) (*Campaign, error) {
	def := req.Definition
	now := e.now()
	owner, err := e.identify(ctx, nil, req.Owner)
	if err != nil {
		return nil, fmt.Errorf("launch campaign %q: %w", def.Name, err)
	}
	req.Owner = owner
	if err := e.checkOwnerSources(def); err != nil {
		return nil, fmt.Errorf("launch campaign %q: %w", def.Name, err)
	}
	snap, err := e.latestSnapshot(ctx, true)
	if err != nil {
		return nil, err
	}
	if snap.Digest == "" {
		snap.Digest = Digest(snap) // read whole: see latestSnapshot
	}
	ix := NewIndex(snap)
	cs, err := BuildCases(ix, def, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	total := e.countCases(cs, req.Only)
	if total == 0 {
		return nil, fmt.Errorf("campaign %q selects no access to review in snapshot %d: %w", def.Name, snap.ID, ErrInvalid)
	}
	c := &Campaign{Name: def.Name, Description: def.Description, Owner: req.Owner.String(), OwnerID: req.Owner.UserID, Definition: def,
		DefinitionYAML: req.YAML, SnapshotID: snap.ID, SnapshotDigest: snap.Digest, CreatedAt: now, Trigger: req.Trigger}
	d1, d2 := def.Stages.SelfAttestation.Duration.D(), def.Stages.Manager.Duration.D()
	if !def.Stages.SelfAttestation.On() {
		d1 = 0
	}
	if !def.Stages.Manager.On() {
		d2 = 0
	}
	if !req.Deadline.IsZero() {
		if !req.Deadline.After(now) {
			return nil, fmt.Errorf("deadline %s is not in the future: %w", req.Deadline.Format(time.RFC3339), ErrInvalid)
		}
		total, sum := req.Deadline.Sub(now), d1+d2+def.Stages.AppOwner.duration()
		d1, d2 = share(total, d1, sum), share(total, d1+d2, sum)-share(total, d1, sum)
	}
	c.State = StateStage1
	c.Stage1Ends = now.Add(d1)
	c.Deadline = c.Stage1Ends.Add(d2)
	if d1 == 0 {
		c.State, c.Stage1Ends, c.Stage2Started = StateStage2, time.Time{}, now
	}
	// The campaign is created as a draft, its cases are written in slices,
	// then it opens; a launch that fails half-way leaves a cancelled draft.
	target := c.State
	c.State = StateDraft
	id, err := e.Store.CreateCampaign(ctx, c, nil, Event{At: now, Type: "campaign.created", Actor: req.Owner,
		Detail: req.Owner.stamp(map[string]any{"name": c.Name, "cases": total, "snapshot": snap.ID, "trigger": req.Trigger})})
	if err != nil {
		return nil, err
	}
	c.ID = id
	if req.claim != nil {
		err = req.claim(ctx, id)
	}
	var memberOpen map[string]int
	if err == nil {
		memberOpen, err = e.writeCases(ctx, id, now, cs, req.Only, total)
	}
	open := *c
	open.State = target
	if err == nil {
		err = e.Store.MoveCampaign(ctx, &open, StateDraft, Event{At: now, CampaignID: id, Type: "campaign.launched", Actor: req.Owner,
			Detail: req.Owner.stamp(map[string]any{"name": c.Name, "cases": total, "snapshot": snap.ID, "snapshot_sha256": snap.Digest,
				"trigger": req.Trigger, "state": string(target)})})
	}
	if err != nil {
		failed := *c
		failed.State = StateCancelled
		_ = e.Store.MoveCampaign(context.WithoutCancel(ctx), &failed, StateDraft, Event{At: now, CampaignID: id,
			Type: "campaign.cancelled", Actor: System, Detail: map[string]any{"note": "launch failed: " + err.Error()}})
		return nil, fmt.Errorf("launch campaign %q: %w", c.Name, err)
	}
	c = &open
	// The forms go out after the campaign opened; a fan-out cut short
	// (the process died) is resumed by the leader's tick (resumeFanOut).
	if c.State == StateStage1 {
		// Members whose accounts are suspended or deprovisioned owe no
		// answer: a stage 1 that waits for nobody ends at once.
		f := e.notifyMembersOpen(ctx, c, memberOpen)
		_ = e.recordFanOut(ctx, c, StateStage1, f, now, false)
		if f.err == nil && f.people+f.failed == 0 {
			if next, err := e.startStage2(ctx, c, now, "no member has to answer"); err == nil {
				c = next
			}
		}
	} else {
		_ = e.recordFanOut(ctx, c, StateStage2, e.notifyReviewers(ctx, c, NoteReviewerForm), now, false)
	}
	return c, nil
}

// Preview summarises what launching def now would review, without
// launching anything.
func (e *Engine) Preview(ctx context.Context, def *Definition) (*PlanSummary, error) {
	snap, err := e.latestSnapshot(ctx, true)
	if err != nil {
		return nil, err
	}
	cs, err := BuildCases(NewIndex(snap), def, e.now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return Summarize(cs), nil
}

// latestSnapshot loads the newest snapshot: whole, or, forCases, what
// building cases reads of it (LoadCaseSnapshot; whole when it has no
// digest yet, which is computed over all of it). It refuses one whose
// sync left pages unread (SnapshotInfo.Launchable): every launch, from
// the CLI, Slack, a schedule or a recertification, comes through here.
func (e *Engine) latestSnapshot(ctx context.Context, forCases bool) (*Snapshot, error) {
	info, err := e.Store.LatestSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := info.Launchable(); err != nil {
		return nil, err
	}
	load := e.Store.LoadSnapshot
	if forCases && info.Digest != "" {
		load = e.Store.LoadCaseSnapshot
	}
	snap, err := load(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	snap.HRLeavers = info.Counts.HR.ByUser()
	return snap, nil
}

// launchChunk is how many cases are written per transaction at launch:
// large campaigns are written in slices so memory stays bounded.
const launchChunk = 50_000

// eachCaseRecord turns a case set into stored cases, one at a time, with
// reviewers chosen so that nobody confirms their own access. Cases come
// member by member, each member's app cases before their group cases,
// both in the snapshot's id order: the order of the cases table's unique
// (campaign, user, kind, entitlement) index, so a launch appends to it
// instead of inserting all over it. fn returning an error stops the walk
// with it.
func (e *Engine) eachCaseRecord(cs *CaseSet, only map[EntitlementKey]bool, fn func(CaseRecord) error) error {
	s := cs.Index.Snap
	// A case's reviewer is the member's nearest manager who is not the
	// member and whose account is active: a suspended or deprovisioned
	// manager could never decide it.
	reviewerOf := func(u int32) string {
		for m, hops := cs.Index.manager(u), 0; m >= 0 && hops < 50; m, hops = cs.Index.manager(m), hops+1 {
			if m != u && !s.Users[m].Inactive() {
				return s.Users[m].ID
			}
		}
		return ""
	}
	appCase := func(c *Case) error {
		u, a := &s.Users[c.User], &s.Apps[c.App]
		risk, ok := e.selected(cs, only, u.ID, KindApp, a.ID, a.Label)
		if !ok {
			return nil
		}
		via := make([]string, 0, c.viaLen)
		for _, g := range cs.Via(c) {
			via = append(via, s.Groups[g].ID)
		}
		return fn(CaseRecord{UserID: u.ID, Kind: KindApp, EntitlementID: a.ID, Label: a.Label, Direct: c.Direct,
			ViaGroups: via, Flags: c.Flags, Risk: risk, ManagerID: u.ManagerID, ReviewerID: reviewerOf(c.User)})
	}
	groupCase := func(gc *GroupCase) error {
		u, g := &s.Users[gc.User], &s.Groups[gc.Group]
		risk, ok := e.selected(cs, only, u.ID, KindGroup, g.ID, g.Name)
		if !ok {
			return nil
		}
		return fn(CaseRecord{UserID: u.ID, Kind: KindGroup, EntitlementID: g.ID, Label: g.Name, Direct: true,
			Flags: gc.Flags, Risk: risk, ManagerID: u.ManagerID, ReviewerID: reviewerOf(gc.User)})
	}
	var apps []Case
	if cs.Def.Entitlements.ReviewsApps() {
		apps = cs.Cases
	}
	// Both lists are in user order (BuildCases): merge them.
	i, j := 0, 0
	for i < len(apps) || j < len(cs.GroupCases) {
		var err error
		if i < len(apps) && (j == len(cs.GroupCases) || apps[i].User <= cs.GroupCases[j].User) {
			err = appCase(&apps[i])
			i++
		} else {
			err = groupCase(&cs.GroupCases[j])
			j++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// selected reports whether a case of the set is in the campaign (only,
// when set, names it; the definition's risk levels, when set, include
// its risk), and its risk.
func (e *Engine) selected(cs *CaseSet, only map[EntitlementKey]bool, user, kind, id, label string) (string, bool) {
	if only != nil && !only[EntitlementKey{user, kind, id}] {
		return "", false
	}
	risk := e.risk(kind, id, label)
	levels := cs.Def.Scope.Risk
	if len(levels) == 0 {
		return risk, true
	}
	for _, l := range levels {
		if strings.EqualFold(l, risk) {
			return risk, true
		}
	}
	return risk, false
}

// countCases counts the cases eachCaseRecord would yield, without
// making them.
func (e *Engine) countCases(cs *CaseSet, only map[EntitlementKey]bool) int {
	s := cs.Index.Snap
	n := 0
	if only == nil && len(cs.Def.Scope.Risk) == 0 {
		// Every case is in: nothing to rate or look up.
		if cs.Def.Entitlements.ReviewsApps() {
			n = len(cs.Cases)
		}
		return n + len(cs.GroupCases)
	}
	if cs.Def.Entitlements.ReviewsApps() {
		for i := range cs.Cases {
			a := &s.Apps[cs.Cases[i].App]
			if _, ok := e.selected(cs, only, s.Users[cs.Cases[i].User].ID, KindApp, a.ID, a.Label); ok {
				n++
			}
		}
	}
	for _, gc := range cs.GroupCases {
		g := &s.Groups[gc.Group]
		if _, ok := e.selected(cs, only, s.Users[gc.User].ID, KindGroup, g.ID, g.Name); ok {
			n++
		}
	}
	return n
}

// writeCases stores a launch's cases (total of them) in slices of
// launchChunk, each in its transaction, making the next slice while the
// store writes the last one (the two overlap on two cores). A store that
// reserves case ids (PostgreSQL) writes two slices at once, each
// numbered from its place in the launch. It returns how many
// cases each member is to answer in stage 1, counted as the store's
// CaseProgress counts MemberOpen, so the launch's fan-out need not read
// the cases back. It returns the first error of the store.
func (e *Engine) writeCases(ctx context.Context, id int64, now time.Time, cs *CaseSet, only map[EntitlementKey]bool,
	total int) (map[string]int, error) {
	write, writers := func(_ int, chunk []CaseRecord) error { return e.Store.AddCases(ctx, id, now, chunk) }, 1
	first, reserved, err := e.Store.ReserveCaseIDs(ctx, total)
	if err != nil {
		return nil, err
	}
	if reserved {
		write = func(k int, chunk []CaseRecord) error {
			return e.Store.AddCasesFrom(ctx, id, now, first+int64(k)*launchChunk, chunk)
		}
		writers = 2
	}
	type slice struct {
		k     int
		cases []CaseRecord
	}
	chunks := make(chan slice, 1)
	stop := make(chan struct{})
	memberOpen := map[string]int{}
	var makeErr error // the maker's, read once chunks is closed
	go func() {
		defer close(chunks)
		k, made := 0, 0
		send := func(chunk []CaseRecord) error {
			select {
			case chunks <- slice{k, chunk}:
				k++
				return nil
			case <-stop:
				return errLaunchStopped
			}
		}
		chunk := make([]CaseRecord, 0, launchChunk)
		err := e.eachCaseRecord(cs, only, func(r CaseRecord) error {
			if made++; made > total {
				// Never write past the ids taken.
				return fmt.Errorf("launch made more than the %d cases it counted", total)
			}
			if r.MemberDecision == "" && r.MemberStage() {
				memberOpen[r.UserID]++
			}
			if chunk = append(chunk, r); len(chunk) == launchChunk {
				if err := send(chunk); err != nil {
					return err
				}
				chunk = make([]CaseRecord, 0, launchChunk)
			}
			return nil
		})
		if err == nil && len(chunk) > 0 {
			err = send(chunk)
		}
		makeErr = err
	}()
	var mu sync.Mutex
	var failure error
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				mu.Lock()
				failed := failure != nil
				mu.Unlock()
				if failed {
					continue // drain: the maker stops at its next slice
				}
				if err := write(c.k, c.cases); err != nil {
					mu.Lock()
					if failure == nil {
						failure = err
						close(stop)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if failure == nil {
		failure = makeErr
	}
	if failure == nil {
		failure = ctx.Err()
	}
	return memberOpen, failure
}

// errLaunchStopped stops writeCases's case maker once the store failed.
var errLaunchStopped = errors.New("launch stopped")

func (e *Engine) risk(kind, id, label string) string {
	if e.Risk == nil {
		return ""
	}
	return e.Risk(kind, id, label)
}

// Get returns a campaign.
func (e *Engine) Get(ctx context.Context, id int64) (*Campaign, error) {
	return e.Store.GetCampaign(ctx, id)
}

// matchGroup reports whether a group name matches one of the patterns.
func matchGroup(patterns []string, name string) bool {
	n := strings.ToLower(name)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), n); ok {
			return true
		}
	}
	return false
}
