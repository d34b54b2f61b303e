package blocks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// detail is how much of each row a form shows. A form is built at full
// detail first and rebuilt with less when its text would pass Slack's
// message size, so a page always posts, however long the labels and
// comments are.
type detail int

const (
	detailFull detail = iota
	detailCompact
	detailMinimal
)

// rowCaps bounds the parts of a row at one detail level (in characters
// after escaping, or in list items).
type rowCaps struct {
	label   int
	link    bool
	items   int // grants or flags shown before "+N more"
	itemLen int
	comment int
	why     int // the form's intro text
	sectMax int // the row's section text, a backstop under Slack's 3000
	ctxMax  int // the reviewer row's context text
	nameLen int // people's names
}

var caps = [...]rowCaps{
	detailFull:    {label: 150, link: true, items: 3, itemLen: 60, comment: 300, why: 1000, sectMax: 1500, ctxMax: 500, nameLen: 80},
	detailCompact: {label: 100, link: true, items: 2, itemLen: 40, comment: 150, why: 400, sectMax: 900, ctxMax: 250, nameLen: 60},
	detailMinimal: {label: 60, link: false, items: 1, itemLen: 30, comment: 60, why: 150, sectMax: 400, ctxMax: 120, nameLen: 40},
}

// entitlementRow returns the blocks of one entitlement: a section naming
// the label, with the radio buttons as its accessory, and for reviewers a
// context line with the member's answer. The section's block_id routes the
// answer to the case.
func entitlementRow(e Entitlement, r role, d detail, ids uniqueIDs) []slack.Block {
	c := caps[d]
	text := truncRaw(rowText(e, c), c.sectMax)
	radio := slack.NewRadioButtonsBlockElement(ActionDecision, answerOptions(r)...)
	if validAnswer(r, e.Current) {
		radio.InitialOption = answerOption(r, e.Current)
	}
	section := slack.NewSectionBlock(mrkdwn(text), nil, slack.NewAccessory(radio),
		slack.SectionBlockOptionBlockID(ids.id(CaseBlockID(e.CaseID))))
	if r != roleReviewer {
		return []slack.Block{section}
	}
	ctx := slack.NewContextBlock("", mrkdwn(truncRaw(memberAnswerText(e, c), c.ctxMax)))
	return []slack.Block{section, ctx}
}

// rowText is the section text of a row: label and kind, how it is granted
// and last used, then flags and risk.
func rowText(e Entitlement, c rowCaps) string {
	label := escTrunc(e.Label, c.label)
	if label == "" {
		label = "(unnamed)"
	}
	name := "*" + label + "*"
	if c.link && safeURL(e.LinkURL) {
		name = "*<" + e.LinkURL + "|" + label + ">*"
	}
	if k := kindWord(e.Kind); k != "" {
		name += " · " + k
	}
	lines := []string{name}

	var use []string
	if g := grantText(e.GrantedBy, c); g != "" {
		use = append(use, g)
	}
	use = append(use, signInText(e))
	lines = append(lines, strings.Join(use, " · "))

	var risk []string
	if len(e.Flags) > 0 {
		flags := make([]string, len(e.Flags))
		for i, f := range e.Flags {
			flags[i] = strings.ReplaceAll(f, "_", " ")
		}
		risk = append(risk, ":warning: "+joinCapped(flags, c.items, c.itemLen))
	}
	if rk := riskText(e.Risk); rk != "" {
		risk = append(risk, rk)
	}
	if len(risk) > 0 {
		lines = append(lines, strings.Join(risk, " · "))
	}
	return strings.Join(lines, "\n")
}

func kindWord(kind string) string {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "app":
		return "app"
	case "group":
		return "group"
	case "":
		return ""
	}
	return escTrunc(kind, 20)
}

// grantText reads GrantedBy as "direct and via group Engineering,
// aws-admins", keeping anything it does not recognise as given.
func grantText(grants []string, c rowCaps) string {
	var direct bool
	var groups, other []string
	for _, g := range grants {
		t := oneLine(g)
		low := strings.ToLower(t)
		switch {
		case t == "":
		case low == "direct":
			direct = true
		case strings.HasPrefix(low, "via group "):
			groups = append(groups, t[len("via group "):])
		case strings.HasPrefix(low, "group "):
			groups = append(groups, t[len("group "):])
		default:
			other = append(other, t)
		}
	}
	var parts []string
	if direct {
		parts = append(parts, "direct")
	}
	if len(groups) > 0 {
		parts = append(parts, "via group "+joinCapped(groups, c.items, c.itemLen))
	}
	if len(other) > 0 {
		parts = append(parts, joinCapped(other, c.items, c.itemLen))
	}
	return strings.Join(parts, " and ")
}

// joinCapped escapes and joins the first n items, each cut to each
// characters, and counts the rest as "+K more".
func joinCapped(items []string, n, each int) string {
	shown := items
	if len(shown) > n {
		shown = shown[:n]
	}
	out := make([]string, len(shown))
	for i, s := range shown {
		out[i] = escTrunc(s, each)
	}
	s := strings.Join(out, ", ")
	if rest := len(items) - len(shown); rest > 0 {
		s += " +" + strconv.Itoa(rest) + " more"
	}
	return s
}

func signInText(e Entitlement) string {
	if !e.LastSignIn.IsZero() {
		return "last sign-in " + day(e.LastSignIn)
	}
	if e.SignInWindowDays > 0 {
		return fmt.Sprintf("no sign-in in %d days", e.SignInWindowDays)
	}
	return "no sign-in recorded"
}

func riskText(risk string) string {
	switch r := strings.ToLower(strings.TrimSpace(risk)); r {
	case "":
		return ""
	case "high", "critical":
		return ":red_circle: risk *" + r + "*"
	case "low", "medium":
		return "risk " + r
	}
	return "risk " + escTrunc(risk, 20)
}

// memberAnswerText is the reviewer row's context: what the member said.
func memberAnswerText(e Entitlement, c rowCaps) string {
	if e.MemberAnswer == "" {
		return "Member did not answer"
	}
	s := "Member answered *" + answerWord(roleMember, e.MemberAnswer) + "*"
	if cm := escTrunc(e.MemberComment, c.comment); cm != "" {
		s += ": “" + cm + "”"
	}
	return s
}

// answerOptions returns the radio options of a form, built fresh so that
// initial_option can repeat one exactly.
func answerOptions(r role) []*slack.OptionBlockObject {
	cs := choices(r)
	opts := make([]*slack.OptionBlockObject, len(cs))
	for i, c := range cs {
		opts[i] = slack.NewOptionBlockObject(c.value, plain(c.text, maxOptionText), nil)
	}
	return opts
}

// answerOption returns the option for value, equal to the one in
// answerOptions, as Slack requires of initial_option.
func answerOption(r role, value string) *slack.OptionBlockObject {
	for _, o := range answerOptions(r) {
		if o.Value == value {
			return o
		}
	}
	return nil
}
