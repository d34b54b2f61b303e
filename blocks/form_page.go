package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// perPage is how many entitlements one form message holds. A reviewer row
// takes two blocks, so 20 rows plus the header, intro, context, divider,
// comment and buttons come to 46 blocks, under Slack's 50.
const perPage = 20

// maxCommentInput is the comment box's length; a comment is kept with the
// case in the audit log, so it is bounded well under Slack's 3000.
const maxCommentInput = 2000

// Paginate returns how many form pages n entitlements take and how many
// entitlements each page holds. n <= 0 needs no page at all (0 pages).
func Paginate(n int) (pages int, per int) {
	if n <= 0 {
		return 0, perPage
	}
	return (n + perPage - 1) / perPage, perPage
}

// PageSlice returns the items on page (1-based) of the pagination
// Paginate(len(items)) describes, or nil for a page out of range. The
// result shares items' array but cannot append into the next page.
func PageSlice[T any](items []T, page int) []T {
	pages, per := Paginate(len(items))
	if page < 1 || page > pages {
		return nil
	}
	start := (page - 1) * per
	end := min(start+per, len(items))
	return items[start:end:end]
}

// pageEntitlements returns the rows a form page shows. A handler normally
// passes one page's rows; given more than a page holds, the form shows
// PageSlice(ents, page) instead of breaking Slack's block limit. A case
// listed twice is shown once, because its block_id would repeat.
func pageEntitlements(ents []Entitlement, page int) []Entitlement {
	if len(ents) > perPage {
		ents = PageSlice(ents, max(page, 1))
	}
	seen := make(map[int64]bool, len(ents))
	out := make([]Entitlement, 0, len(ents))
	for _, e := range ents {
		if seen[e.CaseID] {
			continue
		}
		seen[e.CaseID] = true
		out = append(out, e)
	}
	return out
}

// fitMessage builds a message at full detail and, while its text passes
// Slack's message size, at less detail. The least detail always fits a
// form page (20 rows of at most a few hundred characters each).
func fitMessage(build func(detail) []slack.Block) []slack.Block {
	for d := detailFull; d < detailMinimal; d++ {
		blks := build(d)
		if messageText(blks) <= maxMessageText {
			return blks
		}
	}
	return build(detailMinimal)
}

// messageText returns the characters of text in blks, as Validate counts
// them; a block that cannot be encoded counts as too long.
func messageText(blks []slack.Block) int {
	n := 0
	for _, b := range blks {
		m, err := asJSON(b)
		if err != nil {
			return maxMessageText + 1
		}
		n += textTotal(m)
	}
	return n
}

// header returns a header block; Slack shows plain text there, so the
// text is cut but not escaped.
func header(text string) *slack.HeaderBlock {
	return slack.NewHeaderBlock(plain(text, maxHeaderText))
}

// section returns a section block of already escaped mrkdwn, cut to
// Slack's section limit as a backstop.
func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(truncRaw(text, maxSectionText)), nil, nil)
}

// contextLine returns a context block of one mrkdwn line.
func contextLine(text string) *slack.ContextBlock {
	return slack.NewContextBlock("", mrkdwn(truncRaw(text, maxContextText)))
}

// button returns a button whose text is cut to Slack's limit and whose
// value is ref encoded by the codec (always far under Slack's limit).
func button(actionID, text string, ref Ref) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, ref.Encode(), plain(text, maxButtonText))
}

// commentInput is the optional comment box of a form page. It does not
// dispatch actions: its value arrives with the submit button's state.
func commentInput(initial string, placeholder string) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(plain(placeholder, maxPlaceholder), ActionComment).
		WithMultiline(true).
		WithMaxLength(maxCommentInput).
		WithInitialValue(cutRunes(initial, maxCommentInput))
	return slack.NewInputBlock(BlockComment, plain("Comment (optional)", maxInputLabel), nil, el).
		WithOptional(true).
		WithDispatchAction(false)
}

// dueText reads "Answer by <date>." or "" when there is no deadline.
func dueText(verb string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf(" %s by %s.", verb, slackDate(t))
}

// pageLine is the context under a form's intro: campaign id and page.
func pageLine(campaignID int64, page, pages, rows int, extra ...string) string {
	parts := append([]string(nil), extra...)
	if campaignID > 0 {
		parts = append(parts, fmt.Sprintf("Campaign #%d", campaignID))
	}
	if pages > 1 {
		parts = append(parts, fmt.Sprintf("page %d of %d", max(page, 1), pages))
	}
	parts = append(parts, plural(rows, "item"))
	return strings.Join(parts, " · ")
}

// plural returns "1 item" or "3 items".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
