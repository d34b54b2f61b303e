package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// OwnerRow is one person on an app owner's form: a case the members and
// managers kept, with what each said and the usage flags.
type OwnerRow struct {
	CaseID int64
	Member Person
	// Team is the member's team as the form groups it, e.g. "Sales ·
	// manager Bob Jones"; rows arrive sorted by team.
	Team      string
	GrantedBy []string
	// LastSignIn is the member's last use of the app; zero reads "no
	// sign-in in SignInWindowDays days".
	LastSignIn       time.Time
	SignInWindowDays int
	Flags            []string
	Risk             string
	// MemberAnswer (keep, revoke, unsure or "") and MemberComment are the
	// member's stage-1 answer; ManagerAnswer ("" when nobody decided) and
	// ManagerBy who decided in stage 2.
	MemberAnswer, MemberComment string
	ManagerAnswer, ManagerBy    string
	// Current is the owner's decision so far (keep, revoke or "").
	Current string
}

// OwnerForm is one page of an app owner's stage-3 form about one app.
type OwnerForm struct {
	CampaignID int64
	Campaign   string
	Deadline   time.Time
	App        string // the app's Okta label
	LinkURL    string
	// People counts the people on every page of the form.
	People int
	// ForIAM says the IAM team decides these rows: their only owner is
	// the member (nobody confirms their own access).
	ForIAM      bool
	Rows        []OwnerRow
	Page, Pages int
	Button      Ref // OwnerFormRef of this page
	Comment     string
}

// OwnerFormBlocks returns one page of an app owner's form: which app and
// why, then the people who keep it, grouped under a line per team, each
// with Keep / Revoke radio buttons, what the member and the manager said,
// how the access is held and last used, and its flags; a comment box and
// the buttons "Submit decisions" and "Keep all, revoke marked". Given more
// rows than a page holds, it shows page f.Page of them; long text is cut,
// never refused, and a page (20 rows, at most 20 team lines) stays under
// Slack's 50 blocks.
func OwnerFormBlocks(f OwnerForm) []slack.Block {
	rows := f.Rows
	if len(rows) > perPage {
		rows = PageSlice(rows, max(f.Page, 1))
	}
	return fitMessage(func(d detail) []slack.Block {
		c := caps[d]
		ids := uniqueIDs{BlockComment: 1, BlockActions: 1}
		app := escTrunc(f.App, c.label)
		if app == "" {
			app = "(unnamed)"
		}
		name := "*" + app + "*"
		if c.link && safeURL(f.LinkURL) {
			name = "*<" + f.LinkURL + "|" + app + ">*"
		}
		people := max(f.People, len(rows))
		intro := fmt.Sprintf("%s keep %s after their own and their managers' answers. As its owner, confirm who keeps it: "+
			"*Keep all* or mark who should lose access.", peopleCount(people), name)
		if f.ForIAM {
			intro = fmt.Sprintf("%s keep %s and own it: nobody confirms their own access, so the IAM team decides.",
				peopleCount(people), name)
		}
		if f.Campaign != "" {
			intro += " Campaign *" + escTrunc(f.Campaign, c.label) + "*."
		}
		intro += dueText("Decide", f.Deadline) + " Silence counts as no decision."
		blks := []slack.Block{
			header("App owner review: " + orDefault(f.App, "an app")),
			section(intro),
			contextLine(pageLine(f.CampaignID, f.Page, f.Pages, len(rows))),
			slack.NewDividerBlock(),
		}
		team, first := "", true
		seen := map[int64]bool{}
		for _, r := range rows {
			if seen[r.CaseID] {
				continue
			}
			seen[r.CaseID] = true
			if first || r.Team != team {
				team, first = r.Team, false
				blks = append(blks, contextLine(":busts_in_silhouette: *"+orDefault(escTrunc(r.Team, c.label), "No team recorded")+"*"))
			}
			blks = append(blks, ownerRow(f.App, r, c, ids))
		}
		return append(blks,
			commentInput(f.Comment, "Why you decided, for the audit record"),
			slack.NewActionBlock(BlockActions,
				button(ActionOwnerSubmit, "Submit decisions", f.Button).WithStyle(slack.StylePrimary),
				button(ActionOwnerKeepAll, "Keep all, revoke marked", f.Button)),
		)
	})
}

// ownerRow is one person: a section routed to the case, its radio
// buttons (Keep / Revoke) as the accessory.
func ownerRow(app string, r OwnerRow, c rowCaps, ids uniqueIDs) slack.Block {
	radio := slack.NewRadioButtonsBlockElement(ActionDecision, answerOptions(roleReviewer)...)
	if validAnswer(roleReviewer, r.Current) {
		radio.InitialOption = answerOption(roleReviewer, r.Current)
	}
	return slack.NewSectionBlock(mrkdwn(truncRaw(ownerRowText(app, r, c), c.sectMax)), nil, slack.NewAccessory(radio),
		slack.SectionBlockOptionBlockID(ids.id(CaseBlockID(r.CaseID))))
}

// ownerRowText reads: the person; the app, how they hold it and last
// used it; the member's and the manager's words; flags and risk.
func ownerRowText(app string, r OwnerRow, c rowCaps) string {
	lines := []string{personLine(r.Member, c.nameLen)}
	use := []string{orDefault(escTrunc(app, c.label), "(unnamed)") + ":"}
	if g := grantText(r.GrantedBy, c); g != "" {
		use = append(use, g)
	}
	use = append(use, signInText(Entitlement{LastSignIn: r.LastSignIn, SignInWindowDays: r.SignInWindowDays}))
	lines = append(lines, use[0]+" "+strings.Join(use[1:], " · "))
	said := "Member: *" + answerWord(roleMember, r.MemberAnswer) + "*"
	if cm := escTrunc(r.MemberComment, c.comment); cm != "" {
		said += " “" + cm + "”"
	}
	mgr := "Manager: *" + answerWord(roleReviewer, r.ManagerAnswer) + "*"
	if r.ManagerAnswer == "" {
		mgr = "Manager: *no decision* (kept by the no-decision rule)"
	} else if by := escTrunc(r.ManagerBy, c.nameLen); by != "" {
		mgr += " by " + by
	}
	lines = append(lines, said+" · "+mgr)
	var risk []string
	if len(r.Flags) > 0 {
		flags := make([]string, len(r.Flags))
		for i, f := range r.Flags {
			flags[i] = strings.ReplaceAll(f, "_", " ")
		}
		risk = append(risk, ":warning: "+joinCapped(flags, c.items, c.itemLen))
	}
	if rk := riskText(r.Risk); rk != "" {
		risk = append(risk, rk)
	}
	if len(risk) > 0 {
		lines = append(lines, strings.Join(risk, " · "))
	}
	return strings.Join(lines, "\n")
}

// peopleCount reads "1 person" or "26 people".
func peopleCount(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}
