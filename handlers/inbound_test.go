package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// inboundRig is an Interactions over fakes: campaign 7 (stage 2) in which
// manager 00uMGR reviews member 00uMEM's cases 1 and 2; UADMIN is an IAM
// admin through the Slack group S0IAM, UAPP an approver, UOUT nobody.
type inboundRig struct {
	x     *Interactions
	eng   *fakeEngine
	cs    *fakeCampaigns
	views *fakeViews
	out   *fakeOutbound
	users *fakeUsers
	log   *bytes.Buffer
	c     campaign.Campaign
	cases []campaign.CaseRecord
	sweep *fakeSweeps
}

func newInbound(t *testing.T) *inboundRig {
	t.Helper()
	def := &campaign.Definition{Name: "Quarterly"}
	r := &inboundRig{eng: &fakeEngine{}, views: &fakeViews{}, out: &fakeOutbound{}, log: &bytes.Buffer{},
		c: campaign.Campaign{ID: 7, Name: "Quarterly", State: campaign.StateStage2, SnapshotID: 3, Definition: def, Deadline: t0.Add(72 * time.Hour)},
		cases: []campaign.CaseRecord{
			{ID: 1, CampaignID: 7, UserID: "00uMEM", Label: "Salesforce", ReviewerID: "00uMGR"},
			{ID: 2, CampaignID: 7, UserID: "00uMEM", Label: "AWS Production", ReviewerID: "00uMGR"},
		},
		sweep: &fakeSweeps{},
	}
	r.users = &fakeUsers{users: map[string]slackrec.User{}}
	for slackID, okta := range map[string]string{"UADMIN": "00uADMIN", "UMEM": "00uMEM", "UMGR": "00uMGR", "UOUT": "00uOUT", "UAPP": "00uAPP"} {
		r.users.users[slackID] = slackrec.User{OktaUserID: okta, Email: strings.ToLower(okta[3:]) + "@example.com", SlackID: slackID}
	}
	r.cs = &fakeCampaigns{
		get: func(id int64) (*campaign.Campaign, error) {
			if id != r.c.ID {
				return nil, fmt.Errorf("store: campaign %d: %w", id, campaign.ErrNotFound)
			}
			c := r.c
			return &c, nil
		},
		cases: func(_ int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error) {
			var out []campaign.CaseRecord
			for _, cs := range r.cases {
				if q.UserID != "" && cs.UserID != q.UserID || q.ReviewerID != nil && cs.ReviewerID != *q.ReviewerID {
					continue
				}
				out = append(out, cs)
			}
			return out, nil
		},
		findUser: func(key string) (campaign.User, error) {
			return campaign.User{ID: key, FirstName: "Mem", LastName: "Ber", Email: "mem@example.com"}, nil
		},
		list: func(...campaign.State) ([]campaign.Campaign, error) { return []campaign.Campaign{r.c}, nil },
		progress: func(int64) (campaign.Progression, error) {
			return campaign.Progression{MemberOpen: map[string]int{"00uMEM": 2}, ReviewerOpen: map[string]int{"00uMGR": 2},
				ReviewerMembers: map[string][]string{"00uMGR": {"00uMEM"}}}, nil
		},
	}
	log := zerolog.New(r.log)
	access := &Access{Users: r.users, Groups: fakeGroups{"S0IAM": {"UADMIN"}}, Admins: []string{"S0IAM"}, Approvers: []string{"UAPP"}, Log: log}
	r.x = &Interactions{Engine: r.eng, Campaigns: r.cs, Store: r.users, Sweeps: r.sweep, Views: r.views, Access: access, Out: r.out,
		Log: log, Now: func() time.Time { return t0 }, Life: context.Background(),
		Settings: Settings{Command: "/access-review", ApprovalsChannel: "CIAM", Admins: access.Admins, Approvers: access.Approvers,
			Definitions: func() ([]campaign.DefinitionFile, error) {
				return []campaign.DefinitionFile{{Path: "campaigns/quarterly.yaml", Def: def}}, nil
			}}}
	return r
}

// press delivers a click on a button (or selection) by a Slack user.
func (r *inboundRig) press(user, action, value string, decisions map[string]string) {
	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, TriggerID: fmt.Sprintf("trig-%s-%s-%d", user, action, len(r.out.lines)),
		User: slack.User{ID: user, TeamID: "T1"}, Container: slack.Container{ChannelID: "D" + user}}
	cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: action, Value: value, ActionTs: "1.2"}}
	cb.BlockActionState = &slack.BlockActionStates{Values: map[string]map[string]slack.BlockAction{}}
	for block, v := range decisions {
		cb.BlockActionState.Values[block] = map[string]slack.BlockAction{blocks.ActionDecision: {SelectedOption: slack.OptionBlockObject{Value: v}}}
	}
	r.x.BlockActions(context.Background(), cb, "sha")
}

