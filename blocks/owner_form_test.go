package blocks

import (
	"fmt"
	"strings"
	"testing"
)

// ownerRows returns n people keeping an app, in teams of three, with
// varied answers, grants, usage and flags.
func ownerRows(n int) []OwnerRow {
	out := make([]OwnerRow, n)
	for i := range out {
		r := OwnerRow{CaseID: int64(2000 + i), SignInWindowDays: 90,
			Member: Person{Name: fmt.Sprintf("Person %02d", i), Email: fmt.Sprintf("p%02d@example.com", i)},
			Team:   fmt.Sprintf("Sales · manager Manager %d", i/3), MemberAnswer: ValueKeep, ManagerAnswer: ValueKeep,
			ManagerBy: fmt.Sprintf("Manager %d", i/3)}
		switch i % 3 {
		case 0:
			r.GrantedBy, r.LastSignIn, r.Current = []string{"direct"}, signIn, ValueKeep
		case 1:
			r.GrantedBy, r.Flags, r.Risk = []string{"group Sales-EMEA"}, []string{"unused_app"}, "high"
			r.MemberAnswer, r.MemberComment, r.Current = ValueUnsure, "ask <@U0BOB> & co", ValueRevoke
		case 2:
			r.GrantedBy, r.Flags = []string{"direct", "group Everyone-Sales"}, []string{"stale_login"}
			r.MemberAnswer, r.ManagerAnswer, r.ManagerBy = "", "", ""
		}
		out[i] = r
	}
	return out
}

// TestOwnerFormRows: every person is a section routed to their case with
// Keep / Revoke, under a line for their team; both buttons carry the
// page's value; the member's and manager's answers are shown.
func TestOwnerFormRows(t *testing.T) {
	rows := ownerRows(5)
	ref := OwnerFormRef(42, "0oa1salesforce", 1)
	blks := OwnerFormBlocks(OwnerForm{CampaignID: 42, Campaign: "Q4", App: "Salesforce", People: 5, Rows: rows,
		Page: 1, Pages: 1, Button: ref})
	mustValid(t, Message, blks)
	maps := asMaps(t, blks)
	cases, teams := 0, 0
	for _, m := range maps {
		id := str(m["block_id"])
		if strings.HasPrefix(id, BlockCasePrefix) {
			cases++
			acc, _ := m["accessory"].(map[string]any)
			if got := optionValues(acc); strings.Join(got, ",") != "keep,revoke" || str(acc["action_id"]) != ActionDecision {
				t.Errorf("row %s offers %v via %v", id, got, acc["action_id"])
			}
		}
		if str(m["type"]) == "context" && strings.Contains(allText(t, m), "Sales · manager") {
			teams++
		}
	}
	if cases != 5 || teams != 2 {
		t.Fatalf("rows %d, team lines %d; want 5 and 2", cases, teams)
	}
	b := buttons(t, blks)
	if !strings.Contains(b[ActionOwnerSubmit], "Submit") || b[ActionOwnerKeepAll] == "" {
		t.Fatalf("buttons: %v", b)
	}
	text := allText(t, blks)
	for _, want := range []string{ref.Encode(), "Member: *Not sure*", "Manager: *Keep* by Manager 0", "kept by the no-decision rule",
		"unused app", "U0BOB"} {
		if !strings.Contains(text, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	if strings.Contains(text, `\u003c@U0BOB`) {
		t.Error("a comment's mention is posted unescaped")
	}
	if a, err := ParseAction(ActionOwnerKeepAll, ref.Encode()); err != nil || a.Ref != ref {
		t.Fatalf("keep-all value does not route back: %+v, %v", a, err)
	}
	if _, err := ParseAction(ActionOwnerSubmit, ReviewerFormRef(42, "00u1", 1).Encode()); err == nil {
		t.Fatal("a reviewer form's value was accepted on an owner button")
	}
}

// TestOwnerFormPaging: a full page where every person is in a team of
// their own stays within Slack's limits, and more rows than a page holds
// show only the page asked for.
func TestOwnerFormPaging(t *testing.T) {
	rows := ownerRows(45)
	for i := range rows {
		rows[i].Team = longString("Team "+fmt.Sprint(i)+" ", 300)
		rows[i].Member.Name = longString("Name ", 200)
	}
	pages, _ := Paginate(len(rows))
	for p := 1; p <= pages; p++ {
		blks := OwnerFormBlocks(OwnerForm{CampaignID: 1, App: "Salesforce", People: len(rows), Rows: rows, Page: p, Pages: pages,
			Button: OwnerFormRef(1, "0oa1", p)})
		mustValid(t, Message, blks)
		n := 0
		for _, m := range asMaps(t, blks) {
			if strings.HasPrefix(str(m["block_id"]), BlockCasePrefix) {
				n++
			}
		}
		if want := len(PageSlice(rows, p)); n != want {
			t.Fatalf("page %d shows %d rows, want %d", p, n, want)
		}
	}
}

// TestOwnerFormHostile: labels, names, teams, grants, flags, risks and
// comments from Okta or people, injected and long, are escaped and cut;
// a full page still fits a message.
func TestOwnerFormHostile(t *testing.T) {
	rows := ownerRows(perPage)
	for i := range rows {
		inj := injections[i%len(injections)]
		rows[i].Member = Person{Name: inj + longString("Name ", 300), Email: inj + "@example.com"}
		rows[i].Team = fmt.Sprint(i) + inj + longString(" team", 400)
		rows[i].GrantedBy = []string{"direct", "group " + inj + longString("g", 300), "rule " + inj}
		rows[i].Flags = []string{inj + longString("f", 200), "orphaned"}
		rows[i].Risk, rows[i].ManagerBy = inj, inj
		rows[i].MemberComment = inj + longString(" comment &", 2000)
	}
	blks := OwnerFormBlocks(OwnerForm{CampaignID: 7, Campaign: injections[0] + longString("c", 500),
		App: injections[2] + longString("Very long app label ", 300), LinkURL: "javascript:alert(1)", People: 99,
		Rows: rows, Page: 1, Pages: 5, Button: OwnerFormRef(7, "0oa1", 1), Comment: longString("x", 5000)})
	mustValid(t, Message, blks)
	checkEscaped(t, blks)
	if strings.Contains(allText(t, blks), "javascript:") {
		t.Fatal("an unsafe link was posted")
	}
}
