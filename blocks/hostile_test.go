package blocks

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// injections are user-supplied strings that would act in mrkdwn if they
// were not escaped: a mention, a broadcast, a fake link, a quote.
var injections = []string{
	"<@U123>",
	"<!channel> & <!here>",
	"<https://evil.example|click me>",
	"> quoted & <b>bold</b>",
	"R&D <#C0123|general>",
}

// hostileEntitlements returns n entitlements whose every string is long,
// injected or both.
func hostileEntitlements(n int) []Entitlement {
	ents := entitlements(n)
	for i := range ents {
		inj := injections[i%len(injections)]
		ents[i].Label = fmt.Sprintf("%03d ", i) + inj + longString("Very long app label ", 300)
		ents[i].LinkURL = "https://example.okta.com/" + longString("x", 250)
		ents[i].GrantedBy = []string{"direct", "group " + inj + longString("g", 300), "group two", "group three", "group four", "rule " + inj}
		ents[i].Flags = []string{"stale_login", inj + longString("f", 200), "orphaned", "no_manager", "excessive_groups"}
		ents[i].Risk = inj
		ents[i].MemberComment = inj + longString(" comment &", 2000)
		ents[i].MemberAnswer = ValueUnsure
	}
	return ents
}

// rawMentions finds mrkdwn that Slack would act on: a mention, a
// broadcast, a channel link or a link with a label.
var rawMentions = regexp.MustCompile(`<[@!#]|<https://evil`)

// checkEscaped fails when any text in v carries a raw injection, except
// the mentions allowed (made from trusted Slack ids).
func checkEscaped(t *testing.T, v any, allowed ...string) {
	t.Helper()
	var texts []string
	m, err := asJSON(struct{ V any }{v})
	if err != nil {
		t.Fatal(err)
	}
	collectTexts(m, &texts)
	for _, s := range texts {
		for _, a := range allowed {
			s = strings.ReplaceAll(s, a, "")
		}
		s = regexp.MustCompile(`<!date\^[^>]*>`).ReplaceAllString(s, "")
		if loc := rawMentions.FindStringIndex(s); loc != nil {
			t.Errorf("unescaped markup %q in text %q", s[loc[0]:min(loc[1]+10, len(s))], s)
		}
	}
}

func collectTexts(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if str(x["type"]) == "mrkdwn" {
			*out = append(*out, str(x["text"]))
		}
		for _, c := range x {
			collectTexts(c, out)
		}
	case []any:
		for _, c := range x {
			collectTexts(c, out)
		}
	}
}

func TestHostileForms(t *testing.T) {
	ents := hostileEntitlements(20)
	tests := []struct {
		name  string
		build func() []slack.Block
	}{
		{"member", func() []slack.Block {
			return MemberFormBlocks(MemberForm{Campaign: injections[1] + longString("c", 400), Deadline: deadline,
				Why: injections[0] + longString("why ", 5000), Entitlements: ents, Page: 1, Pages: 1,
				Button: MemberFormRef(1, "00u1", 1), Comment: longString("a", 5000)})
		}},
		{"reviewer", func() []slack.Block {
			return ReviewerFormBlocks(ReviewerForm{Campaign: injections[2], Deadline: deadline,
				Member:    Person{Name: injections[0] + longString("n", 300), Email: injections[3], SlackID: "U1><!channel"},
				Escalated: true, EscalatedFrom: injections[1], DelegatedBy: injections[4],
				Entitlements: ents, BulkAllowed: true, Button: ReviewerFormRef(1, "00u1", 1)})
		}},
		{"answered", func() []slack.Block {
			var rows []AnsweredRow
			for _, e := range ents {
				rows = append(rows, AnsweredRow{Label: e.Label, Decision: injections[0], Comment: e.MemberComment})
			}
			return AnsweredBlocks(Answered{Campaign: injections[1], Title: injections[2], Rows: rows, ClosedNote: injections[3]})
		}},
		{"status", func() []slack.Block {
			var overdue []Person
			for i := 0; i < 100; i++ {
				overdue = append(overdue, Person{Name: injections[i%len(injections)] + longString("p", 200)})
			}
			return StatusBlocks(Status{Campaign: injections[0], State: injections[1], Overdue: overdue})
		}},
		{"help", func() []slack.Block { return HelpBlocks(injections[1]) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blks := tc.build()
			mustValid(t, Message, blks)
			checkEscaped(t, blks)
			if n := messageText(blks); n > maxMessageText {
				t.Errorf("message text %d > %d", n, maxMessageText)
			}
		})
	}
}