// answered is the one ephemeral answer, or "" when there was none.
func (r *inboundRig) answered(t *testing.T) string {
	t.Helper()
	switch len(r.out.ephemerals) {
	case 0:
		return ""
	case 1:
		return r.out.ephemerals[0]
	}
	t.Fatalf("%d ephemeral answers: %q", len(r.out.ephemerals), r.out.ephemerals)
	return ""
}

// The dispatcher refuses, in one place, every action id or value attest
// does not emit: a log line, a polite answer, and no domain call.
func TestDispatcherRefusesUnknownValues(t *testing.T) {
	tests := []struct{ name, action, value string }{
		{"unknown action id", "drop_tables", "m:7:00uMEM:1"},
		{"old opaque value", blocks.ActionMemberSubmit, "c42p1"},
		{"member value on the reviewer button", blocks.ActionReviewerSubmit, "m:7:00uMEM:1"},
		{"plan value on a form", blocks.ActionEditAnswers, "a:7:-:1"},
		{"markup smuggled as member", blocks.ActionDelegate, "r:7:<!channel>:1"},
		{"open value on close", blocks.ActionCampaignClose, "h:7:m:1"},
		{"empty value", blocks.ActionPlanApprove, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.press("UADMIN", tc.action, tc.value, nil)
			if got := r.answered(t); !strings.Contains(got, "not one attest can handle") {
				t.Errorf("answer = %q, want the polite refusal", got)
			}
			if len(r.eng.lines) > 0 || len(r.views.lines) > 0 {
				t.Errorf("refused click reached the domain: %s %s", r.eng.String(), r.views.String())
			}
			if !strings.Contains(r.log.String(), "unknown or malformed action refused") {
				t.Errorf("no log line: %s", r.log.String())
			}
		})
	}
}

func TestSelectionsDoNothing(t *testing.T) {
	r := newInbound(t)
	r.press("UMEM", blocks.ActionDecision, "keep", nil)
	if len(r.out.lines)+len(r.eng.lines) > 0 {
		t.Fatalf("a radio selection did something: %s %s", r.out.String(), r.eng.String())
	}
}

func TestUnmappedClickerIsRefused(t *testing.T) {
	r := newInbound(t)
	r.press("UNOBODY", blocks.ActionMemberSubmit, "m:7:00uMEM:1", map[string]string{"case:1": "keep"})
	if got := r.answered(t); !strings.Contains(got, "not linked to an Okta user") || r.eng.has("Answer") {
		t.Fatalf("answer %q, engine %s", got, r.eng.String())
	}
}

