package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// fakeSweeps is SweepStore.
type fakeSweeps struct{}

func (f *fakeSweeps) SaveSweep(context.Context, int64, int, map[campaign.EntitlementKey]bool) (int64, error) {
	return 0, errUnexpected
}

func (f *fakeSweeps) Sweep(_ context.Context, id int64) (map[campaign.EntitlementKey]bool, int64, error) {
	if id != 4 {
		return nil, 0, fmt.Errorf("store: sweep %d: %w", id, campaign.ErrNotFound)
	}
	return map[campaign.EntitlementKey]bool{{UserID: "00uMEM", Kind: campaign.KindApp, EntitlementID: "0oa1"}: true}, 8, nil
}

func (f *fakeSweeps) ClaimSweepReview(context.Context, int64, int64) (bool, error) {
	return false, errUnexpected
}

// slash runs a slash command typed by a Slack user.
func (r *inboundRig) slash(user, text string) Reply {
	return r.x.Slash(context.Background(), slack.SlashCommand{Command: "/access-review", Text: text, UserID: user, TeamID: "T1",
		TriggerID: fmt.Sprintf("trig-%s-%s-%d", user, text, time.Now().UnixNano())})
}

// admitAll makes the fake engine answer every admin command.
func (r *inboundRig) admitAll() {
	r.eng.launch = func(req campaign.LaunchRequest) (*campaign.Campaign, error) {
		c := r.c
		c.State = campaign.StateStage1
		return &c, nil
	}
	r.eng.close = func(id int64, _ campaign.Actor) (*campaign.Campaign, []campaign.PlanItem, error) {
		return &campaign.Campaign{ID: id, State: campaign.StateClosed}, make([]campaign.PlanItem, 3), nil
	}
	r.eng.report = func(id int64) (*campaign.Report, error) { return &campaign.Report{ID: id, Name: "Quarterly"}, nil }
}

// Every admin subcommand is refused for someone who is not an IAM admin
// (before any domain call) and works for an admin.
func TestAdminCommands(t *testing.T) {
	tests := []struct {
		text  string
		reply string   // in an admin's reply
		calls []string // an admin's calls on the engine, views and outbound
	}{
		{"start quarterly", "Launched campaign 7: *Quarterly*", []string{"Launch Quarterly by 00uADMIN", "PostStatus 7"}},
		{"start", "", []string{"OpenView launch"}},
		{"status", "Campaign status", []string{"StatusView 7"}},
		{"status 7", "Campaign status", []string{"StatusView 7"}},
		{"remind 7", "Reminded 1 people in campaign 7.", []string{"PostDM 00uMGR"}},
		{"close 7", "Campaign 7 is closed; the plan (3 items)", []string{"Close 7 by 00uADMIN"}},
		{"report 7", "The CSV is posted in the IAM channel.", []string{"Report 7", "PostReport 7"}},
	}
	for _, tc := range tests {
		t.Run(tc.text+" by a non-admin", func(t *testing.T) {
			r := newInbound(t)
			r.admitAll()
			got := r.slash("UOUT", tc.text)
			if !strings.Contains(got.Text, "Only IAM admins may") {
				t.Errorf("reply %q, want a refusal", got.Text)
			}
			if len(r.eng.lines)+len(r.views.lines)+len(r.out.lines) > 0 {
				t.Errorf("a refused command acted:\n%s\n%s\n%s", r.eng.String(), r.views.String(), r.out.String())
			}
		})
		t.Run(tc.text+" by an admin", func(t *testing.T) {
			r := newInbound(t)
			r.admitAll()
			got := r.slash("UADMIN", tc.text)
			if !strings.Contains(got.Text, tc.reply) {
				t.Errorf("reply %q, want %q", got.Text, tc.reply)
			}
			all := r.eng.String() + "\n" + r.views.String() + "\n" + r.out.String()
			for _, c := range tc.calls {
				if !strings.Contains(all, c) {
					t.Errorf("no call %q in:\n%s", c, all)
				}
			}
		})
	}
}

func TestCommandArguments(t *testing.T) {
	tests := []struct{ text, reply string }{
		{"close", "Usage: /access-review close ID"},
		{"remind <!channel>", "“&lt;!channel&gt;” is not a campaign id."},
		{"report 99", "There is no campaign 99."},
		{"status 99", "There is no campaign 99."},
		{"start <!here>", "There is no campaign definition named “&lt;!here&gt;”"},
		{"frobnicate<@U1>", "Unknown subcommand “frobnicate&lt;@u1&gt;”."},
		{"help", "How to use /access-review"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			r := newInbound(t)
			r.eng.report = func(id int64) (*campaign.Report, error) {
				return nil, fmt.Errorf("store: report %d: %w", id, campaign.ErrNotFound)
			}
			if got := r.slash("UADMIN", tc.text); !strings.Contains(got.Text, tc.reply) {
				t.Errorf("reply %q, want %q", got.Text, tc.reply)
			}
		})
	}
}

