package handlers_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/slackrec"
)

// These tests drive the Handler through the API the bot and the app use,
// against a real engine over hand-written fakes, so they state issue 10's
// defects in terms that hold for any arrangement of the package.

// hostile is data an attacker controls: an Okta display name or login,
// an event field, a campaign name.
const hostile = "<!channel> <https://evil.example|Click here> & <@U0BOSS>"

// regStore is the handlers.Store of these tests: an outbox that records
// and a one-user Slack map; any other method panics (nil interface).
type regStore struct {
	handlers.Store
	mu    sync.Mutex
	items []slackrec.OutboxItem
	users map[string]slackrec.User // by Slack id
}

func (s *regStore) Enqueue(_ context.Context, items ...slackrec.OutboxItem) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, items...)
	return len(items), nil
}

func (s *regStore) MarkHandled(context.Context, string, time.Time) (bool, error) { return true, nil }

func (s *regStore) SlackUserBySlack(_ context.Context, id string) (slackrec.User, error) {
	if u, ok := s.users[id]; ok {
		return u, nil
	}
	return slackrec.User{}, campaign.ErrNotFound
}

func (s *regStore) SnapshotApps(context.Context, int64) ([]campaign.App, error) { return nil, nil }

func (s *regStore) SnapshotGroupNames(context.Context, int64) (map[string]string, error) {
	return map[string]string{}, nil
}

func (s *regStore) UserUsage(context.Context, int64, string) (map[string]time.Time, error) {
	return map[string]time.Time{}, nil
}

// texts returns every text queued: plain texts and the blocks' JSON.
func (s *regStore) texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, it := range s.items {
		out = append(out, it.Payload.Text, string(it.Payload.Blocks))
	}
	return out
}

// regCampaigns is the campaign.Store of these tests: one stage-2
// campaign, its users and cases; any other method panics.
type regCampaigns struct {
	campaign.Store
	c     campaign.Campaign
	users []campaign.User
	cases []campaign.CaseRecord
}

func (s *regCampaigns) GetCampaign(context.Context, int64) (*campaign.Campaign, error) {
	c := s.c
	return &c, nil
}

func (s *regCampaigns) FindUser(_ context.Context, _ int64, key string) (campaign.User, error) {
	for _, u := range s.users {
		if u.ID == key || strings.EqualFold(u.Email, key) {
			return u, nil
		}
	}
	return campaign.User{}, campaign.ErrNotFound
}