func TestFormActions(t *testing.T) {
	ok := func(campaign.AnswerRequest) (*campaign.CaseRecord, error) { return &campaign.CaseRecord{}, nil }
	tests := []struct {
		name      string
		user      string
		action    string
		value     string
		decisions map[string]string
		answer    func(campaign.AnswerRequest) (*campaign.CaseRecord, error)
		want      []string // call prefixes on the engine and outbound
		refusal   string   // in the ephemeral answer; "" for none
	}{
		{"member submits own form", "UMEM", blocks.ActionMemberSubmit, "m:7:00uMEM:1", map[string]string{"case:1": "keep", "case:2": "revoke"}, ok,
			[]string{"Answer 1 keep by 00uMEM", "Answer 2 revoke by 00uMEM", "ShowAnswered m:7:00uMEM:1 as \"00uMEM\"", "RefreshStatus 7"}, ""},
		{"member answers someone else's form", "UOUT", blocks.ActionMemberSubmit, "m:7:00uMEM:1", map[string]string{"case:1": "revoke"}, ok,
			nil, "This form is not yours"},
		{"reviewer submits", "UMGR", blocks.ActionReviewerSubmit, "r:7:00uMEM:1", map[string]string{"case:2": "revoke"}, ok,
			[]string{"Answer 2 revoke by 00uMGR", "ShowAnswered r:7:00uMEM:1 as \"00uMGR\""}, ""},
		{"outsider forges a reviewer form", "UOUT", blocks.ActionReviewerSubmit, "r:7:00uMEM:1", map[string]string{"case:2": "revoke"}, ok,
			nil, "This form is not yours"},
		{"member reviews their own access", "UMEM", blocks.ActionReviewerSubmit, "r:7:00uMEM:1", map[string]string{"case:2": "keep"}, ok,
			nil, "This form is not yours"},
		{"engine refusal names nobody", "UMGR", blocks.ActionReviewerSubmit, "r:7:00uMEM:1", map[string]string{"case:2": "revoke"},
			func(campaign.AnswerRequest) (*campaign.CaseRecord, error) {
				return nil, fmt.Errorf("00uMEM's case for AWS Production is assigned to another reviewer: %w", campaign.ErrForbidden)
			},
			[]string{"Answer 2", "ShowAnswered"}, "not yours to decide"},
		{"stage closed", "UMEM", blocks.ActionMemberSubmit, "m:7:00uMEM:1", map[string]string{"case:1": "keep"},
			func(campaign.AnswerRequest) (*campaign.CaseRecord, error) {
				return nil, fmt.Errorf("campaign 7 (Quarterly) is closed: %w", campaign.ErrConflict)
			},
			[]string{"ShowClosed m:7:00uMEM:1 as \"00uMEM\": This review stage is closed"}, "stage is closed"},
		{"database failure is not shown", "UMEM", blocks.ActionMemberSubmit, "m:7:00uMEM:1", map[string]string{"case:1": "keep"},
			func(campaign.AnswerRequest) (*campaign.CaseRecord, error) {
				return nil, fmt.Errorf("store: update cases: database is locked (SQLITE_BUSY)")
			},
			[]string{"ShowAnswered"}, "Something went wrong on attest's side"},
		{"edit answers", "UMEM", blocks.ActionEditAnswers, "m:7:00uMEM:2", nil, ok, []string{"ShowPage m:7:00uMEM:2 as \"00uMEM\""}, ""},
		{"reviewer edits decisions", "UMGR", blocks.ActionEditAnswers, "r:7:00uMEM:1", nil, ok, []string{"ShowPage r:7:00uMEM:1 as \"00uMGR\""}, ""},
		{"unknown campaign", "UMEM", blocks.ActionMemberSubmit, "m:99:00uMEM:1", nil, ok, nil, "no longer exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.eng.answer = tc.answer
			r.press(tc.user, tc.action, tc.value, tc.decisions)
			all := r.eng.String() + "\n" + r.out.String()
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("no call %q in:\n%s", w, all)
				}
			}
			got := r.answered(t)
			if tc.refusal == "" && got != "" || !strings.Contains(got, tc.refusal) {
				t.Errorf("answer = %q, want %q", got, tc.refusal)
			}
			if tc.refusal != "" && tc.want == nil && (r.eng.has("Answer") || r.out.has("Show")) {
				t.Errorf("a refused form reached the engine or was shown:\n%s", all)
			}
			for _, leak := range []string{"00uMEM", "AWS Production", "SQLITE", "another reviewer"} {
				if strings.Contains(got, leak) {
					t.Errorf("answer %q shows %q", got, leak)
				}
			}
		})
	}
}

func TestConfirmMember(t *testing.T) {
	r := newInbound(t)
	r.eng.confirmMember = func(int64, campaign.Actor, string) (int, error) { return 2, nil }
	r.press("UMGR", blocks.ActionConfirmMember, "r:7:00uMEM:1", nil)
	if !r.eng.has("ConfirmMember 7 00uMEM by 00uMGR") || !r.out.has(`ShowAnswered r:7:00uMEM:1 as "00uMGR"`) {
		t.Fatalf("calls:\n%s\n%s", r.eng.String(), r.out.String())
	}
	r = newInbound(t)
	r.press("UOUT", blocks.ActionConfirmMember, "r:7:00uMEM:1", nil)
	if r.eng.has("ConfirmMember") || !strings.Contains(r.answered(t), "not yours") {
		t.Fatalf("an outsider confirmed: %s", r.eng.String())
	}
}

// The IAM team decides the cases of members without a manager: an IAM
// admin or the campaign's launcher acts on those forms as the team (""
// viewer); others are refused.
func TestIAMTeamForm(t *testing.T) {
	for _, tc := range []struct {
		user string
		ok   bool
	}{{"UADMIN", true}, {"UAPP", true}, {"UOUT", false}} {
		r := newInbound(t)
		r.c.OwnerID = "00uAPP" // the launcher decides the team's cases too
		r.cases = []campaign.CaseRecord{{ID: 5, CampaignID: 7, UserID: "00uORPHAN", Label: "Jira"}}
		r.eng.answer = func(campaign.AnswerRequest) (*campaign.CaseRecord, error) { return &campaign.CaseRecord{}, nil }
		r.press(tc.user, blocks.ActionReviewerSubmit, "r:7:00uORPHAN:1", map[string]string{"case:5": "keep"})
		if got := r.out.has(`ShowAnswered r:7:00uORPHAN:1 as ""`); got != tc.ok {
			t.Errorf("%s: shown as the IAM team = %v, want %v\n%s", tc.user, got, tc.ok, r.out.String())
		}
	}
}

