package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slacktest"
)

// fakeAuth is AuthTester: the installed identity auth.test reports.
type fakeAuth struct{ team, enterprise string }

func (f fakeAuth) AuthTestContext(context.Context) (*slack.AuthTestResponse, error) {
	return &slack.AuthTestResponse{TeamID: f.team, EnterpriseID: f.enterprise, UserID: "U0BOT", BotID: "B0BOT"}, nil
}

// click delivers an approve click from UAPP with the given team and
// enterprise, and returns the actor the engine saw ("" when none).
func clickFrom(r *inboundRig, team, enterprise string) (seen *campaign.Actor) {
	r.eng.approve = func(id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
		seen = &a
		return &campaign.Campaign{ID: id, State: campaign.StateClosed, Definition: &campaign.Definition{}}, 1, nil
	}
	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, TriggerID: "trig-" + team + enterprise,
		User: slack.User{ID: "UAPP", TeamID: team}, Team: slack.Team{ID: team}, Container: slack.Container{ChannelID: "CIAM"}}
	cb.Enterprise.ID = enterprise
	cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: blocks.ActionPlanApprove, Value: "a:7:-:1", ActionTs: "1.2"}}
	r.x.BlockActions(context.Background(), cb, "sha")
	return seen
}

// A click from a team attest is not installed in (or, on Enterprise Grid,
// from another org) is refused; the team recorded is auth.test's, never
// the payload's. The old code took any team and recorded the payload's.
func TestClickTeamIsChecked(t *testing.T) {
	tests := []struct {
		name             string
		installed        fakeAuth
		team, enterprise string
		wantTeam         string // "" = refused
	}{
		{"installed workspace", fakeAuth{team: "T1"}, "T1", "", "T1"},
		{"another workspace", fakeAuth{team: "T1"}, "T9", "", ""},
		{"no team in the payload", fakeAuth{team: "T1"}, "", "", ""},
		{"grid: another workspace of the org records the verified team", fakeAuth{team: "T1", enterprise: "E1"}, "T2", "E1", "T1"},
		{"grid: another org", fakeAuth{team: "T1", enterprise: "E1"}, "T1", "E9", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.x.Access.Auth = tc.installed
			seen := clickFrom(r, tc.team, tc.enterprise)
			if tc.wantTeam == "" {
				if seen != nil || !strings.Contains(r.answered(t), "not installed in") {
					t.Fatalf("not refused: actor %+v, answer %q", seen, r.out.ephemerals)
				}
				return
			}
			if seen == nil || seen.SlackTeamID != tc.wantTeam {
				t.Fatalf("actor %+v, want team %s; answer %q", seen, tc.wantTeam, r.out.ephemerals)
			}
		})
	}
}

// The team is read from the fake Slack's auth.test once, then kept.
func TestInstalledTeamFromAuthTest(t *testing.T) {
	s := slacktest.New()
	t.Cleanup(s.Close)
	a := &Access{Users: &fakeUsers{}, Groups: s.Client()}
	for range 3 {
		team, err := a.CheckTeam(context.Background(), slacktest.TeamID, "")
		if err != nil || team != slacktest.TeamID {
			t.Fatalf("CheckTeam = %q, %v", team, err)
		}
	}
	if _, err := a.CheckTeam(context.Background(), "T0OTHER", ""); err == nil {
		t.Fatal("another team accepted")
	}
	if n := len(s.Calls("auth.test")); n != 1 {
		t.Fatalf("auth.test called %d times, want once", n)
	}
}

// failingGroups is GroupMembers whose reads fail as Slack's 429 does.
type failingGroups struct{}

func (failingGroups) GetUserGroupMembersContext(context.Context, string, ...slack.GetUserGroupMembersOption) ([]string, error) {
	return nil, &slack.RateLimitedError{RetryAfter: time.Second}
}

// When the engine's approver check could not be made (429, nothing
// known), the clicker reads that the check could not be made, not that
// they may not approve. The old code said "You may not approve this plan".
func TestApproverCheckFailureIsSaid(t *testing.T) {
	r := newInbound(t)
	r.x.Access.Groups = failingGroups{}
	r.x.Access.Approvers = []string{"S0APPROVERS"}
	_, approver := r.x.Access.EngineChecks()
	var ctxSeen context.Context
	r.eng.approve = func(id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
		if !approver(ctxSeen, a) {
			return &campaign.Campaign{ID: id, State: campaign.StateClosed}, 0, fmt.Errorf("%s is not an approver: %w", a, campaign.ErrForbidden)
		}
		return &campaign.Campaign{ID: id, State: campaign.StateApproved, Definition: &campaign.Definition{}}, 1, nil
	}
	r.x.Engine = ctxEngine{fakeEngine: r.eng, seen: &ctxSeen}
	r.press("UAPP", blocks.ActionPlanApprove, "a:7:-:1", nil)
	got := r.answered(t)
	if !strings.Contains(got, "could not check") || strings.Contains(got, "may not approve") {
		t.Fatalf("answer %q", got)
	}
}

