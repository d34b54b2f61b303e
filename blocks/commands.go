package blocks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"
)

// HelpBlocks returns the usage of the slash command, named as the
// workspace installed it (e.g. "/access-review"); an empty command reads
// "/access-review".
func HelpBlocks(command string) []slack.Block {
	cmd := strings.TrimSpace(command)
	if cmd == "" {
		cmd = "/access-review"
	}
	if !strings.HasPrefix(cmd, "/") {
		cmd = "/" + cmd
	}
	cmd = escTrunc(cmd, 40)
	usage := []struct{ args, what string }{
		{"start", "open the launch form to pick a campaign definition"},
		{"start NAME", "launch the definition NAME at once"},
		{"status [ID]", "show the progress of campaign ID (or of every running campaign)"},
		{"remind ID", "send reminders to everyone with open items in campaign ID"},
		{"close ID", "close campaign ID now and post its removal plan for approval"},
		{"report ID", "post the report of campaign ID"},
		{"help", "show this help"},
	}
	lines := make([]string, len(usage))
	for i, u := range usage {
		lines[i] = fmt.Sprintf("`%s %s` — %s", cmd, u.args, u.what)
	}
	return []slack.Block{
		header("Access reviews: commands"),
		section(strings.Join(lines, "\n")),
		contextLine("Members and managers answer in the DMs the bot sends; open the app's Home tab to see what is waiting for you."),
	}
}

// launchFlagsShown bounds the preview's flag list.
const launchFlagsShown = 10

// LaunchModalView returns the `/access-review start` modal (callback_id
// "launch"): a select of campaign definitions (the first 100, with a note
// naming the rest's count), an optional deadline, the preview counts when
// m.Preview is set and m.Error when set. Selecting a definition dispatches
// a block_actions payload so the handler can update the preview. With no
// definitions the modal explains why and offers no submit button.
func LaunchModalView(m LaunchModal) slack.ModalViewRequest {
	var blks []slack.Block
	if m.Error != "" {
		blks = append(blks, section(":warning: "+escTrunc(m.Error, 2000)))
	}
	view := slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: CallbackLaunch,
		Title:      plain("Start access review", maxModalText),
		Close:      plain("Cancel", maxModalText),
	}
	opts, dropped := definitionOptions(m.Definitions)
	if len(opts) == 0 {
		blks = append(blks, section("No campaign definitions found. Add a definition file to the campaigns directory, then try again."))
		view.Blocks = slack.Blocks{BlockSet: blks}
		return view
	}

	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic,
		plain("Choose a definition", maxPlaceholder), ActionDefinition, opts...)
	if m.Selected != "" {
		want := cutRunes(m.Selected, maxOptionValue)
		for _, o := range opts {
			if o.Value == want {
				sel.InitialOption = o
				break
			}
		}
	}
	blks = append(blks, slack.NewInputBlock(BlockDefinition, plain("Campaign definition", maxInputLabel), nil, sel).
		WithDispatchAction(true))
	if dropped > 0 {
		blks = append(blks, contextLine(fmt.Sprintf(
			"Showing the first %d of %d definitions. Launch any other with `/access-review start NAME`.",
			len(opts), len(opts)+dropped)))
	}

	date := slack.NewDatePickerBlockElement(ActionDeadline)
	date.Placeholder = plain("Definition's default", maxPlaceholder)
	if !m.Deadline.IsZero() {
		date.InitialDate = day(m.Deadline)
	}
	blks = append(blks, slack.NewInputBlock(BlockDeadline, plain("Deadline (optional)", maxInputLabel),
		plain("Leave empty to use the definition's stage durations.", maxInputHint), date).WithOptional(true))

	if m.Preview != nil {
		blks = append(blks, section(previewText(*m.Preview)))
	}
	view.Submit = plain("Launch", maxModalText)
	view.Blocks = slack.Blocks{BlockSet: blks}
	return view
}

// definitionOptions returns one option per distinct definition name, at
// most Slack's 100, and how many names were left out. A value is the name
// cut to 150 characters, which the handler matches the same way.
func definitionOptions(names []string) (opts []*slack.OptionBlockObject, dropped int) {
	seen := map[string]bool{}
	for _, n := range names {
		v := cutRunes(n, maxOptionValue)
		if strings.TrimSpace(v) == "" || seen[v] {
			continue
		}
		seen[v] = true
		if len(opts) == maxStaticOptions {
			dropped++
			continue
		}
		opts = append(opts, slack.NewOptionBlockObject(v, plain(n, maxOptionText), nil))
	}
	return opts, dropped
}

// previewText reads "*Preview:* 120 cases for 40 members …" and the flags.
func previewText(p Preview) string {
	s := fmt.Sprintf("*Preview:* %s for %s, %s and %s.",
		plural(p.Cases, "case"), plural(p.Members, "member"), plural(p.Reviewers, "reviewer"), plural(p.Apps, "app"))
	if len(p.Flags) == 0 {
		return s
	}
	names := make([]string, 0, len(p.Flags))
	for k := range p.Flags {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		if len(parts) == launchFlagsShown {
			parts = append(parts, fmt.Sprintf("+%d more", len(names)-launchFlagsShown))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", escTrunc(strings.ReplaceAll(k, "_", " "), 40), p.Flags[k]))
	}
	return s + "\nFlags: " + strings.Join(parts, " · ")
}
