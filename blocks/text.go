package blocks

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// ellipsis marks text that was cut to fit a limit.
const ellipsis = "…"

// deadlineLayout is how dates read in text and in fallbacks.
const deadlineLayout = "Mon 2 Jan 2006 15:04 UTC"

// fallbackMax bounds Fallback's result: notification previews show far
// less than chat.postMessage accepts, and a short text keeps the payload
// small.
const fallbackMax = 500

// oneLine collapses every run of white space (newlines included) and drops
// control characters, so user-supplied text cannot break a layout.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r) || r == utf8.RuneError:
			// dropped: Slack renders neither usefully
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeRune returns the mrkdwn-safe form of r.
func escapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

// escTrunc flattens s to one line, escapes it for mrkdwn and cuts it so the
// escaped result is at most max characters, ending in "…" when cut. It never
// splits an entity such as "&amp;". A negative max means no limit.
func escTrunc(s string, max int) string {
	s = oneLine(s)
	if max < 0 || escapedLen(s) <= max {
		return Escape(s)
	}
	if max < 1 {
		return ""
	}
	room := max - 1 // for the ellipsis
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := escapeRune(r)
		w := utf8.RuneCountInString(piece)
		if n+w > room {
			break
		}
		b.WriteString(piece)
		n += w
	}
	return strings.TrimRight(b.String(), " ") + ellipsis
}

// Escape returns s with Slack's mrkdwn control characters &, < and >
// written as entities, so text from data ("<!channel>", "<https://evil|Click
// here>", "<@U123>") is shown and never acted on. It is the one escape
// function: every text attest builds from data, in blocks or in a
// message's plain `text`, passes its data parts through it (the
// builders here through escTrunc, which calls it).
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteString(escapeRune(r))
	}
	return b.String()
}

func escapedLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf8.RuneCountInString(escapeRune(r))
	}
	return n
}

// trunc flattens s to one line and cuts it to at most max characters,
// ending in "…" when cut. It is for plain_text, which Slack never parses.
func trunc(s string, max int) string {
	return truncRaw(oneLine(s), max)
}

// truncRaw cuts s to at most max characters without flattening it.
func truncRaw(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	cut := 0
	for i := range s {
		if cut == max-1 {
			return strings.TrimRight(s[:i], " ") + ellipsis
		}
		cut++
	}
	return s
}

// cutRunes cuts s to at most max characters with no ellipsis, for values
// a handler matches exactly and a person never reads.
func cutRunes(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// mrkdwn returns a mrkdwn text object; the caller has escaped its parts.
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// plain returns a plain_text object cut to max characters.
func plain(s string, max int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, trunc(s, max), true, false)
}

// fmtTime formats t in UTC the way every surface shows dates.
func fmtTime(t time.Time) string {
	return t.UTC().Format(deadlineLayout)
}

// slackDate returns Slack's date token, which each reader sees in their
// own time zone, falling back to the UTC form in clients that cannot.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), fmtTime(t))
}

// day formats a calendar date, as in "last sign-in 2026-11-02".
func day(t time.Time) string {
	return t.UTC().Format("2006-01-02")
}

// mention returns "<@U123>" for a plausible Slack user id, else the escaped
// name (or email) cut to max characters. A mention is built only from an
// id that cannot smuggle markup.
func mention(p Person, max int) string {
	if validSlackID(p.SlackID) {
		return "<@" + p.SlackID + ">"
	}
	name := p.Name
	if strings.TrimSpace(name) == "" {
		name = p.Email
	}
	if strings.TrimSpace(name) == "" {
		return "someone"
	}
	return escTrunc(name, max)
}

// validSlackID reports whether id looks like a Slack user id (U… or W…,
// upper-case letters and digits).
func validSlackID(id string) bool {
	if len(id) < 2 || len(id) > 20 || (id[0] != 'U' && id[0] != 'W') {
		return false
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// safeURL reports whether u can sit inside "<u|label>" without breaking
// the link syntax or linking somewhere unexpected.
func safeURL(u string) bool {
	if len(u) > maxLinkURL {
		return false
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return false
	}
	return !strings.ContainsAny(u, "<>| \t\r\n")
}

// Fallback returns the notification text to send as chat.postMessage's
// `text` alongside blocks: one line, escaped for mrkdwn, at most 500
// characters. Empty input yields a generic text rather than an empty one,
// because Slack warns about messages with blocks and no text.
func Fallback(text string) string {
	s := escTrunc(text, fallbackMax)
	if s == "" {
		return "Access review update from attest"
	}
	return s
}
