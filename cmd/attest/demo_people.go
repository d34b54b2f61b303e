package main

// The simulated people of `attest demo`: an IAM admin launches and closes
// the campaign with the slash command, members answer their DM forms,
// managers decide (one stays silent and is escalated), approvers approve
// the plan. Every one of them acts through the fake Slack, as a person in
// a real workspace would: the bot cannot tell them from people.

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
)

// sim drives one campaign through the sandbox.
type sim struct {
	w    *world
	seed int64
	p    *progress
	id   int64 // the campaign, once launched

	// What happened, for the summary and the test.
	members, membersAnswered, membersSilent int
	answers                                 map[string]int // member answers by value
	reviewers                               int
	decisions                               map[string]int // reviewer decisions by value
	iamForms                                int            // forms the IAM team decided in the channel
	escalation                              escalationInfo
	approvedBy                              []string
}

// escalationInfo says whose cases went up a level, to whom.
type escalationInfo struct {
	From, To string // Okta user ids
	Cases    int
}

func newSim(w *world, seed int64, p *progress) *sim {
	return &sim{w: w, seed: seed, p: p, answers: map[string]int{}, decisions: map[string]int{}}
}

// roll is a number in [0, 1) drawn for one choice (what, of whom or of
// which case): the same seed makes the same choices, whatever order the
// forms arrive in.
func (s *sim) roll(what string, of any) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%v", s.seed, what, of)
	return rand.New(rand.NewPCG(h.Sum64(), 0x5eed)).Float64()
}

var launchedRE = regexp.MustCompile(`Launched campaign (\d+)`)

// launch starts the campaign as the IAM admin does: the slash command.
func (s *sim) launch(ctx context.Context) error {
	reply, err := s.w.slash(ctx, s.w.admin, "start demo")
	if err != nil {
		return err
	}
	m := launchedRE.FindStringSubmatch(reply)
	if m == nil {
		return fmt.Errorf("launch refused: %s", reply)
	}
	s.id, _ = strconv.ParseInt(m[1], 10, 64)
	return nil
}

// memberAnswer picks a member's answer: mostly Needed, more often Not
// needed for access unused for months.
func (s *sim) memberAnswer(c campaign.CaseRecord) string {
	r := s.roll("member", c.ID)
	flags := c.Flags.Names()
	unused := slices.Contains(flags, "unused_app") || slices.Contains(flags, "stale_login")
	switch {
	case unused && r < 0.25, !unused && r < 0.06:
		return campaign.DecisionRevoke
	case r > 0.93:
		return campaign.DecisionUnsure
	}
	return campaign.DecisionKeep
}

// reviewerDecision picks a manager's decision from the member's answer.
func (s *sim) reviewerDecision(c campaign.CaseRecord) string {
	r := s.roll("reviewer", c.ID)
	switch c.MemberDecision {
	case campaign.DecisionKeep:
		if r < 0.04 {
			return campaign.DecisionRevoke
		}
	case campaign.DecisionUnsure:
		if r < 0.5 {
			return campaign.DecisionRevoke
		}
	default: // the member did not answer
		if r < 0.3 {
			return campaign.DecisionRevoke
		}
	}
	return campaign.DecisionKeep
}