// retry is for approvers: the engine asks Access (through EngineChecks)
// at the moment of the retry.
func TestRetry(t *testing.T) {
	tests := []struct{ user, reply string }{
		{"UAPP", "Requeued 2 failed removal(s) of campaign 7"},
		{"UOUT", "Only approvers may retry failed removals."},
		{"UADMIN", "Only approvers may retry failed removals."},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			r := newInbound(t)
			_, approver := r.x.Access.EngineChecks()
			r.eng.retryFailed = func(id int64, a campaign.Actor) (int, error) {
				if !approver(context.Background(), a) {
					return 0, fmt.Errorf("%s is not an approver of campaign %d: %w", a, id, campaign.ErrForbidden)
				}
				return 2, nil
			}
			if got := r.slash(tc.user, "retry 7"); !strings.Contains(got.Text, tc.reply) || strings.Contains(got.Text, "@example.com") {
				t.Errorf("reply %q, want %q", got.Text, tc.reply)
			}
		})
	}
}

// App Home buttons: Open re-sends the viewer's own forms; Send reminders
// and Close campaign are refused for non-admins and work for admins.
func TestHomeActions(t *testing.T) {
	tests := []struct {
		name, user, action, value string
		calls                     []string
		refusal                   string
	}{
		{"member opens own review", "UMEM", blocks.ActionOpenReview, "h:7:m:1", []string{"Notify member_form to 00uMEM in 7", "PublishView UMEM"}, ""},
		{"reviewer opens reviews", "UMGR", blocks.ActionOpenReview, "h:7:r:1", []string{"SendReviewerForms 7 00uMGR [00uMEM]", "PublishView UMGR"}, ""},
		{"non-admin sends reminders", "UOUT", blocks.ActionCampaignRemind, "h:7:remind:1", nil, "Only IAM admins may send reminders."},
		{"admin sends reminders", "UADMIN", blocks.ActionCampaignRemind, "h:7:remind:1", []string{"PostDM 00uMGR", "PostDM 00uADMIN", "PublishView UADMIN"}, ""},
		{"non-admin closes", "UOUT", blocks.ActionCampaignClose, "h:7:close:1", nil, "Only IAM admins may close campaigns."},
		{"admin closes", "UADMIN", blocks.ActionCampaignClose, "h:7:close:1", []string{"Close 7 by 00uADMIN", "PublishView UADMIN"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.admitAll()
			r.press(tc.user, tc.action, tc.value, nil)
			got := r.answered(t)
			all := r.eng.String() + "\n" + r.views.String() + "\n" + r.out.String()
			if !strings.Contains(got, tc.refusal) || tc.refusal == "" && got != "" {
				t.Errorf("answer %q, want %q", got, tc.refusal)
			}
			if tc.refusal != "" && (r.eng.has("Close") || r.out.has("PostDM") || r.views.has("PublishView")) {
				t.Errorf("a refused Home action acted:\n%s", all)
			}
			for _, c := range tc.calls {
				if !strings.Contains(all, c) {
					t.Errorf("no call %q in:\n%s", c, all)
				}
			}
		})
	}
}

func TestPublishHome(t *testing.T) {
	tests := []struct {
		user      string
		want, not []string
	}{
		{"UMGR", []string{`"h:7:r:1"`, "open_review"}, []string{"campaign_close"}},
		{"UADMIN", []string{`"h:7:remind:1"`, `"h:7:close:1"`, "campaign_close"}, []string{"open_review"}},
		{"UOUT", nil, []string{"open_review", "campaign_close"}},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			r := newInbound(t)
			if err := r.x.PublishHome(context.Background(), tc.user, "T1"); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(r.views.published)
			for _, w := range tc.want {
				if !strings.Contains(string(raw), w) {
					t.Errorf("home lacks %s: %s", w, raw)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(raw), n) {
					t.Errorf("home shows %s: %s", n, raw)
				}
			}
		})
	}
}