// ctxEngine hands the engine's context to the test's approve function, as
// the real engine passes it to its IsApprover check.
type ctxEngine struct {
	*fakeEngine
	seen *context.Context
}

func (e ctxEngine) Approve(ctx context.Context, id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
	*e.seen = ctx
	return e.fakeEngine.Approve(ctx, id, a)
}

// responseHook records what is posted to a response_url.
type responseHook struct {
	mu    sync.Mutex
	texts []string
}

func (h *responseHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m slack.WebhookMessage
	_ = json.NewDecoder(r.Body).Decode(&m)
	h.mu.Lock()
	h.texts = append(h.texts, m.Text)
	h.mu.Unlock()
}

func (h *responseHook) said() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.texts...)
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A click before the first user map is told at once that attest is
// starting (through its response_url), waits, and is answered once the
// map exists. The old code told the admin their account was not linked.
func TestClickBeforeTheMapWaitsForIt(t *testing.T) {
	hook := &responseHook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	r := newInbound(t)
	approver := r.users.users["UAPP"]
	delete(r.users.users, "UAPP") // not mapped yet
	r.x.Access.AwaitMap()
	r.eng.approve = func(id int64, _ campaign.Actor) (*campaign.Campaign, int, error) {
		return &campaign.Campaign{ID: id, State: campaign.StateClosed, Definition: &campaign.Definition{}}, 1, nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, TriggerID: "trig-early", ResponseURL: srv.URL + "/response/1",
			User: slack.User{ID: "UAPP", TeamID: "T1"}, Container: slack.Container{ChannelID: "CIAM"}}
		cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: blocks.ActionPlanApprove, Value: "a:7:-:1"}}
		r.x.BlockActions(context.Background(), cb, "sha")
	}()
	eventually(t, "the starting notice", func() bool { return len(hook.said()) == 1 })
	if said := hook.said()[0]; !strings.Contains(said, "attest is starting; your command will be answered in a moment") {
		t.Fatalf("notice %q", said)
	}
	if r.eng.has("Approve") {
		t.Fatal("the click was handled before the map existed")
	}
	r.users.users["UAPP"] = approver // the map is built...
	r.x.Access.MarkMapped()          // ...and announced
	<-done
	if !r.eng.has("Approve 7 by 00uAPP") || len(r.out.ephemerals) != 0 {
		t.Fatalf("after the map: engine %s; answers %q", r.eng.String(), r.out.ephemerals)
	}
}

// The wait is bounded: past MapWait the person is told attest is still
// starting, never that their account is not linked.
func TestMapWaitIsBounded(t *testing.T) {
	r := newInbound(t)
	r.x.Access.AwaitMap()
	r.x.Access.MapWait = 20 * time.Millisecond
	_, err := r.x.Access.Actor(context.Background(), "UADMIN", "T1")
	if !errors.Is(err, errStillStarting) {
		t.Fatalf("Actor before the map = %v", err)
	}
	if msg := campaign.ErrorMessage(err); !strings.Contains(msg, "still starting") || strings.Contains(msg, "not linked") {
		t.Fatalf("message %q", msg)
	}
}

// A slash command from another Enterprise Grid org is refused too; one
// from another workspace of the installed org acts, recorded under the
// verified team.
func TestSlashOrgIsChecked(t *testing.T) {
	tests := []struct {
		name, team, enterprise string
		refused                bool
	}{
		{"same org, other workspace", "T2", "E1", false},
		{"other org", "T1", "E9", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInbound(t)
			r.x.Access.Auth = fakeAuth{team: "T1", enterprise: "E1"}
			var seen *campaign.Actor
			r.eng.close = func(id int64, a campaign.Actor) (*campaign.Campaign, []campaign.PlanItem, error) {
				seen = &a
				return &campaign.Campaign{ID: id, State: campaign.StateClosed}, nil, nil
			}
			reply := r.x.Slash(context.Background(), slack.SlashCommand{Command: "/access-review", Text: "close 7", UserID: "UADMIN",
				TeamID: tc.team, EnterpriseID: tc.enterprise, TriggerID: "trig-" + tc.name})
			if tc.refused {
				if seen != nil || !strings.Contains(reply.Text, "not installed in") {
					t.Fatalf("not refused: %q", reply.Text)
				}
				return
			}
			if seen == nil || seen.SlackTeamID != "T1" {
				t.Fatalf("actor %+v; reply %q", seen, reply.Text)
			}
		})
	}
}
