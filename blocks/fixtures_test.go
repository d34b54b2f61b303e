package blocks

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// Fixed times keep the golden files stable.
var (
	t0       = time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)
	deadline = time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	signIn   = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
)

var (
	alice = Person{Name: "Alice Smith", Email: "alice@example.com", SlackID: "U0ALICE"}
	bob   = Person{Name: "Bob Jones", Email: "bob@example.com", SlackID: "U0BOB"}
	carol = Person{Name: "Carol <Admin>", Email: "carol@example.com"}
)

// entitlements returns n distinct entitlements with varied grants, usage,
// flags, risks and answers.
func entitlements(n int) []Entitlement {
	out := make([]Entitlement, n)
	for i := range out {
		e := Entitlement{
			CaseID:           int64(1000 + i),
			Kind:             "app",
			Label:            fmt.Sprintf("App %03d", i),
			SignInWindowDays: 90,
		}
		switch i % 4 {
		case 0:
			e.GrantedBy = []string{"direct"}
			e.LastSignIn = signIn
			e.LinkURL = fmt.Sprintf("https://example.okta.com/admin/app/app%03d", i)
			e.Current = ValueKeep
			e.MemberAnswer = ValueKeep
		case 1:
			e.GrantedBy = []string{"group Engineering", "group aws-admins"}
			e.Flags = []string{"unused_app"}
			e.Risk = "high"
			e.Current = ValueRevoke
			e.MemberAnswer = ValueRevoke
			e.MemberComment = "moved teams"
		case 2:
			e.Kind = "group"
			e.Label = fmt.Sprintf("grp-%03d", i)
			e.GrantedBy = []string{"direct", "group Everyone-Eng"}
			e.Flags = []string{"stale_login", "orphaned"}
			e.Risk = "critical"
			e.Current = ValueUnsure
			e.MemberAnswer = ValueUnsure
		case 3:
			e.GrantedBy = []string{"direct"}
			e.LastSignIn = signIn.AddDate(0, -1, 0)
			e.Risk = "low"
		}
		out[i] = e
	}
	return out
}

// memberPages builds every page of a member form over ents.
func memberPages(ents []Entitlement) [][]slack.Block {
	pages, _ := Paginate(len(ents))
	var out [][]slack.Block
	for p := 1; p <= pages; p++ {
		out = append(out, MemberFormBlocks(MemberForm{
			CampaignID: 42, Campaign: "Q4 access review", Deadline: deadline,
			Why: "SOX quarterly certification.", Entitlements: PageSlice(ents, p),
			Page: p, Pages: pages, Button: MemberFormRef(42, "00u7alice", p),
		}))
	}
	return out
}

// reviewerPages builds every page of a reviewer form over ents.
func reviewerPages(ents []Entitlement) [][]slack.Block {
	pages, _ := Paginate(len(ents))
	var out [][]slack.Block
	for p := 1; p <= pages; p++ {
		out = append(out, ReviewerFormBlocks(ReviewerForm{
			CampaignID: 42, Campaign: "Q4 access review", Deadline: deadline,
			Member: alice, Escalated: true, EscalatedFrom: "Bob Jones", DelegatedBy: "Dana",
			Entitlements: PageSlice(ents, p), Page: p, Pages: pages,
			BulkAllowed: true, Button: ReviewerFormRef(42, "00u7alice", p),
		}))
	}
	return out
}

// bigHome is an admin's App Home with more rows than fit.
func bigHome(pending, campaigns int) Home {
	h := Home{Admin: true}
	for i := 0; i < pending; i++ {
		role := "member"
		if i%2 == 1 {
			role = "reviewer"
		}
		h.Pending = append(h.Pending, Pending{
			CampaignID: int64(i/2 + 1), Campaign: fmt.Sprintf("Review %d", i/2+1), Role: role,
			Open: i + 1, Deadline: deadline, Button: HomeRef(int64(i/2+1), []string{HomeMember, HomeReviewer}[i%2]),
		})
	}
	for i := 0; i < campaigns; i++ {
		h.Campaigns = append(h.Campaigns, CampaignRow{
			CampaignID: int64(i + 1), Campaign: fmt.Sprintf("Review %d", i+1), State: "stage1",
			Stage1Answered: i, Stage1Total: 40, Stage2Decided: 0, Stage2Total: 20,
			Escalations: i % 3, Overdue: i % 5, Deadline: deadline,
			Remind: HomeRef(int64(i+1), HomeRemind), Close: HomeRef(int64(i+1), HomeClose),
		})
	}
	return h
}

// sampleApproval is a plan awaiting approval.
func sampleApproval() Approval {
	return Approval{
		CampaignID: 42,
		Campaign:   "Q4 access review",
		Launcher:   bob,
		Operations: map[string]int{"unassign_app": 30, "remove_group_member": 12},
		Users:      17,
		Apps:       9,
		TopApps:    []Count{{"Salesforce", 12}, {"AWS Production", 7}},
		Conflicts:  []string{"alice@example.com: group Engineering also grants Jira (kept)"},
		Manual:     []string{"bob@example.com: group ad-finance is mastered in AD"},
		Required:   2,
		Approvals:  []Decision{{By: alice, Decision: "approve", At: t0}},
		State:      PlanClosed,
		Button:     PlanRef(42),
	}
}

// asMaps returns blks as the JSON objects Slack receives.
func asMaps(t *testing.T, blks []slack.Block) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(blks))
	for i, b := range blks {
		m, err := asJSON(b)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		out[i] = m
	}
	return out
}

// buttons returns every button's text by action_id, from actions blocks
// and accessories alike.
func buttons(t *testing.T, blks []slack.Block) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range asMaps(t, blks) {
		var els []any
		els = append(els, list(m["elements"])...)
		if acc, ok := m["accessory"]; ok {
			els = append(els, acc)
		}
		for _, e := range els {
			em, _ := e.(map[string]any)
			if str(em["type"]) == "button" {
				out[str(em["action_id"])] = textOf(em["text"])
			}
		}
	}
	return out
}

// optionValues returns the values of an element's options, in order.
func optionValues(el map[string]any) []string {
	var vals []string
	for _, o := range list(el["options"]) {
		om, _ := o.(map[string]any)
		vals = append(vals, str(om["value"]))
	}
	return vals
}

// allText returns the JSON of blks, for substring checks.
func allText(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// mustValid fails the test when Validate reports anything.
func mustValid(t *testing.T, s Surface, blks []slack.Block) {
	t.Helper()
	if err := Validate(s, blks); err != nil {
		t.Fatalf("Validate(%s): %v", s, err)
	}
}

// longString returns n characters of s repeated.
func longString(s string, n int) string {
	return string([]rune(strings.Repeat(s, n))[:n])
}