// FindUsers and LatestSnapshot serve the engine's identity checks.
func (s *regCampaigns) FindUsers(_ context.Context, _ int64, key string) ([]campaign.User, error) {
	var out []campaign.User
	for _, u := range s.users {
		if u.ID == key || strings.EqualFold(u.Email, key) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (s *regCampaigns) LatestSnapshot(context.Context) (campaign.SnapshotInfo, error) {
	return campaign.SnapshotInfo{ID: s.c.SnapshotID}, nil
}

func (s *regCampaigns) Cases(_ context.Context, _ int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error) {
	var out []campaign.CaseRecord
	for _, cs := range s.cases {
		if q.ID != 0 && cs.ID != q.ID || q.UserID != "" && cs.UserID != q.UserID || q.ReviewerID != nil && cs.ReviewerID != *q.ReviewerID {
			continue
		}
		out = append(out, cs)
	}
	return out, nil
}

func (s *regCampaigns) Plan(context.Context, int64) ([]campaign.PlanItem, error) { return nil, nil }
func (s *regCampaigns) Approvals(context.Context, int64) ([]campaign.Approval, error) {
	return nil, nil
}

// regSlack records the views opened; group membership is empty.
type regSlack struct {
	handlers.SlackAPI
	mu     sync.Mutex
	opened []string
}

func (s *regSlack) OpenViewContext(_ context.Context, _ string, v slack.ModalViewRequest) (*slack.ViewResponse, error) {
	raw, _ := json.Marshal(v)
	s.mu.Lock()
	s.opened = append(s.opened, string(raw))
	s.mu.Unlock()
	return &slack.ViewResponse{}, nil
}

func (s *regSlack) GetUserGroupMembersContext(context.Context, string, ...slack.GetUserGroupMembersOption) ([]string, error) {
	return nil, nil
}

var regNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// regFixture is a stage-2 campaign: Carla (00uCF) is reviewed by Maria
// (00uMGR) for Jira and by someone else for AWS Production; Rick (00uRICK,
// Slack URICK) reviews nobody's cases.
func regFixture(t *testing.T) (*handlers.Handler, *regStore, *regCampaigns, *regSlack) {
	t.Helper()
	def, err := campaign.ParseDefinition("q.yaml", []byte("name: Quarterly\n"))
	if err != nil {
		t.Fatal(err)
	}
	cs := &regCampaigns{
		c: campaign.Campaign{ID: 1, Name: "Quarterly", State: campaign.StateStage2, SnapshotID: 1, Definition: def,
			Stage1Ends: regNow.Add(-24 * time.Hour), Deadline: regNow.Add(7 * 24 * time.Hour)},
		users: []campaign.User{
			{ID: "00uCF", Email: "carla@example.com", FirstName: "Carla", LastName: "Fuentes", Status: "ACTIVE"},
			{ID: "00uMGR", Email: "maria@example.com", FirstName: "Maria", LastName: "Lopez", Status: "ACTIVE"},
			{ID: "00uRICK", Email: "rick@example.com", FirstName: "Rick", LastName: "Stone", Status: "ACTIVE"},
			{ID: "00uOTHER", Email: "olga@example.com", FirstName: "Olga", LastName: "Berg", Status: "ACTIVE"},
		},
		cases: []campaign.CaseRecord{
			{ID: 11, CampaignID: 1, UserID: "00uCF", Kind: campaign.KindApp, EntitlementID: "0oaAWS", Label: "AWS Production",
				ReviewerID: "00uOTHER", MemberDecision: "keep"},
			{ID: 12, CampaignID: 1, UserID: "00uCF", Kind: campaign.KindApp, EntitlementID: "0oaJIRA", Label: "Jira",
				ReviewerID: "00uMGR", MemberDecision: "keep"},
		},
	}
	st := &regStore{users: map[string]slackrec.User{
		"URICK": {OktaUserID: "00uRICK", Email: "rick@example.com", SlackID: "URICK"},
		"UMGR":  {OktaUserID: "00uMGR", Email: "maria@example.com", SlackID: "UMGR"},
	}}
	api := &regSlack{}
	eng := &campaign.Engine{Store: cs, Now: func() time.Time { return regNow }}
	h := &handlers.Handler{Engine: eng, Store: st, Campaign: cs, API: api, Log: zerolog.New(zerolog.NewTestWriter(t)),
		Now: func() time.Time { return regNow }, Settings: handlers.Settings{ApprovalsChannel: "CIAM", Command: "/access-review"}}
	eng.Notifier = h
	return h, st, cs, api
}

// click is a block_actions payload: user presses actionID (value) in a
// DM, with decisions for the given case block ids.
func click(user, actionID, value string, decisions map[string]string) slack.InteractionCallback {
	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, TriggerID: "trig-" + user + actionID,
		User: slack.User{ID: user}, Container: slack.Container{ChannelID: "D0" + user}}
	cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: actionID, Value: value}}
	if len(decisions) > 0 {
		cb.BlockActionState = &slack.BlockActionStates{Values: map[string]map[string]slack.BlockAction{}}
		for block, v := range decisions {
			cb.BlockActionState.Values[block] = map[string]slack.BlockAction{"decision": {SelectedOption: slack.OptionBlockObject{Value: v}}}
		}
	}
	return cb
}

// Issue 10: a refusal said "00uCF's case for AWS Production is assigned
// to another reviewer", and a forged reviewer form showed the member's
// name. A refusal now says only that the action is not the clicker's.
func TestRefusalsNameNobody(t *testing.T) {
	tests := []struct {
		name      string
		user      string
		decisions map[string]string
	}{
		{"forged form of a member the clicker does not review", "URICK", map[string]string{"case:11": "revoke"}},
		{"a case on the form was reassigned to another reviewer", "UMGR", map[string]string{"case:11": "revoke"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, st, _, _ := regFixture(t)
			h.BlockActions(context.Background(), click(tc.user, "reviewer_submit", "r:1:00uCF:1", tc.decisions), "sha")
			var eph []string
			for _, it := range st.items {
				if it.Kind == slackrec.KindEphemeral {
					eph = append(eph, it.Payload.Text)
				}
			}
			if len(eph) != 1 {
				t.Fatalf("ephemeral answers = %q, want one refusal", eph)
			}
			for _, leak := range []string{"00uCF", "AWS Production", "00uOTHER", "another reviewer", "olga"} {
				if strings.Contains(eph[0], leak) {
					t.Errorf("refusal %q names %q", eph[0], leak)
				}
			}
			if tc.user == "URICK" {
				for _, text := range st.texts() {
					if strings.Contains(text, "Carla") || strings.Contains(text, "carla@") {
						t.Errorf("a forged form showed the member: %s", text)
					}
				}
			}
		})
	}
}

