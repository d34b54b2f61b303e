package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/slackdrive"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/slacktest"
)

// ownerStageDefinition: no self-attestation, managers for 7 days (none
// answers, so everything is kept by the no-decision rule), then every
// app's owner, org.Users[3], for 5 days.
const ownerStageDefinition = `name: Quarterly
owner: %s
escalation: {after: 30d}
stages:
  self_attestation: {enabled: false}
  manager: {duration: 7d}
  app_owner:
    enabled: true
    duration: 5d
    owners: {%s}
`

// TestOwnerStageThroughSlack runs the app-owner stage through the fake
// Slack, over Socket Mode and over signed HTTP request URLs: after the manager stage the owner gets one form per app in a DM,
// grouped by team; someone else's click on it is refused; the owner
// marks one person Revoke and keeps the rest of the page; the close plans
// that removal and keeps the others, decided by the owner; a click on the
// form after the close is refused and records nothing.
func TestOwnerStageThroughSlack(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) { ownerStageThroughSlack(t, tr) })
	}
}

func ownerStageThroughSlack(t *testing.T, tr transport) {
	var owner oktatest.User
	r := newRigWith(t, tr, func(org *oktatest.Org) string {
		owner = org.Users[3]
		apps := make([]string, 0, len(org.Apps))
		for _, a := range org.Apps {
			apps = append(apps, fmt.Sprintf("%q: [%s]", a.Label, owner.Email))
		}
		return fmt.Sprintf(ownerStageDefinition, org.Users[1].Email, strings.Join(apps, ", "))
	})
	outsider := r.slackOf[r.org.Users[len(r.org.Users)-1].ID]
	if got := r.slash(r.admin, "start quarterly"); !strings.Contains(got, "Launched campaign 1") {
		t.Fatalf("start: %q", got)
	}
	if c, _ := r.st.GetCampaign(r.ctx, 1); c.State != campaign.StateStage2 {
		t.Fatalf("state = %s, want stage2", c.State)
	}
	r.clock.Advance(7*24*time.Hour + time.Minute)
	if err := r.eng.Tick(r.ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.st.GetCampaign(r.ctx, 1); c.State != campaign.StateStage3 {
		t.Fatalf("state = %s, want stage3", c.State)
	}

	// The revoked case must make an Okta operation: a direct assignment
	// no group also grants, of someone other than the owner.
	cases, err := r.st.Cases(r.ctx, 1, campaign.CaseQuery{Kind: campaign.KindApp})
	if err != nil {
		t.Fatal(err)
	}
	var target campaign.CaseRecord
	for _, cs := range cases {
		if cs.Direct && len(cs.ViaGroups) == 0 && cs.UserID != owner.ID {
			target = cs
			break
		}
	}
	if target.ID == 0 {
		t.Fatal("the synthetic org has no direct assignment to revoke")
	}
	block := "case:" + itoa(target.ID)
	var form slacktest.Message
	r.eventually("the owner's form for "+target.Label+" delivered", func() bool {
		for _, m := range reviewerForms(r.dm(owner.ID), "owner_submit") {
			if slices.Contains(slackdrive.CaseBlocks(m), block) {
				form = m
				return true
			}
		}
		return false
	})
	body := string(form.Blocks)
	for _, want := range []string{"App owner review: " + target.Label, "owner_keep_all", "Submit", "Manager: *no decision*", ":busts_in_silhouette:"} {
		if !strings.Contains(body, want) {
			t.Fatalf("owner form lacks %q: %s", want, body)
		}
	}
	onPage := slackdrive.CaseBlocks(form)

	r.click(outsider, form, "owner_keep_all", nil)
	r.eventually("the outsider refused", func() bool { return len(r.ephemeralTo(outsider.ID)) > 0 })

	r.click(r.slackOf[owner.ID], form, "owner_keep_all", map[string]string{block: "revoke"})
	r.eventually("the form replaced by the decisions", func() bool {
		for _, m := range r.dm(owner.ID) {
			if m.TS == form.TS {
				return m.Edited > 0 && strings.Contains(string(m.Blocks), "Your decisions on")
			}
		}
		return false
	})
	events, _ := r.st.Events(r.ctx, 1)
	decided := map[int64]string{}
	for _, e := range events {
		if e.Type == "case.answered" && e.Detail["stage"] == "stage3" {
			if e.Actor.UserID != owner.ID {
				t.Fatalf("an owner decision recorded for %s", e.Actor.UserID)
			}
			decided[e.CaseID], _ = e.Detail["decision"].(string)
		}
	}
	if decided[target.ID] != "revoke" || len(decided) != len(onPage) {
		t.Fatalf("decisions %v: want revoke on %d and keep on the rest of the page's %d", decided, target.ID, len(onPage))
	}

	// The owner's App Home lists what is still open; Open posts those
	// forms again.
	ownerSlack := r.slackOf[owner.ID]
	id := r.slack.SendEvent(map[string]any{"type": "app_home_opened", "user": ownerSlack.ID, "channel": "D0", "tab": "home",
		"event_ts": "1700000000.000100"})
	if _, ok := r.slack.WaitAck(id, patience); !ok {
		t.Fatal("app_home_opened not acked")
	}
	var homeID string
	r.eventually("the owner's Home published", func() bool {
		for _, v := range r.slack.Views() {
			if v.Kind == "home" && v.UserID == ownerSlack.ID && strings.Contains(string(v.JSON), "who keeps the apps you own") {
				homeID = v.ViewID
				return true
			}
		}
		return false
	})
	payload, err := r.slack.HomeBlockActions(ownerSlack, homeID, []slacktest.Action{{ActionID: "open_review"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.slack.WaitAck(r.slack.SendInteraction(payload), patience); !ok {
		t.Fatal("Home click not acked")
	}
	r.eventually("the owner's forms posted again", func() bool {
		for _, m := range reviewerForms(r.dm(owner.ID), "owner_submit") {
			if strings.Contains(outboxKey(m), ":home") {
				return true
			}
		}
		return false
	})

	if got := r.slash(r.admin, "close 1"); !strings.Contains(got, "is closed") {
		t.Fatalf("close: %q", got)
	}
	plan, err := r.st.Plan(r.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plan, func(p campaign.PlanItem) bool {
		return p.Kind == campaign.OpUnassignApp && p.UserID == target.UserID && p.AppID == target.EntitlementID
	}) {
		t.Fatalf("the plan lacks the owner's removal of %s from %s: %+v", target.UserID, target.Label, plan)
	}
	after, _ := r.st.Cases(r.ctx, 1, campaign.CaseQuery{Kind: campaign.KindApp})
	for _, cs := range after {
		want := ""
		switch d := decided[cs.ID]; {
		case d == "revoke":
			want = campaign.OutcomeRevoked
		case d == "keep":
			want = campaign.OutcomeKept
		default:
			continue
		}
		if cs.Outcome != want {
			t.Errorf("case %d: outcome %q, want %q", cs.ID, cs.Outcome, want)
		}
	}

	// Another app's form, still open in the DM, submitted after the close
	// is refused, and so is "Edit answers" on the answered one; nothing
	// is recorded.
	var stale slacktest.Message
	for _, m := range reviewerForms(r.dm(owner.ID), "owner_submit") {
		if m.TS != form.TS {
			stale = m
		}
	}
	if stale.TS == "" {
		t.Fatal("the owner got a single form; the org should give them several apps")
	}
	before := len(events)
	staleChoice := map[string]string{}
	for _, id := range slackdrive.CaseBlocks(stale) {
		staleChoice[id] = "revoke"
	}
	refusals := func() int {
		n := 0
		for _, e := range r.ephemeralTo(r.slackOf[owner.ID].ID) {
			if strings.Contains(e, "closed") {
				n++
			}
		}
		return n
	}
	r.click(r.slackOf[owner.ID], stale, "owner_submit", staleChoice)
	r.eventually("the late submit refused", func() bool { return refusals() == 1 })
	var answered slacktest.Message
	for _, m := range r.dm(owner.ID) {
		if m.TS == form.TS {
			answered = m
		}
	}
	r.click(r.slackOf[owner.ID], answered, "edit_answers", nil)
	r.eventually("the late edit refused", func() bool { return refusals() == 2 })
	now, _ := r.st.Events(r.ctx, 1)
	for _, e := range now[before:] {
		if e.Type == "case.answered" {
			t.Fatalf("a decision recorded after the close: %+v", e)
		}
	}
}