func TestSweepAction(t *testing.T) {
	tests := []struct {
		name, user, value string
		launch            func(int64, campaign.Actor) (*campaign.Campaign, error)
		refusal           string
	}{
		{"admin launches", "UADMIN", "s:4:-:1", nil, ""},
		{"non-admin refused", "UOUT", "s:4:-:1", nil, "Only IAM admins may start reviews."},
		{"already launched", "UADMIN", "s:4:-:1", func(int64, campaign.Actor) (*campaign.Campaign, error) {
			return nil, campaign.Errorf(campaign.EConflict, "a review of this sweep was already started (campaign 9)")
		}, "already started (campaign 9)"},
		{"unknown sweep", "UADMIN", "s:5:-:1", func(id int64, _ campaign.Actor) (*campaign.Campaign, error) {
			return nil, fmt.Errorf("store: sweep %d: %w", id, campaign.ErrNotFound)
		}, "no longer kept"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.eng.launchSweep = tc.launch
			if tc.launch == nil {
				r.eng.launchSweep = func(int64, campaign.Actor) (*campaign.Campaign, error) { return &campaign.Campaign{ID: 8}, nil }
			}
			r.press(tc.user, blocks.ActionSweepReview, tc.value, nil)
			got := r.answered(t)
			if !strings.Contains(got, tc.refusal) || tc.refusal == "" && got != "" {
				t.Fatalf("answer %q, want %q", got, tc.refusal)
			}
			if admin := tc.user == "UADMIN"; r.eng.has("LaunchSweepReview") != admin {
				t.Fatalf("engine asked = %v, want %v:\n%s", !admin, admin, r.eng.String())
			}
			launched := r.out.has("PostStatus 8")
			if launched != (tc.refusal == "") {
				t.Fatalf("launched = %v:\n%s", launched, r.out.String())
			}
			if launched && !r.out.has("SweepLaunched 4 1") {
				t.Errorf("calls:\n%s", r.out.String())
			}
		})
	}
}

func TestLaunchModalSubmission(t *testing.T) {
	tests := []struct {
		name, user, def string
		field           string
		launches        bool
	}{
		{"admin launches", "UADMIN", "Quarterly", "", true},
		{"non-admin refused", "UOUT", "Quarterly", "Only IAM admins may launch campaigns.", false},
		{"unknown definition", "UADMIN", "Nope", "no campaign definition named", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			launched := make(chan campaign.LaunchRequest, 1)
			r.eng.launch = func(req campaign.LaunchRequest) (*campaign.Campaign, error) {
				launched <- req
				c := r.c
				return &c, nil
			}
			cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, TriggerID: "t", User: slack.User{ID: tc.user}}
			cb.View.ID, cb.View.CallbackID = "V9", blocks.CallbackLaunch
			cb.View.State = &slack.ViewState{Values: map[string]map[string]slack.BlockAction{
				blocks.BlockDefinition: {blocks.ActionDefinition: {SelectedOption: slack.OptionBlockObject{Value: tc.def}}}}}
			errs := r.x.ViewSubmission(context.Background(), cb)
			if got := errs[blocks.BlockDefinition]; !strings.Contains(got, tc.field) || tc.field == "" && errs != nil {
				t.Fatalf("field errors %v, want %q", errs, tc.field)
			}
			if !tc.launches {
				return
			}
			select {
			case req := <-launched:
				if req.Owner.UserID != "00uADMIN" || req.Trigger != "slack" {
					t.Errorf("launch request %+v", req)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the submission did not launch")
			}
			// Wait joins the background launch: once it returns, the
			// launcher has been told, so serve may close the store.
			r.x.Wait()
			if !r.out.has("PostDM 00uADMIN") {
				t.Errorf("Wait returned before the launcher was told: %v", &r.out.calls)
			}
		})
	}
}

func TestPreviewOnlyForAdmins(t *testing.T) {
	for _, tc := range []struct {
		user    string
		updates bool
	}{{"UADMIN", true}, {"UOUT", false}} {
		r := newInbound(t)
		r.eng.preview = func(*campaign.Definition) (*campaign.PlanSummary, error) {
			return &campaign.PlanSummary{Cases: 12}, nil
		}
		cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: tc.user}}
		cb.View.CallbackID = blocks.CallbackLaunch
		cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: blocks.ActionDefinition,
			SelectedOption: slack.OptionBlockObject{Value: "Quarterly"}}}
		r.x.BlockActions(context.Background(), cb, "")
		if got := r.views.has("UpdateView launch"); got != tc.updates {
			t.Errorf("%s: preview updated = %v, want %v", tc.user, got, tc.updates)
		}
	}
}

func TestEngineChecks(t *testing.T) {
	failing := &Access{Groups: groupsErr{}, Admins: []string{"S0IAM"}}
	r := newInbound(t)
	admin, approver := r.x.Access.EngineChecks()
	failAdmin, _ := failing.EngineChecks()
	ctx := context.Background()
	tests := []struct {
		name  string
		check func(context.Context, campaign.Actor) bool
		slack string
		want  bool
	}{
		{"admin through the Slack group", admin, "UADMIN", true},
		{"outsider is no admin", admin, "UOUT", false},
		{"approver by id", approver, "UAPP", true},
		{"admin is no approver", approver, "UADMIN", false},
		{"actor without a Slack id", admin, "", false},
		{"Slack unreachable refuses", failAdmin, "UADMIN", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.check(ctx, campaign.Actor{SlackUserID: tc.slack}); got != tc.want {
				t.Errorf("check(%q) = %v, want %v", tc.slack, got, tc.want)
			}
		})
	}
}

type groupsErr struct{}

func (groupsErr) GetUserGroupMembersContext(context.Context, string, ...slack.GetUserGroupMembersOption) ([]string, error) {
	return nil, errors.New("slack: ratelimited")
}