// Issue 10: the delegate modal showed any member's name and email for a
// forged button value. It opens only for the member's reviewer.
func TestDelegateModalOnlyForTheMembersReviewer(t *testing.T) {
	tests := []struct {
		name, user string
		opens      bool
	}{
		{"forged by someone who reviews nobody", "URICK", false},
		{"the member's reviewer", "UMGR", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, st, _, api := regFixture(t)
			h.BlockActions(context.Background(), click(tc.user, "delegate", "r:1:00uCF:1", nil), "sha")
			if got := len(api.opened) == 1; got != tc.opens {
				t.Fatalf("modal opened = %v (%q), want %v", got, api.opened, tc.opens)
			}
			if tc.opens && !strings.Contains(api.opened[0], "Carla") {
				t.Errorf("the reviewer's modal does not name the member: %s", api.opened[0])
			}
			for _, text := range st.texts() {
				if strings.Contains(text, "Carla") || strings.Contains(text, "carla@") {
					t.Errorf("a refusal named the member: %s", text)
				}
			}
		})
	}
}

// Issue 10: reminders, cancel notices, risk alerts and the unmapped-users
// notice were posted as plain text built from names and event fields, so
// "<!channel>" and "<https://evil|Click here>" acted in DMs and channels.
func TestTextFromDataIsEscaped(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		send func(h *handlers.Handler) error
	}{
		{"reminder", func(h *handlers.Handler) error {
			return h.Notify(ctx, campaign.Notification{Kind: campaign.NoteReminder, To: "00uCF", CampaignID: 1, Open: 2, Deadline: regNow})
		}},
		{"manager progress reminder", func(h *handlers.Handler) error {
			return h.Notify(ctx, campaign.Notification{Kind: campaign.NoteReminder, To: "00uMGR", CampaignID: 1, Answered: 1, Total: 3})
		}},
		{"cancel notice", func(h *handlers.Handler) error {
			return h.Notify(ctx, campaign.Notification{Kind: campaign.NoteCancelled, CampaignID: 1, Text: "grant by " + hostile + " was undone"})
		}},
		{"remediation progress", func(h *handlers.Handler) error {
			return h.Notify(ctx, campaign.Notification{Kind: campaign.NoteRemediating, CampaignID: 1, Text: "removed " + hostile})
		}},
		{"plan decided", func(h *handlers.Handler) error {
			return h.Notify(ctx, campaign.Notification{Kind: campaign.NoteApproved, CampaignID: 1, Text: hostile})
		}},
		{"risk alert", func(h *handlers.Handler) error {
			return h.PostTo(ctx, "CSEC", "risk-alert:1", ":rotating_light: Okta rates "+hostile+"'s risk HIGH (event e1).")
		}},
		{"unmapped users notice", func(h *handlers.Handler) error {
			return h.NotifyIAM(ctx, "unmapped:1", "2 active Okta users have no Slack account: "+hostile+", bob@example.com")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, st, cs, _ := regFixture(t)
			cs.c.Name = "Q4 " + hostile
			if err := tc.send(h); err != nil {
				t.Fatal(err)
			}
			if len(st.items) == 0 {
				t.Fatal("nothing queued")
			}
			for _, it := range st.items {
				text := it.Payload.Text
				for _, raw := range []string{"<!channel>", "<https://evil", "<@U0BOSS>"} {
					if strings.Contains(text, raw) {
						t.Errorf("%s: text acts on %q: %q", it.Key, raw, text)
					}
				}
			}
		})
	}
}
