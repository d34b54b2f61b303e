package blocks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"
)

// Bounds of the approval message: lists show their first items, cut to a
// line's length, and count the rest, which the plan's CSV holds in full.
const (
	approvalListShown = 10
	approvalLine      = 200
	approvalKinds     = 20
	approvalDecisions = 10
)

// Plan states as Approval.State carries them.
const (
	PlanClosed   = "closed"
	PlanApproved = "approved"
	PlanRejected = "rejected"
)

// ApprovalBlocks returns the removal plan posted to the approvals channel:
// what would be removed, the conflicts and manual steps, who has approved
// so far and, while the plan awaits approval (State "closed"), the
// "Approve removals" and "Reject" buttons. In any other state it shows who
// decided instead of buttons. Long lists are cut with a count of the rest.
func ApprovalBlocks(a Approval) []slack.Block {
	title := "Removal plan"
	if a.Campaign != "" {
		title += ": " + a.Campaign
	}
	ops := 0
	for _, n := range a.Operations {
		ops += n
	}
	lead := fmt.Sprintf("*%s* for *%s* and *%s*", plural(ops, "Okta operation"), plural(a.Users, "user"), plural(a.Apps, "app"))
	if a.CampaignID > 0 {
		lead = fmt.Sprintf("Campaign #%d: %s", a.CampaignID, lead)
	}
	lead += ". Launched by " + mention(a.Launcher, 60) + "."

	blks := []slack.Block{header(title), section(lead)}
	if len(a.Operations) > 0 {
		blks = append(blks, section("*Operations*\n"+operationsText(a.Operations)))
	}
	if len(a.TopApps) > 0 {
		lines := make([]string, 0, len(a.TopApps))
		for _, c := range a.TopApps {
			lines = append(lines, fmt.Sprintf("%s: %d", escTrunc(c.Label, approvalLine), c.N))
		}
		blks = append(blks, section("*Most removals*\n"+bullets(lines, len(a.TopApps))))
	}
	if len(a.Conflicts) > 0 {
		blks = append(blks, section(fmt.Sprintf(":warning: *%s, not removed* (a group that also grants kept access)\n%s",
			plural(len(a.Conflicts), "conflict"), escBullets(a.Conflicts))))
	}
	if len(a.Manual) > 0 {
		blks = append(blks, section(fmt.Sprintf(":wrench: *%s by hand*\n%s",
			plural(len(a.Manual), "removal"), escBullets(a.Manual))))
	}
	if len(a.ReviewerFlags) > 0 {
		blks = append(blks, section(fmt.Sprintf(":mag: *%s* (likely rubber-stamping: weigh these decisions)\n%s",
			plural(len(a.ReviewerFlags), "reviewer flag"), escBullets(a.ReviewerFlags))))
	}
	blks = append(blks, section(approvalsText(a)))

	switch a.State {
	case PlanClosed:
		blks = append(blks,
			contextLine("Only configured approvers may approve, and not the campaign's launcher."),
			slack.NewActionBlock(BlockActions,
				button(ActionPlanApprove, "Approve removals", a.Button).
					WithStyle(slack.StylePrimary).
					WithConfirm(slack.NewConfirmationBlockObject(
						plain("Approve removals?", maxConfirmTitle),
						plain(fmt.Sprintf("This approves %s in Okta.", plural(ops, "operation")), maxConfirmText),
						plain("Approve", maxConfirmButton),
						plain("Cancel", maxConfirmButton))),
				button(ActionPlanReject, "Reject", a.Button).WithStyle(slack.StyleDanger),
			))
	case PlanApproved:
		blks = append(blks, section(":white_check_mark: *Approved.* The removals run now; results follow in this thread."))
	case PlanRejected:
		blks = append(blks, section(":x: *Rejected.* Nothing will be removed."))
	default:
		blks = append(blks, section("State: *"+escTrunc(orDefault(a.State, "unknown"), 40)+"*"))
	}
	return blks
}

// operationsText lists operation counts by kind, in a stable order.
func operationsText(ops map[string]int) string {
	kinds := make([]string, 0, len(ops))
	for k := range ops {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	lines := make([]string, 0, len(kinds))
	for _, k := range kinds {
		lines = append(lines, fmt.Sprintf("%s: %d", escTrunc(strings.ReplaceAll(k, "_", " "), 60), ops[k]))
	}
	return bulletsN(lines, len(lines), approvalKinds)
}

// approvalsText reads "Approvals: 1 of 2 required" and who decided when.
// a.Approvals must hold only the approvals that count (the engine's
// ApprovalStatus) and the rejections, and a.Required the engine's true
// number; 0 means the number is not known, and the text says only how
// many approvals were given, never a number the plan may not need.
func approvalsText(a Approval) string {
	got := 0
	for _, d := range a.Approvals {
		if verdict(d.Decision) == PlanApproved {
			got++
		}
	}
	s := fmt.Sprintf("*Approvals:* %d of %d required", got, a.Required)
	if a.Required <= 0 {
		s = fmt.Sprintf("*Approvals:* %d given", got)
	}
	lines := make([]string, 0, len(a.Approvals))
	for _, d := range a.Approvals {
		line := mention(d.By, 60)
		switch verdict(d.Decision) {
		case PlanApproved:
			line = ":white_check_mark: " + line + " approved"
		case PlanRejected:
			line = ":x: " + line + " rejected"
		default:
			line = line + " " + escTrunc(d.Decision, 30)
		}
		if !d.At.IsZero() {
			line += " · " + slackDate(d.At)
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		s += "\n" + bulletsN(lines, len(lines), approvalDecisions)
	}
	return s
}

// verdict maps approve/approved and reject/rejected to the plan states.
func verdict(d string) string {
	switch strings.ToLower(strings.TrimSpace(d)) {
	case "approve", "approved":
		return PlanApproved
	case "reject", "rejected":
		return PlanRejected
	}
	return d
}

// escBullets escapes, cuts and lists user-supplied lines.
func escBullets(items []string) string {
	lines := make([]string, 0, min(len(items), approvalListShown))
	for _, it := range items[:min(len(items), approvalListShown)] {
		lines = append(lines, escTrunc(it, approvalLine))
	}
	return bulletsN(lines, len(items), approvalListShown)
}

// bullets lists lines, the first approvalListShown of total.
func bullets(lines []string, total int) string {
	return bulletsN(lines, total, approvalListShown)
}

// bulletsN lists up to shown lines and counts the rest of total.
func bulletsN(lines []string, total, shown int) string {
	if len(lines) > shown {
		lines = lines[:shown]
	}
	s := "• " + strings.Join(lines, "\n• ")
	if rest := total - len(lines); rest > 0 {
		s += fmt.Sprintf("\n…and %d more (see the plan's CSV)", rest)
	}
	return s
}
