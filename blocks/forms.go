package blocks

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// MemberFormBlocks returns one page of a member's self-attestation DM: a
// header, why the review happens and by when, one row per entitlement with
// Needed / Not needed / Not sure radio buttons, a comment box and the
// "Submit answers" button. Given more entitlements than a page holds, it
// shows page f.Page of them (see Paginate). Long text is cut, never
// refused; the result always fits one message.
func MemberFormBlocks(f MemberForm) []slack.Block {
	ents := pageEntitlements(f.Entitlements, f.Page)
	return fitMessage(func(d detail) []slack.Block {
		c := caps[d]
		ids := uniqueIDs{BlockComment: 1, BlockActions: 1}
		intro := "Please tell us which of the access below you still need." +
			dueText("Answer", f.Deadline) +
			" *Not sure* leaves the decision to your manager."
		if why := escTrunc(f.Why, c.why); why != "" {
			intro += "\n" + why
		}
		blks := []slack.Block{
			header("Access review: " + orDefault(f.Campaign, "your access")),
			section(intro),
			contextLine(pageLine(f.CampaignID, f.Page, f.Pages, len(ents))),
			slack.NewDividerBlock(),
		}
		for _, e := range ents {
			blks = append(blks, entitlementRow(e, roleMember, d, ids)...)
		}
		submit := button(ActionMemberSubmit, "Submit answers", f.Button).WithStyle(slack.StylePrimary)
		return append(blks,
			commentInput(f.Comment, "Anything your manager should know"),
			slack.NewActionBlock(BlockActions, submit),
		)
	})
}

// ReviewerFormBlocks returns one page of a reviewer's form about one
// member: who the member is, why the form came to the reviewer (escalated,
// delegated), one row per entitlement with Keep / Revoke radio buttons and
// the member's answer under it, a comment box and the buttons "Submit
// decisions", "Confirm all as answered by member" (when f.BulkAllowed) and
// "Delegate…". Paging and cutting work as in MemberFormBlocks.
func ReviewerFormBlocks(f ReviewerForm) []slack.Block {
	ents := pageEntitlements(f.Entitlements, f.Page)
	return fitMessage(func(d detail) []slack.Block {
		c := caps[d]
		ids := uniqueIDs{BlockComment: 1, BlockActions: 1}
		who := personLine(f.Member, c.nameLen)
		intro := "Please decide *Keep* or *Revoke* for each access " + who + " holds"
		if f.Campaign != "" {
			intro += " in *" + escTrunc(f.Campaign, c.label) + "*"
		}
		intro += "." + dueText("Decide", f.Deadline)

		var notes []string
		if f.Escalated {
			from := "their manager"
			if f.EscalatedFrom != "" {
				from = escTrunc(f.EscalatedFrom, c.nameLen)
			}
			notes = append(notes, ":arrow_up: Escalated to you: "+from+" did not answer in time")
		}
		if f.DelegatedBy != "" {
			notes = append(notes, ":handshake: Delegated to you by "+escTrunc(f.DelegatedBy, c.nameLen))
		}

		blks := []slack.Block{
			header("Access review: " + orDefault(personName(f.Member), "a member")),
			section(intro),
			contextLine(pageLine(f.CampaignID, f.Page, f.Pages, len(ents), notes...)),
			slack.NewDividerBlock(),
		}
		for _, e := range ents {
			blks = append(blks, entitlementRow(e, roleReviewer, d, ids)...)
		}
		buttons := []slack.BlockElement{
			button(ActionReviewerSubmit, "Submit decisions", f.Button).WithStyle(slack.StylePrimary),
		}
		if f.BulkAllowed {
			buttons = append(buttons, button(ActionConfirmMember, "Confirm all as answered by member", f.Button))
		}
		buttons = append(buttons, button(ActionDelegate, "Delegate…", f.Button))
		return append(blks,
			commentInput(f.Comment, "Why you decided, for the audit record"),
			slack.NewActionBlock(BlockActions, buttons...),
		)
	})
}

