package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
	"github.com/attestbot/attest/internal/slacktest"
)

// snapshotOnly is the campaign.Store RefreshUsers reads: one snapshot.
// Other methods are not expected (the embedded nil interface panics).
type snapshotOnly struct {
	campaign.Store
	users []campaign.User
}

func (s *snapshotOnly) LatestSnapshot(context.Context) (campaign.SnapshotInfo, error) {
	return campaign.SnapshotInfo{ID: 1}, nil
}

func (s *snapshotOnly) LoadSnapshot(context.Context, int64) (*campaign.Snapshot, error) {
	return &campaign.Snapshot{ID: 1, Users: s.users}, nil
}

// mapStore is the handlers Store RefreshUsers writes: the Slack user map.
type mapStore struct {
	Store
	mu  sync.Mutex
	all []slackrec.User
}

func (m *mapStore) ReplaceSlackUsers(_ context.Context, users []slackrec.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.all = append([]slackrec.User(nil), users...)
	return nil
}

func (m *mapStore) SlackUserBySlack(_ context.Context, id string) (slackrec.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.all {
		if u.SlackID == id {
			return u, nil
		}
	}
	return slackrec.User{}, fmt.Errorf("no Slack user %s: %w", id, campaign.ErrNotFound)
}

// mapRig is a Handler over the fake Slack (UALICE alice@, UBOB bob@) and
// a snapshot whose users the test sets.
func mapRig(t *testing.T, users ...campaign.User) (*Handler, *mapStore) {
	t.Helper()
	s := slacktest.New()
	t.Cleanup(s.Close)
	s.AddUser(slacktest.User{ID: "UALICE", Name: "alice", Email: "alice@example.com"})
	s.AddUser(slacktest.User{ID: "UBOB", Name: "bob", Email: "Bob@Example.com"})
	st := &mapStore{}
	return &Handler{Store: st, Campaign: &snapshotOnly{users: users}, API: s.Client(), Log: zerolog.Nop()}, st
}

func active(id, login, email string) campaign.User {
	return campaign.User{ID: id, Login: login, Email: email, Status: campaign.StatusActive}
}

// Two active Okta users with one email: a Slack user must resolve to
// exactly one Okta user, so neither is mapped; both are listed as
// unmapped with the reason, and the Slack user is refused as ambiguous.
// The old code mapped both to UBOB and the store kept the first silently.
func TestSharedEmailMapsNeither(t *testing.T) {
	tests := []struct {
		name     string
		users    []campaign.User
		unmapped int
	}{
		{"same email", []campaign.User{active("00uB1", "bob1", "bob@example.com"), active("00uB2", "bob2", "BOB@example.com")}, 2},
		{"one's login is the other's email", []campaign.User{active("00uB1", "bob1", "bob@example.com"), active("00uB2", "bob@example.com", "b2@example.com")}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, st := mapRig(t, append(tc.users, active("00uA", "alice", "alice@example.com"))...)
			n, unmapped, err := h.RefreshUsers(context.Background())
			if err != nil || n != 1 || len(unmapped) != tc.unmapped {
				t.Fatalf("RefreshUsers = %d, %q, %v", n, unmapped, err)
			}
			for _, u := range unmapped {
				if !strings.Contains(u, "match the same Slack account; none is mapped") {
					t.Errorf("unmapped entry %q gives no reason", u)
				}
			}
			for _, u := range st.all {
				if u.SlackID == "UBOB" {
					t.Fatalf("UBOB mapped to %s", u.OktaUserID)
				}
			}
			_, err = h.Inbound().Access.Actor(context.Background(), "UBOB", slacktest.TeamID)
			if campaign.ErrorCode(err) != campaign.EForbidden || !strings.Contains(campaign.ErrorMessage(err), "More than one Okta user") {
				t.Fatalf("UBOB acts: %v", err)
			}
			if _, err := h.Inbound().Access.Actor(context.Background(), "UALICE", slacktest.TeamID); err != nil {
				t.Fatalf("Alice is mapped: %v", err)
			}
		})
	}
}

// The first successful map opens the gate AwaitUserMap set, and a user
// handle in the lists resolves from the map's users.list.
func TestRefreshUsersOpensTheGate(t *testing.T) {
	h, _ := mapRig(t, active("00uA", "alice", "alice@example.com"))
	h.Settings.Approvers = []string{"@alice"}
	h.AwaitUserMap()
	if h.Inbound().Access.Mapped() {
		t.Fatal("mapped before RefreshUsers")
	}
	if _, _, err := h.RefreshUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !h.Inbound().Access.Mapped() {
		t.Fatal("RefreshUsers did not open the gate")
	}
	if ok, err := h.Inbound().Access.IsApprover(context.Background(), "UALICE"); !ok || err != nil {
		t.Fatalf("@alice: %v, %v", ok, err)
	}
}

// A configured admin whose Slack account matches no Okta user is refused
// saying why: attest acts on Okta identities. The old refusal only said
// the account was not linked.
func TestAdminWithoutOktaUserIsToldWhy(t *testing.T) {
	r := newInbound(t)
	delete(r.users.users, "UADMIN") // in S0IAM, but no Okta user has their email
	reply := r.slash("UADMIN", "close 7")
	want := "your Slack account's email matches no Okta user; attest acts on Okta identities"
	if !strings.Contains(reply.Text, want) || r.eng.has("Close") {
		t.Fatalf("reply %q; engine %s", reply.Text, r.eng.String())
	}
}

// RefreshUsers names, in the log, each admin or approver listed by user
// id whose Slack account matches no Okta user.
func TestUnlinkedListedAdminIsLogged(t *testing.T) {
	h, _ := mapRig(t, active("00uA", "alice", "alice@example.com"))
	var log strings.Builder
	h.Log = zerolog.New(&log)
	h.Settings.Admins = []string{"UALICE", "UBOB", "S0IAMTEAM"}
	if _, _, err := h.RefreshUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), `"slack_user":"UBOB"`) || strings.Contains(log.String(), `"slack_user":"UALICE"`) {
		t.Fatalf("log:\n%s", log.String())
	}
}