// answerMembers lets every member owed a form answer it, except a few who
// stay silent (their managers decide for them), and waits until the
// answers are recorded.
func (s *sim) answerMembers(ctx context.Context) error {
	st := s.w.app.Store
	prog, err := st.CaseProgress(ctx, s.id)
	if err != nil {
		return err
	}
	cases, err := st.Cases(ctx, s.id, campaign.CaseQuery{})
	if err != nil {
		return err
	}
	byID := map[int64]campaign.CaseRecord{}
	owed := map[string]int{}
	for _, c := range cases {
		byID[c.ID] = c
	}
	members := make([]string, 0, len(prog.MemberOpen))
	for m := range prog.MemberOpen {
		members = append(members, m)
	}
	sort.Strings(members)
	pending := map[string]bool{}
	for _, m := range members {
		if _, ok := s.w.slackUser(m); !ok {
			continue
		}
		if s.roll("silent", m) < 0.08 {
			s.membersSilent++
			continue
		}
		pending[m] = true
		owed[m] = prog.MemberOpen[m]
	}
	s.members = len(members)
	want := 0
	for _, n := range owed {
		want += n
	}
	var acks []string
	start := time.Now()
	err = s.w.wait(ctx, "member forms", func() (bool, error) {
		for _, m := range members {
			if !pending[m] {
				continue
			}
			su, _ := s.w.slackUser(m)
			fs := forms(s.w.dm(su.ID), blocks.ActionMemberSubmit)
			var shown []int64
			for _, f := range fs {
				shown = append(shown, caseIDs(f)...)
			}
			if len(shown) < owed[m] {
				continue // pages still on their way
			}
			for _, f := range fs {
				choices := map[int64]string{}
				for _, id := range caseIDs(f) {
					a := s.memberAnswer(byID[id])
					choices[id] = a
					s.answers[a]++
				}
				id, err := s.w.click(su, f, blocks.ActionMemberSubmit, choices)
				if err != nil {
					return false, err
				}
				acks = append(acks, id)
			}
			delete(pending, m)
			s.membersAnswered++
		}
		s.p.update("members", s.membersAnswered, len(owed), "submitted their form", start)
		return len(pending) == 0, nil
	})
	if err != nil {
		return err
	}
	if err := s.w.awaitAcks(acks); err != nil {
		return err
	}
	return s.w.wait(ctx, "member answers recorded", func() (bool, error) {
		now, err := st.CaseProgress(ctx, s.id)
		left := 0
		for m := range owed {
			left += now.MemberOpen[m]
		}
		s.p.update("members", want-left, want, "answers recorded", start)
		return err == nil && left == 0, err
	})
}

// startStage2 lets stage 1's deadline pass and ticks, as serve's minute
// tick would: manager forms go out.
func (s *sim) startStage2(ctx context.Context) error {
	c, err := s.w.app.Store.GetCampaign(ctx, s.id)
	if err != nil {
		return err
	}
	if d := c.Stage1Ends.Sub(s.w.clock.Now()); d > 0 {
		s.w.clock.Advance(d + time.Minute)
	}
	s.w.app.Tick(ctx)
	return s.w.wait(ctx, "manager confirmation to start", func() (bool, error) {
		c, err := s.w.app.Store.GetCampaign(ctx, s.id)
		return err == nil && c.State == campaign.StateStage2, err
	})
}

// openReviews returns the open stage-2 cases by reviewer ("" is the IAM
// team).
func (s *sim) openReviews(ctx context.Context) (map[string][]campaign.CaseRecord, map[int64]campaign.CaseRecord, error) {
	c, err := s.w.app.Store.GetCampaign(ctx, s.id)
	if err != nil {
		return nil, nil, err
	}
	cases, err := s.w.app.Store.Cases(ctx, s.id, campaign.CaseQuery{})
	if err != nil {
		return nil, nil, err
	}
	open, byID := map[string][]campaign.CaseRecord{}, map[int64]campaign.CaseRecord{}
	for _, cs := range cases {
		byID[cs.ID] = cs
		if cs.NeedsReviewer(c.Definition) && cs.ReviewerDecision == "" && cs.Outcome == "" {
			open[cs.ReviewerID] = append(open[cs.ReviewerID], cs)
		}
	}
	return open, byID, nil
}

// pickSilent chooses the manager who will not answer: one with a manager
// of their own (so the cases go up a level, not to the IAM team) and, if
// possible, two or more members to review.
func (s *sim) pickSilent(ctx context.Context, open map[string][]campaign.CaseRecord) (string, error) {
	c, err := s.w.app.Store.GetCampaign(ctx, s.id)
	if err != nil {
		return "", err
	}
	var best []string
	var any []string
	for r, cs := range open {
		if r == "" {
			continue
		}
		u, err := s.w.app.Store.FindUser(ctx, c.SnapshotID, r)
		if err != nil || u.ManagerID == "" || u.ManagerID == r || !s.hasSlack(u.ManagerID) {
			continue
		}
		members := map[string]bool{}
		for _, x := range cs {
			members[x.UserID] = true
		}
		any = append(any, r)
		if len(members) >= 2 {
			best = append(best, r)
		}
	}
	if len(best) == 0 {
		best = any
	}
	if len(best) == 0 {
		return "", nil
	}
	sort.Strings(best)
	return best[int(s.roll("silent manager", len(best))*float64(len(best)))], nil
}