// personLine reads "*Alice Smith* (<@U1>, alice@example.com)".
func personLine(p Person, nameLen int) string {
	name := escTrunc(personName(p), nameLen)
	if name == "" {
		name = "this member"
	}
	s := "*" + name + "*"
	var more []string
	if validSlackID(p.SlackID) {
		more = append(more, "<@"+p.SlackID+">")
	}
	if p.Email != "" && p.Email != personName(p) {
		more = append(more, escTrunc(p.Email, nameLen))
	}
	if len(more) > 0 {
		s += " (" + strings.Join(more, ", ") + ")"
	}
	return s
}

// personName is the name to show, the email when there is no name.
func personName(p Person) string {
	if strings.TrimSpace(p.Name) != "" {
		return p.Name
	}
	return p.Email
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// Bounds of the answered summary: rows are listed until their text reaches
// answeredBudget, in sections of at most answeredSection characters, and
// the rest are counted.
const (
	answeredBudget  = 9000
	answeredSection = 2800
	answeredLabel   = 100
	answeredComment = 200
)

// AnsweredBlocks returns the message that replaces a submitted form: the
// title, every answer with its comment, and either the "Edit answers"
// button (when a.Editable) or a.ClosedNote when the stage is closed. Rows
// beyond what one message holds are counted, not listed.
func AnsweredBlocks(a Answered) []slack.Block {
	r := roleMember
	title := "Your answers"
	if a.Reviewer {
		r = roleReviewer
		title = "Your decisions"
	}
	blks := []slack.Block{header(orDefault(a.Title, title))}
	if a.Campaign != "" {
		blks = append(blks, contextLine("Access review: *"+escTrunc(a.Campaign, 150)+"*"))
	}

	if len(a.Rows) == 0 {
		blks = append(blks, section("No answers recorded."))
	}
	var cur []string
	curLen, used, shown := 0, 0, 0
	flush := func() {
		if len(cur) > 0 {
			blks = append(blks, section(strings.Join(cur, "\n")))
			cur, curLen = nil, 0
		}
	}
	for _, row := range a.Rows {
		line := answeredLine(r, row)
		n := utf8.RuneCountInString(line) + 1
		if used+n > answeredBudget {
			break
		}
		if curLen+n > answeredSection {
			flush()
		}
		cur = append(cur, line)
		curLen += n
		used += n
		shown++
	}
	flush()
	if rest := len(a.Rows) - shown; rest > 0 {
		blks = append(blks, contextLine(fmt.Sprintf("…and %d more not listed here.", rest)))
	}

	switch {
	case a.ClosedNote != "":
		blks = append(blks, contextLine(":lock: "+escTrunc(a.ClosedNote, 500)))
	case a.Editable:
		blks = append(blks, slack.NewActionBlock(BlockActions,
			button(ActionEditAnswers, "Edit answers", a.Button)))
	}
	return blks
}

// answeredLine reads "• *Salesforce* — Not needed — “moved teams”".
func answeredLine(r role, row AnsweredRow) string {
	label := escTrunc(row.Label, answeredLabel)
	if label == "" {
		label = "(unnamed)"
	}
	s := "• *" + label + "* — " + answerWord(r, row.Decision)
	if c := escTrunc(row.Comment, answeredComment); c != "" {
		s += " — “" + c + "”"
	}
	return s
}

// DelegateModalView returns the modal (callback_id "delegate") in which a
// reviewer picks who decides on m.Member's access instead. m.Form rides
// as the private_metadata, encoded by the codec (ParseFormMetadata reads
// it back).
func DelegateModalView(m DelegateModal) slack.ModalViewRequest {
	who := escTrunc(personName(m.Member), 80)
	if who == "" {
		who = "this member"
	}
	pick := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Choose a person", maxPlaceholder), ActionUser)
	blks := []slack.Block{
		section("Who should decide on *" + who + "*'s access instead of you? They get the form, and you hear when they submit."),
		slack.NewInputBlock(BlockDelegateTo, plain("Delegate to", maxInputLabel), nil, pick),
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackDelegate,
		Title:           plain("Delegate review", maxModalText),
		Submit:          plain("Delegate", maxModalText),
		Close:           plain("Cancel", maxModalText),
		PrivateMetadata: m.Form.Encode(),
		Blocks:          slack.Blocks{BlockSet: blks},
	}
}
