package hooks

import (
	"context"
	"fmt"
	"strings"

	"github.com/attestbot/attest/internal/hookevent"
)

// maxWhy bounds the reason quoted to the IAM team; the whole error is in
// the log and on the stored event.
const maxWhy = 300

// Failed is the Processor's Failed: it tells the IAM team, through
// Unreviewable, that an event could not be reviewed, naming the event,
// whom and what it was about, who acted, and why, so the access it
// reports is looked at by hand instead of silently never reviewed. The
// message is keyed by the event's uuid, so retried reports post once. It
// returns Unreviewable's error (the Processor then reports again later);
// without Unreviewable it does nothing.
func (t *Triggers) Failed(ctx context.Context, ev hookevent.Event, why error) error {
	if t.Unreviewable == nil {
		return nil
	}
	return t.Unreviewable(ctx, "unreviewable:"+ev.UUID, unreviewableText(ev, why))
}

// unreviewableText is the plain-text notice of an event that could not
// be reviewed. Its values come from the event (an attacker can choose a
// login or a display name): the Slack side shows the text literally.
func unreviewableText(ev hookevent.Event, why error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Could not review Okta event %s (%s", ev.UUID, firstOf(ev.EventType, "unknown type"))
	if !ev.Published.IsZero() {
		fmt.Fprintf(&b, ", %s", ev.Published.UTC().Format("2006-01-02 15:04:05Z"))
	}
	b.WriteString(")")
	if u, ok := ev.UserTarget(); ok {
		fmt.Fprintf(&b, " about user %s", describe(u))
	}
	for _, t := range ev.Target {
		if !strings.EqualFold(t.Type, "User") {
			fmt.Fprintf(&b, ", %s %s", t.Type, describe(t))
			break
		}
	}
	if actor := firstOf(ev.Actor.AlternateID, ev.Actor.ID); actor != "" {
		fmt.Fprintf(&b, ", by %s", actor)
	}
	reason := "unknown"
	if why != nil {
		reason = why.Error()
	}
	if len(reason) > maxWhy {
		reason = strings.ToValidUTF8(reason[:maxWhy], "") + "…"
	}
	fmt.Fprintf(&b, ": %s. Nothing was opened for it: review this access by hand (System Log: uuid eq %q).", reason, ev.UUID)
	return b.String()
}

// describe names a target by its readable name and its id.
func describe(t hookevent.Target) string {
	name := firstOf(t.AlternateID, t.DisplayName)
	if name == "" || name == t.ID {
		return t.ID
	}
	return fmt.Sprintf("%s (%s)", name, t.ID)
}
