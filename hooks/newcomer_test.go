package hooks_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/internal/hookevent"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/storetest"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/store"
)

var _ hooks.Lookup = (*okta.Client)(nil)

// newcomerRig is a store holding a snapshot of org, the fake Okta serving
// the same org (which moves on after the snapshot), and triggers reading
// it on the read token, with the IAM team's notices recorded.
type newcomerRig struct {
	org      *oktatest.Org
	okta     *oktatest.Server
	st       *store.Store
	tr       *hooks.Triggers
	p        *hooks.Processor
	critical oktatest.App
	notices  map[string]string // key -> text told to the IAM team
}

func newNewcomerRig(t *testing.T) *newcomerRig {
	t.Helper()
	org := oktatest.Generate(oktatest.Params{Seed: 9, Users: 60, Apps: 6, Groups: 8})
	st := storetest.WithOrg(t, org) // the last sync
	srv := oktatest.NewServer(org)
	t.Cleanup(srv.Close)
	client, err := okta.New(context.Background(), okta.Options{OrgURL: srv.URL, Token: srv.Token, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	r := &newcomerRig{org: org, okta: srv, st: st, critical: org.Apps[0], notices: map[string]string{}}
	rules := campaign.RiskRules{Apps: map[string]string{r.critical.Label: "critical", "Treasury": "critical"},
		Groups: map[string]string{"Domain Admins": "high"}}
	eng := &campaign.Engine{Store: st, Risk: rules.Level, Now: func() time.Time { return org.Now }}
	r.tr = &hooks.Triggers{Engine: eng, Risk: rules.Level, IAMReviewers: []string{org.Users[0].Email}, Directory: client,
		Unreviewable: func(_ context.Context, key, text string) error { r.notices[key] = text; return nil }}
	r.p = &hooks.Processor{Store: st, Handle: r.tr.Handle, Failed: r.tr.Failed, Log: zerolog.Nop()}
	return r
}

// deliver sends one event through the real handler and processes it.
func (r *newcomerRig) deliver(t *testing.T, event string) {
	t.Helper()
	w := call(&hooks.Handler{Secret: secret, Store: r.st}, http.MethodPost, secret, deliveryBody(event), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("delivery = %d %s", w.Code, w.Body)
	}
	if _, err := r.p.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// review returns the review an event opened, or nil.
func (r *newcomerRig) review(t *testing.T, uuid string) (*campaign.Campaign, []campaign.CaseRecord) {
	t.Helper()
	c, err := r.st.CampaignByTrigger(context.Background(), "event:"+uuid)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	cases, err := r.st.Cases(context.Background(), c.ID, campaign.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return c, cases
}

// A critical app granted to an account created after the last sync opens
// a review with the account's manager: the user is read from Okta on
// demand (it failed five times and was dropped with a log line).
func TestGrantToUserCreatedAfterSnapshot(t *testing.T) {
	r := newNewcomerRig(t)
	manager := r.org.Users[3]
	newcomer := oktatest.User{ID: "00unewcomer00000001", Login: "nina.new@example.com", Email: "nina.new@example.com",
		FirstName: "Nina", LastName: "New", Department: manager.Department, ManagerID: manager.ID}
	if err := r.okta.CreateUser(newcomer); err != nil {
		t.Fatal(err)
	}
	if err := r.okta.AddAssignment(r.critical.ID, newcomer.ID); err != nil {
		t.Fatal(err)
	}
	r.deliver(t, grantEvent("ev-newcomer", "application.user_membership.add", newcomer.ID, "AppInstance", r.critical.ID, r.critical.Label))

	c, cases := r.review(t, "ev-newcomer")
	if c == nil {
		ev, _ := r.st.HookEvent(context.Background(), "ev-newcomer")
		t.Fatalf("no review opened; event %s: %s", ev.State, ev.LastError)
	}
	if c.State != campaign.StateStage2 || !strings.Contains(c.Name, newcomer.Email) {
		t.Fatalf("review = %q in %s", c.Name, c.State)
	}
	if len(cases) != 1 || cases[0].UserID != newcomer.ID || cases[0].EntitlementID != r.critical.ID ||
		cases[0].ReviewerID != manager.ID || cases[0].ManagerID != manager.ID || cases[0].Risk != "critical" {
		t.Fatalf("cases = %+v; want the newcomer's grant, reviewed by %s", cases, manager.ID)
	}
	if ev, _ := r.st.HookEvent(context.Background(), "ev-newcomer"); ev.State != hookevent.StateDone || ev.Attempts != 1 {
		t.Fatalf("event = %s after %d attempts; want done at the first", ev.State, ev.Attempts)
	}
	if len(r.notices) != 0 {
		t.Fatalf("IAM told %v for a reviewed grant", r.notices)
	}
}

// An app created after the sync, named by id only in the event, is read
// from Okta for its label (risk rules name apps by label); a privileged
// group the same way.
func TestGrantOfEntitlementCreatedAfterSnapshot(t *testing.T) {
	r := newNewcomerRig(t)
	user := r.org.Users[9]
	if err := r.okta.CreateApp(oktatest.App{ID: "0oatreasury000000001", Name: "treasury", Label: "Treasury", SignOnMode: "SAML_2_0"}); err != nil {
		t.Fatal(err)
	}
	if err := r.okta.CreateGroup(oktatest.Group{ID: "00gdomainadmins00001", Name: "Domain Admins"}); err != nil {
		t.Fatal(err)
	}
	r.deliver(t, grantEvent("ev-app", "application.user_membership.add", user.ID, "AppInstance", "0oatreasury000000001", ""))
	r.deliver(t, grantEvent("ev-group", "group.user_membership.add", user.ID, "UserGroup", "00gdomainadmins00001", ""))
	for uuid, label := range map[string]string{"ev-app": "Treasury", "ev-group": "Domain Admins"} {
		c, cases := r.review(t, uuid)
		if c == nil || len(cases) != 1 || cases[0].Label != label || cases[0].UserID != user.ID {
			t.Fatalf("%s: review %v, cases %+v; want one case of %q", uuid, c, cases, label)
		}
	}
}

// A grant to a user who exists neither in the snapshot nor in Okta (gone
// again, or a forged id) cannot be reviewed: the event fails at its first
// attempt and the IAM team is told once, naming the user and the app.
func TestUnreviewableGrantTellsIAM(t *testing.T) {
	r := newNewcomerRig(t)
	r.deliver(t, grantEvent("ev-ghost", "application.user_membership.add", "00ughost000000000001", "AppInstance", r.critical.ID,
		r.critical.Label))
	if c, _ := r.review(t, "ev-ghost"); c != nil {
		t.Fatalf("a review was opened for a user who does not exist: %+v", c)
	}
	ev, err := r.st.HookEvent(context.Background(), "ev-ghost")
	if err != nil || ev.State != hookevent.StateFailed || ev.Attempts != 1 {
		t.Fatalf("event = %s after %d attempts, %v; want failed at the first", ev.State, ev.Attempts, err)
	}
	text, ok := r.notices["unreviewable:ev-ghost"]
	if !ok || len(r.notices) != 1 {
		t.Fatalf("IAM notices = %v; want one for ev-ghost", r.notices)
	}
	for _, want := range []string{"ev-ghost", "00ughost000000000001", r.critical.ID, "admin@example.com", "by hand"} {
		if !strings.Contains(text, want) {
			t.Errorf("notice %q does not name %q", text, want)
		}
	}
}

// When Okta cannot be reached the event is retried, and once the
// attempts are spent the IAM team is told; a notice that cannot be
// queued keeps the event to report it again.
func TestUnreviewableAfterRetries(t *testing.T) {
	r := newNewcomerRig(t)
	r.okta.Close() // Okta unreachable: every lookup is transient
	client, err := okta.New(context.Background(), okta.Options{OrgURL: r.okta.URL, Token: r.okta.Token, MaxRetries: -1,
		Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	r.tr.Directory = client
	down := true
	r.tr.Unreviewable = func(_ context.Context, key, text string) error {
		if down {
			return errors.New("outbox unavailable")
		}
		r.notices[key] = text
		return nil
	}
	now := time.Now()
	r.p.Now = func() time.Time { return now }
	r.p.MaxAttempts = 2
	r.deliver(t, grantEvent("ev-offline", "application.user_membership.add", "00uoffline0000000001", "AppInstance", r.critical.ID,
		r.critical.Label))
	steps := []struct {
		name  string
		down  bool
		state string
	}{
		{"second attempt fails, notice refused", true, hookevent.StatePending},
		{"reported once the notice is queued", false, hookevent.StateFailed},
	}
	for _, s := range steps {
		down = s.down
		if _, err := r.p.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		ev, _ := r.st.HookEvent(context.Background(), "ev-offline")
		if ev.State != s.state {
			t.Fatalf("%s: event %s (%s); want %s", s.name, ev.State, ev.LastError, s.state)
		}
	}
	text := r.notices["unreviewable:ev-offline"]
	if !strings.Contains(text, "00uoffline0000000001") || !strings.Contains(text, "connection refused") || strings.Contains(text, "not reported") {
		t.Fatalf("IAM notices = %v; want the offline event with the Okta error that stopped it", r.notices)
	}
}