func TestLongLabelIsCutNotDropped(t *testing.T) {
	label := longString("Payroll-", 300)
	blks := MemberFormBlocks(MemberForm{Entitlements: []Entitlement{{CaseID: 7, Label: label}}})
	mustValid(t, Message, blks)
	row := asMaps(t, blks)[4]
	text := textOf(row["text"])
	if str(row["block_id"]) != "case:7" || !strings.Contains(text, label[:100]) || !strings.Contains(text, ellipsis) {
		t.Errorf("row %q does not name the cut label", text)
	}
}

func TestUnsafeLinkIsDropped(t *testing.T) {
	tests := []struct {
		name, url string
		linked    bool
	}{
		{"https", "https://example.okta.com/app/1", true},
		{"pipe breaks the label", "https://x.example/a|fake", false},
		{"angle bracket closes the link", "https://x.example/a>", false},
		{"javascript", "javascript:alert(1)", false},
		{"too long", "https://x.example/" + longString("a", 400), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := rowText(Entitlement{Label: "App", LinkURL: tc.url}, caps[detailFull])
			if got := strings.Contains(text, "<"+tc.url+"|"); got != tc.linked {
				t.Errorf("linked = %v, want %v: %q", got, tc.linked, text)
			}
		})
	}
}

func TestLaunchModalManyDefinitions(t *testing.T) {
	var defs []string
	for i := 0; i < 150; i++ {
		defs = append(defs, fmt.Sprintf("def-%03d %s", i, longString("name ", 200)))
	}
	defs = append(defs, defs[3]) // a repeat is listed once
	v := LaunchModalView(LaunchModal{Definitions: defs, Selected: defs[5], Error: injections[0]})
	if err := ValidateModal(v); err != nil {
		t.Fatal(err)
	}
	checkEscaped(t, v)
	m := asMaps(t, v.Blocks.BlockSet)
	var sel map[string]any
	for _, b := range m {
		if str(b["block_id"]) == BlockDefinition {
			sel, _ = b["element"].(map[string]any)
		}
	}
	if n := len(list(sel["options"])); n != maxStaticOptions {
		t.Errorf("%d options, want %d", n, maxStaticOptions)
	}
	if io, _ := sel["initial_option"].(map[string]any); str(io["value"]) != cutRunes(defs[5], maxOptionValue) {
		t.Errorf("initial option %v, want the selected definition", io)
	}
	if !strings.Contains(allText(t, v), "Showing the first 100 of 150 definitions") {
		t.Error("no note about the definitions left out")
	}
}

func TestApprovalManyConflicts(t *testing.T) {
	a := sampleApproval()
	a.Conflicts, a.Manual, a.Approvals = nil, nil, nil
	a.Operations = map[string]int{}
	for i := 0; i < 30; i++ {
		a.Conflicts = append(a.Conflicts, fmt.Sprintf("%d %s %s", i, injections[i%len(injections)], longString("conflict ", 500)))
		a.Manual = append(a.Manual, fmt.Sprintf("%d %s", i, longString("manual ", 500)))
		a.Operations[fmt.Sprintf("kind_%02d", i)] = i
		a.TopApps = append(a.TopApps, Count{Label: injections[i%len(injections)] + longString("app", 300), N: i})
		a.Approvals = append(a.Approvals, Decision{By: Person{Name: injections[i%len(injections)]}, Decision: "approve", At: t0})
	}
	a.Launcher = Person{Name: injections[0]}
	blks := ApprovalBlocks(a)
	mustValid(t, Message, blks)
	checkEscaped(t, blks)
	got := allText(t, blks)
	if !strings.Contains(got, "and 20 more") {
		t.Error("the 20 conflicts not listed are not counted")
	}
	b := buttons(t, blks)
	if !strings.Contains(b[ActionPlanApprove], "Approve") || !strings.Contains(b[ActionPlanReject], "Reject") {
		t.Errorf("approval buttons %v", b)
	}
}

func TestApprovalButtonsOnlyWhileClosed(t *testing.T) {
	tests := []struct {
		state   string
		buttons bool
		says    string
	}{
		{PlanClosed, true, "1 of 2 required"},
		{PlanApproved, false, "Approved"},
		{PlanRejected, false, "Rejected"},
		{"executing", false, "executing"},
	}
	for _, tc := range tests {
		t.Run(tc.state, func(t *testing.T) {
			a := sampleApproval()
			a.State = tc.state
			blks := ApprovalBlocks(a)
			mustValid(t, Message, blks)
			b := buttons(t, blks)
			if (len(b) > 0) != tc.buttons {
				t.Errorf("buttons %v, want buttons: %v", b, tc.buttons)
			}
			if got := allText(t, blks); !strings.Contains(got, tc.says) || !strings.Contains(got, "U0ALICE") {
				t.Errorf("message does not say %q and who decided", tc.says)
			}
		})
	}
}