func TestPlanAction(t *testing.T) {
	closed := func(id int64, _ campaign.Actor) (*campaign.Campaign, int, error) {
		return &campaign.Campaign{ID: id, State: campaign.StateApproved, Definition: &campaign.Definition{}}, 1, nil
	}
	tests := []struct {
		name, user, action string
		approve            func(int64, campaign.Actor) (*campaign.Campaign, int, error)
		refusal            string
	}{
		{"approver approves", "UAPP", blocks.ActionPlanApprove, closed, ""},
		{"approver rejects", "UAPP", blocks.ActionPlanReject, closed, ""},
		{"non-approver refused", "UOUT", blocks.ActionPlanApprove, func(id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
			return &campaign.Campaign{ID: id, State: campaign.StateClosed}, 0, fmt.Errorf("%s is not an approver of campaign %d: %w", a, id, campaign.ErrForbidden)
		}, "may not approve this plan"},
		{"launcher refused", "UADMIN", blocks.ActionPlanApprove, func(id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
			return &campaign.Campaign{ID: id, State: campaign.StateClosed}, 0, fmt.Errorf("%s launched campaign %d and may not approve its plan: %w", a, id, campaign.ErrForbidden)
		}, "may not approve this plan"},
		{"already decided", "UAPP", blocks.ActionPlanApprove, func(id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
			return &campaign.Campaign{ID: id, State: campaign.StateApproved}, 0, fmt.Errorf("campaign %d is approved: %w", id, campaign.ErrConflict)
		}, "already decided: it is approved"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.eng.approve, r.eng.reject = tc.approve, tc.approve
			r.press(tc.user, tc.action, "a:7:-:1", nil)
			got := r.answered(t)
			if tc.refusal != "" {
				if !strings.Contains(got, tc.refusal) || r.out.has("PostThread") || strings.Contains(got, "@example.com") {
					t.Fatalf("answer %q; calls %s", got, r.out.String())
				}
				return
			}
			if got != "" || !r.out.has("RefreshApproval 7") || !r.out.has("PostThread 7") {
				t.Fatalf("answer %q; calls %s", got, r.out.String())
			}
			if thread := r.out.posted[len(r.out.posted)-1]; !strings.HasPrefix(thread, "<@UAPP> ") {
				t.Errorf("thread note %q does not mention the approver", thread)
			}
		})
	}
}

func TestDelegate(t *testing.T) {
	r := newInbound(t)
	r.press("UMGR", blocks.ActionDelegate, "r:7:00uMEM:1", nil)
	if len(r.views.opened) != 1 || r.views.opened[0].PrivateMetadata != "r:7:00uMEM:1" {
		t.Fatalf("the reviewer's delegate modal: %+v", r.views.opened)
	}
	raw, _ := json.Marshal(r.views.opened[0])
	if !strings.Contains(string(raw), "Mem Ber") {
		t.Errorf("modal does not name the member: %s", raw)
	}

	r = newInbound(t)
	r.press("UOUT", blocks.ActionDelegate, "r:7:00uMEM:1", nil)
	if len(r.views.opened) != 0 || !strings.Contains(r.answered(t), "not yours") {
		t.Fatalf("a forged delegate value opened %d modals", len(r.views.opened))
	}
}

func TestSubmitDelegate(t *testing.T) {
	tests := []struct {
		name, metadata, to string
		delegate           func(campaign.DelegateRequest) (int, error)
		field              string // the modal's error; "" closes it
	}{
		{"hands over", "r:7:00uMEM:1", "UOUT", func(campaign.DelegateRequest) (int, error) { return 2, nil }, ""},
		{"forged metadata", "a:7:-:1", "UOUT", nil, "no longer valid"},
		{"unknown person", "r:7:00uMEM:1", "UNOBODY", nil, "no Okta account"},
		{"engine refuses", "r:7:00uMEM:1", "UOUT", func(r campaign.DelegateRequest) (int, error) {
			return 0, fmt.Errorf("you have no open cases of %s to delegate: %w", r.Member, campaign.ErrForbidden)
		}, "no open items of this member"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.eng.delegate = tc.delegate
			cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, TriggerID: "trig", User: slack.User{ID: "UMGR"}}
			cb.View.ID, cb.View.CallbackID, cb.View.PrivateMetadata = "V1", blocks.CallbackDelegate, tc.metadata
			cb.View.State = &slack.ViewState{Values: map[string]map[string]slack.BlockAction{
				blocks.BlockDelegateTo: {blocks.ActionUser: {SelectedUser: tc.to}}}}
			errs := r.x.ViewSubmission(context.Background(), cb)
			got := errs[blocks.BlockDelegateTo]
			if tc.field == "" && errs != nil || !strings.Contains(got, tc.field) || strings.Contains(got, "00uMEM") {
				t.Fatalf("field errors = %v, want %q", errs, tc.field)
			}
			if strings.HasPrefix(got, ":") {
				t.Errorf("a modal field error %q carries an emoji code Slack shows as text", got)
			}
			if tc.field == "" && !r.out.has("PostDM 00uMGR") {
				t.Errorf("no confirmation: %s", r.out.String())
			}
		})
	}
}