func (s *sim) hasSlack(oktaID string) bool { _, ok := s.w.slackUser(oktaID); return ok }

// decideReviews lets every reviewer but skip decide their open forms in
// their DM (the IAM team's in the approvals channel, by the admin), and
// waits until the decisions are recorded.
func (s *sim) decideReviews(ctx context.Context, skip string, phase string) error {
	open, byID, err := s.openReviews(ctx)
	if err != nil {
		return err
	}
	want := 0
	reviewers := make([]string, 0, len(open))
	for r, cs := range open {
		if r == skip && skip != "" {
			continue
		}
		reviewers = append(reviewers, r)
		want += len(cs)
	}
	sort.Strings(reviewers)
	s.reviewers += len(reviewers)
	clicked := map[string]bool{} // channel/ts of forms submitted
	var acks []string
	start := time.Now()
	decided := func() (int, error) {
		now, err := s.w.app.Store.CaseProgress(ctx, s.id)
		left := 0
		for _, r := range reviewers {
			left += now.ReviewerOpen[r]
		}
		return want - left, err
	}
	return s.w.wait(ctx, phase+" decisions", func() (bool, error) {
		for _, r := range reviewers {
			who, msgs := s.w.admin, s.w.slack.Messages(demoApprovals)
			if r != "" {
				su, ok := s.w.slackUser(r)
				if !ok {
					continue
				}
				who, msgs = su, s.w.dm(su.ID)
			}
			for _, f := range forms(msgs, blocks.ActionReviewerSubmit) {
				if clicked[f.Channel+"/"+f.TS] {
					continue
				}
				if r == "" {
					who = s.iamReviewer(f, byID)
				}
				choices := map[int64]string{}
				for _, id := range caseIDs(f) {
					if c, ok := byID[id]; ok && c.ReviewerID == r {
						d := s.reviewerDecision(c)
						choices[id] = d
						s.decisions[d]++
					}
				}
				if len(choices) == 0 {
					continue
				}
				id, err := s.w.click(who, f, blocks.ActionReviewerSubmit, choices)
				if err != nil {
					return false, err
				}
				clicked[f.Channel+"/"+f.TS] = true
				acks = append(acks, id)
				if r == "" {
					s.iamForms++
				}
			}
		}
		n, err := decided()
		s.p.update(phase, n, want, "decisions recorded", start)
		if err != nil || n < want {
			return false, err
		}
		return true, s.w.awaitAcks(acks)
	})
}

// iamReviewer is who of the IAM team decides an IAM form: the admin,
// unless the form is about the admin's own access (nobody reviews their
// own), then the next of the team.
func (s *sim) iamReviewer(f slacktest.Message, byID map[int64]campaign.CaseRecord) slacktest.User {
	ids := caseIDs(f)
	for _, u := range s.w.iam {
		if len(ids) == 0 || byID[ids[0]].UserID != s.w.oktaOf[u.ID] {
			return u
		}
	}
	return s.w.admin
}

