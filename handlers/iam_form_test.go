package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// iamEngine is the fake engine with the engine's check of who decides the
// IAM team's cases (IAMDecider).
type iamEngine struct {
	*fakeEngine
	may func(c *campaign.Campaign, a campaign.Actor) bool
}

func (e iamEngine) MayDecideForIAM(_ context.Context, c *campaign.Campaign, a campaign.Actor) bool {
	e.add("MayDecideForIAM %d %s", c.ID, a.UserID)
	return e.may(c, a)
}

// pressIn is press, for a message in the given channel.
func (r *inboundRig) pressIn(user, channel, action, value string, decisions map[string]string) {
	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, TriggerID: fmt.Sprintf("trig-%s-%s-%d", user, action, len(r.out.lines)),
		User: slack.User{ID: user, TeamID: "T1"}, Container: slack.Container{ChannelID: channel}}
	cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: action, Value: value, ActionTs: "1.2"}}
	cb.BlockActionState = &slack.BlockActionStates{Values: map[string]map[string]slack.BlockAction{}}
	for block, v := range decisions {
		cb.BlockActionState.Values[block] = map[string]slack.BlockAction{blocks.ActionDecision: {SelectedOption: slack.OptionBlockObject{Value: v}}}
	}
	r.x.BlockActions(context.Background(), cb, "sha")
}

// A form of the IAM team's is decided in the approvals channel, and the
// message updated is that one (viewer ""), whoever of the people the
// engine allows decided: even an admin who reviews some of the member's
// cases themself (an escalation that went past them). Who may act for the
// team is the engine's answer, by Okta id; an email in the definition's
// lists grants nothing by itself. The same admin clicking in their DM acts
// on their own form.
func TestIAMFormUpdatesTheMessageClicked(t *testing.T) {
	tests := []struct {
		name, user, channel string
		may                 bool   // the engine's MayDecideForIAM
		viewer              string // "-" for a refusal
	}{
		{"admin who reviews the member, in the channel", "UADMIN", "CIAM", true, ""},
		{"the same admin in their DM", "UADMIN", "DUADMIN", true, "00uADMIN"},
		{"someone the engine allows, in the channel", "UOUT", "CIAM", true, ""},
		{"someone the engine refuses, in the channel", "UOUT", "CIAM", false, "-"},
		{"an IAM reviewer by email the engine refuses", "UAPP", "CIAM", false, "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.c.Definition = &campaign.Definition{Name: "Quarterly", Owner: "APP@example.com"}
			r.c.Definition.Escalation.IAMReviewers = []string{"app@EXAMPLE.com"}
			r.cases = []campaign.CaseRecord{
				{ID: 5, CampaignID: 7, UserID: "00uORPHAN", Label: "Jira", EscalationLevel: 2},
				{ID: 6, CampaignID: 7, UserID: "00uORPHAN", Label: "GitHub", ReviewerID: "00uADMIN", ReviewerDecision: "keep"},
			}
			eng := iamEngine{fakeEngine: r.eng, may: func(c *campaign.Campaign, a campaign.Actor) bool { return tc.may }}
			r.x.Engine = eng
			r.eng.answer = func(campaign.AnswerRequest) (*campaign.CaseRecord, error) { return &campaign.CaseRecord{}, nil }
			r.pressIn(tc.user, tc.channel, blocks.ActionReviewerSubmit, "r:7:00uORPHAN:1", map[string]string{"case:5": "keep"})
			if tc.viewer == "-" {
				if !strings.Contains(r.answered(t), "not yours") || r.eng.has("Answer") || r.out.has("ShowAnswered") {
					t.Fatalf("not refused: engine %s\nout %s", r.eng.String(), r.out.String())
				}
				return
			}
			if got := r.answered(t); got != "" {
				t.Fatalf("answered %q", got)
			}
			want := fmt.Sprintf("ShowAnswered r:7:00uORPHAN:1 as %q", tc.viewer)
			if !r.out.has(want) || strings.Count(r.out.String(), "ShowAnswered") != 1 {
				t.Fatalf("want %s; calls:\n%s", want, r.out.String())
			}
			if tc.viewer == "" && !r.eng.has("MayDecideForIAM 7 "+r.users.users[tc.user].OktaUserID) {
				t.Fatalf("the engine was not asked, by Okta id: %s", r.eng.String())
			}
		})
	}
}
