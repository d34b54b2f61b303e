package blocks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"
)

// Sweep is a stale-access sweep's summary for the IAM channel.
type Sweep struct {
	// Counts is findings by kind (stale_user, unused_app, ...).
	Counts map[string]int
	// Examples are a few findings to show, already one line each.
	Examples     []string
	Entitlements int
	Button       Ref // SweepRef of the sweep
	// Launched, when set, replaces the button: the review already started.
	Launched string
}

// SweepBlocks renders a sweep: counts by kind, a few examples and the
// "Start review of these" button (the CSV goes in the thread).
func SweepBlocks(s Sweep) []slack.Block {
	kinds := make([]string, 0, len(s.Counts))
	for k := range s.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var lines []string
	for _, k := range kinds {
		lines = append(lines, fmt.Sprintf("• %s: *%d*", Escape(strings.ReplaceAll(k, "_", " ")), s.Counts[k]))
	}
	out := []slack.Block{
		slack.NewHeaderBlock(plain("Stale-access sweep", maxHeaderText)),
		section(strings.Join(lines, "\n") + fmt.Sprintf("\n%d entitlement(s) in all.", s.Entitlements)),
	}
	if len(s.Examples) > 0 {
		ex := s.Examples
		if len(ex) > 10 {
			ex = ex[:10]
		}
		esc := make([]string, len(ex))
		for i, e := range ex {
			esc[i] = Escape(e)
		}
		out = append(out, section("Examples:\n"+strings.Join(esc, "\n")))
	}
	if s.Launched != "" {
		return append(out, contextLine(Escape(s.Launched)))
	}
	if s.Entitlements > 0 {
		out = append(out, slack.NewActionBlock(BlockActions, button(ActionSweepReview, "Start review of these", s.Button).
			WithStyle(slack.StylePrimary)))
	}
	return out
}
