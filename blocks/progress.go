package blocks

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// How many rows the App Home lists before counting the rest. With both
// lists full the tab holds 1+1+30+1 + 1+1+25*2+1 = 87 blocks, under
// Slack's 100; a non-admin's tab lists more pending reviews instead.
const (
	homePending      = 30
	homePendingAlone = 90
	homeCampaigns    = 25
	homeName         = 150
	// The status message lists this many overdue people, then a count.
	overdueShown = 25
	overdueName  = 60
)

// HomeView returns a person's App Home tab: the reviews waiting for them,
// each with an "Open" button, and for admins the running campaigns with
// "Send reminders" and "Close campaign" buttons (closing asks first).
// Rows beyond what the tab holds are counted, not listed.
func HomeView(h Home) slack.HomeTabViewRequest {
	ids := uniqueIDs{}
	blks := []slack.Block{
		header("Access reviews"),
		section("*Waiting for you*"),
	}
	limit := homePendingAlone
	if h.Admin {
		limit = homePending
	}
	if len(h.Pending) == 0 {
		blks = append(blks, contextLine("Nothing to review right now. :tada:"))
	}
	for i, p := range h.Pending {
		if i == limit {
			blks = append(blks, contextLine(fmt.Sprintf("…and %d more; each also waits in your DMs from the bot.", len(h.Pending)-limit)))
			break
		}
		id := ids.id(PendingBlockID(p.CampaignID, p.Role))
		open := button(ActionOpenReview, "Open", p.Button).WithStyle(slack.StylePrimary)
		blks = append(blks, slack.NewSectionBlock(mrkdwn(pendingText(p)), nil, slack.NewAccessory(open),
			slack.SectionBlockOptionBlockID(id)))
	}
	if h.Admin {
		blks = append(blks, slack.NewDividerBlock(), section("*Running campaigns*"))
		if len(h.Campaigns) == 0 {
			blks = append(blks, contextLine("No campaign is running. Start one with the slash command."))
		}
		for i, c := range h.Campaigns {
			if i == homeCampaigns {
				blks = append(blks, contextLine(fmt.Sprintf("…and %d more; `status ID` shows any of them.", len(h.Campaigns)-homeCampaigns)))
				break
			}
			blks = append(blks, campaignRow(c, ids)...)
		}
	}
	return slack.HomeTabViewRequest{
		Type:       slack.VTHomeTab,
		Blocks:     slack.Blocks{BlockSet: blks},
		CallbackID: CallbackHome,
	}
}

// pendingText reads "*Q3 review* · your own access · *12 open* · due …".
func pendingText(p Pending) string {
	name := escTrunc(orDefault(p.Campaign, "Access review"), homeName)
	whose := "your own access"
	switch p.Role {
	case "reviewer":
		whose = "your team's access"
	case "owner":
		whose = "who keeps the apps you own"
	}
	s := fmt.Sprintf("*%s* · %s · *%d open*", name, whose, p.Open)
	if !p.Deadline.IsZero() {
		s += " · due " + slackDate(p.Deadline)
	}
	return s
}

// campaignRow is an admin's view of one campaign: its progress, then its
// buttons in an actions block whose block_id names the campaign.
func campaignRow(c CampaignRow, ids uniqueIDs) []slack.Block {
	name := escTrunc(orDefault(c.Campaign, "Campaign"), homeName)
	head := fmt.Sprintf("*%s* (#%d) · %s", name, c.CampaignID, escTrunc(orDefault(c.State, "unknown"), 40))
	stats := []string{
		"stage 1: " + progress(c.Stage1Answered, c.Stage1Total),
		"stage 2: " + progress(c.Stage2Decided, c.Stage2Total),
		plural(c.Escalations, "escalation"),
		fmt.Sprintf("%d overdue", c.Overdue),
	}
	if !c.Deadline.IsZero() {
		stats = append(stats, "due "+slackDate(c.Deadline))
	}
	remind := button(ActionCampaignRemind, "Send reminders", c.Remind)
	closeBtn := button(ActionCampaignClose, "Close campaign", c.Close).
		WithStyle(slack.StyleDanger).
		WithConfirm(slack.NewConfirmationBlockObject(
			plain("Close this campaign?", maxConfirmTitle),
			plain(fmt.Sprintf("Closing “%s” ends both stages now and posts its removal plan for approval.", trunc(orDefault(c.Campaign, "this campaign"), 150)), maxConfirmText),
			plain("Close campaign", maxConfirmButton),
			plain("Cancel", maxConfirmButton),
		).WithStyle(slack.StyleDanger))
	id := ids.id(CampaignBlockID(c.CampaignID))
	return []slack.Block{
		section(head + "\n" + strings.Join(stats, " · ")),
		slack.NewActionBlock(id, remind, closeBtn),
	}
}

// StatusBlocks returns a campaign's progress, the answer to
// `/access-review status ID`: state, deadline, answers per stage,
// removals, escalations and who is overdue (the first 25, then a count).
func StatusBlocks(s Status) []slack.Block {
	title := "Campaign status"
	if s.Campaign != "" {
		title += ": " + s.Campaign
	}
	state := escTrunc(orDefault(s.State, "unknown"), 40)
	deadline := "none"
	if !s.Deadline.IsZero() {
		deadline = slackDate(s.Deadline)
	}
	fields := []*slack.TextBlockObject{
		field("State", state),
		field("Deadline", deadline),
		field("Members answered", progress(s.MembersAnswered, s.Members)),
		field("Stage 1 answers", progress(s.Stage1Answered, s.Stage1Total)),
		field("Stage 2 decisions", progress(s.Stage2Decided, s.Stage2Total)),
		field("Revoked", fmt.Sprint(s.Revoked)),
		field("Escalations", fmt.Sprint(s.Escalations)),
	}
	blks := []slack.Block{
		header(title),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if len(s.Overdue) > 0 {
		blks = append(blks, section(overdueText(s.Overdue)))
	}
	var foot []string
	if s.CampaignID > 0 {
		foot = append(foot, fmt.Sprintf("Campaign #%d", s.CampaignID))
	}
	if !s.Updated.IsZero() {
		foot = append(foot, "updated "+slackDate(s.Updated))
	}
	if len(foot) > 0 {
		blks = append(blks, contextLine(strings.Join(foot, " · ")))
	}
	return blks
}

// field is one "*Name*\nvalue" section field; value is already escaped.
func field(name, value string) *slack.TextBlockObject {
	return mrkdwn(truncRaw("*"+name+"*\n"+value, maxFieldText))
}

// progress reads "12 of 40 (30%)".
func progress(done, total int) string {
	if total <= 0 {
		return fmt.Sprintf("%d of %d", done, total)
	}
	return fmt.Sprintf("%d of %d (%d%%)", done, total, done*100/total)
}

// overdueText lists who is overdue, mentions where a Slack id is known.
func overdueText(people []Person) string {
	shown := people
	if len(shown) > overdueShown {
		shown = shown[:overdueShown]
	}
	names := make([]string, len(shown))
	for i, p := range shown {
		names[i] = mention(p, overdueName)
	}
	s := fmt.Sprintf("*Overdue (%d):* %s", len(people), strings.Join(names, ", "))
	if rest := len(people) - len(shown); rest > 0 {
		s += fmt.Sprintf(" and %d more", rest)
	}
	return s
}