// escalate lets the escalation delay pass with silent's cases undecided
// and ticks: they go to silent's manager, who decides them.
func (s *sim) escalate(ctx context.Context, silent string) error {
	if silent == "" {
		return nil
	}
	c, err := s.w.app.Store.GetCampaign(ctx, s.id)
	if err != nil {
		return err
	}
	s.w.clock.Advance(time.Duration(c.Definition.Escalation.After) + time.Minute)
	s.w.app.Tick(ctx)
	var to string
	var n int
	err = s.w.wait(ctx, "the silent manager's cases to escalate", func() (bool, error) {
		cs, err := s.w.app.Store.Cases(ctx, s.id, campaign.CaseQuery{})
		to, n = "", 0
		for _, x := range cs {
			if x.ManagerID != "" && x.EscalationLevel > 0 && x.ReviewerDecision == "" && x.ReviewerID != silent {
				to = x.ReviewerID
				n++
			}
		}
		return n > 0, err
	})
	if err != nil {
		return err
	}
	s.escalation = escalationInfo{From: silent, To: to, Cases: n}
	return s.decideReviews(ctx, "", "escalated")
}

// close closes the campaign as the IAM admin does.
func (s *sim) close(ctx context.Context) (string, error) {
	reply, err := s.w.slash(ctx, s.w.admin, "close "+strconv.FormatInt(s.id, 10))
	if err != nil {
		return "", err
	}
	err = s.w.wait(ctx, "the campaign to close", func() (bool, error) {
		c, err := s.w.app.Store.GetCampaign(ctx, s.id)
		return err == nil && c.State != campaign.StateStage2 && c.State != campaign.StateClosing, err
	})
	return reply, err
}

// approve has the approvers press Approve on the plan's message, one after
// the other, until the plan has the approvals it needs.
func (s *sim) approve(ctx context.Context) error {
	c, err := s.w.app.Store.GetCampaign(ctx, s.id)
	if err != nil || c.State != campaign.StateClosed {
		return err // nothing to approve (an empty plan is done at close)
	}
	var msg slacktest.Message
	err = s.w.wait(ctx, "the plan in the approvals channel", func() (bool, error) {
		fs := forms(s.w.slack.Messages(demoApprovals), blocks.ActionPlanApprove)
		if len(fs) > 0 {
			msg = fs[0]
		}
		return len(fs) > 0, nil
	})
	if err != nil {
		return err
	}
	for _, a := range s.w.approvers {
		before, err := s.w.app.Engine.ApprovalStatus(ctx, s.id)
		if err != nil {
			return err
		}
		id, err := s.w.click(a, msg, blocks.ActionPlanApprove, nil)
		if err != nil {
			return err
		}
		if err := s.w.awaitAcks([]string{id}); err != nil {
			return err
		}
		var state campaign.State
		if err := s.w.wait(ctx, "the approval recorded", func() (bool, error) {
			c, err := s.w.app.Store.GetCampaign(ctx, s.id)
			if err != nil {
				return false, err
			}
			state = c.State
			now, err := s.w.app.Engine.ApprovalStatus(ctx, s.id)
			// Done, or recorded and short of what the plan needs.
			return c.State != campaign.StateClosed || err == nil && now.Approved > before.Approved && now.Approved < now.Required, err
		}); err != nil {
			return err
		}
		s.approvedBy = append(s.approvedBy, a.Email)
		if state != campaign.StateClosed {
			return nil
		}
	}
	return fmt.Errorf("the plan still needs approvals after all %d approvers approved", len(s.w.approvers))
}

// execute runs the approved plan against the fake Okta, as serve's tick
// does, until every operation is finished and read back.
func (s *sim) execute(ctx context.Context) error {
	start := time.Now()
	return s.w.wait(ctx, "the removals", func() (bool, error) {
		c, err := s.w.app.Store.GetCampaign(ctx, s.id)
		if err != nil {
			return false, err
		}
		switch c.State {
		case campaign.StateDone:
			return true, nil
		case campaign.StateApproved, campaign.StateRemediating:
		default:
			return false, fmt.Errorf("campaign %d is %s: nothing to execute", s.id, c.State)
		}
		s.w.app.Tick(ctx) // runs the executor; returns when its run is over
		ops, err := s.w.app.Store.Operations(ctx, s.id)
		finished := 0
		for _, o := range ops {
			if o.State != campaign.OpPending && o.State != campaign.OpRunning {
				finished++
			}
		}
		s.p.update("removals", finished, len(ops), "operations finished", start)
		return false, err
	})
}
