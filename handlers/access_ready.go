package handlers

// The user map's state as Access sees it: whether the first map of Okta
// users to Slack users exists yet (before it, everyone would be told their
// account is not linked), and which Slack users the last map found
// ambiguous (one email, several Okta users).

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
)

// DefaultMapWait is how long an interaction that arrives before the first
// user map waits for it: within the bot's two minutes for one envelope,
// with time left to do the work once the map exists.
const DefaultMapWait = 90 * time.Second

// msgStarting is what a person reads when they act before the first map.
const msgStarting = ":hourglass: attest is starting; your command will be answered in a moment."

// errStillStarting answers an interaction whose wait for the map ran out.
var errStillStarting = campaign.Errorf(campaign.ETransient,
	"attest is still starting: it has not finished matching Okta users to Slack accounts, so it cannot tell who you are yet. "+
		"Please try again in a few minutes.")

// readiness is the gate: armed (AwaitMap) until the first map (MarkMapped).
type readiness struct {
	mu        sync.Mutex
	armed     bool
	ch        chan struct{} // closed by MarkMapped
	ambiguous map[string]bool
}

// gate returns the channel MarkMapped closes, and whether interactions
// must wait on it.
func (a *Access) gate() (chan struct{}, bool) {
	a.ready.mu.Lock()
	defer a.ready.mu.Unlock()
	if a.ready.ch == nil {
		a.ready.ch = make(chan struct{})
	}
	select {
	case <-a.ready.ch:
		return a.ready.ch, false
	default:
		return a.ready.ch, a.ready.armed
	}
}

// AwaitMap makes interactions wait for the first user map (MarkMapped):
// serve calls it before Slack connects. Without it, as in tests and the
// CLI, interactions never wait.
func (a *Access) AwaitMap() {
	a.gate()
	a.ready.mu.Lock()
	a.ready.armed = true
	a.ready.mu.Unlock()
}

// MarkMapped records that the user map exists; interactions waiting for
// it go on. Later calls do nothing.
func (a *Access) MarkMapped() {
	ch, _ := a.gate()
	a.ready.mu.Lock()
	defer a.ready.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// Mapped reports whether an interaction can be resolved now, without
// waiting for the first user map.
func (a *Access) Mapped() bool {
	_, wait := a.gate()
	return !wait
}

// waitMapped waits for the first user map up to MapWait; it returns
// errStillStarting when the wait runs out (or ctx ends) first.
func (a *Access) waitMapped(ctx context.Context) error {
	ch, wait := a.gate()
	if !wait {
		return nil
	}
	d := a.MapWait
	if d <= 0 {
		d = DefaultMapWait
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return errStillStarting
}

// SetAmbiguous records the Slack users the last map found carrying an
// email that several active Okta users share; Actor refuses them saying
// so, instead of "not linked".
func (a *Access) SetAmbiguous(slackIDs map[string]bool) {
	a.ready.mu.Lock()
	defer a.ready.mu.Unlock()
	a.ready.ambiguous = slackIDs
}

func (a *Access) isAmbiguous(slackID string) bool {
	a.ready.mu.Lock()
	defer a.ready.mu.Unlock()
	return a.ready.ambiguous[slackID]
}

// tellStarting tells someone who acted before the first user map that
// their request will be answered, at once through the interaction's
// response_url (only the person sees it), since the outbox is not
// delivered before the map exists. It does nothing once mapped or
// without a response_url Slack would have issued; a failure is logged.
func (a *Access) tellStarting(ctx context.Context, responseURL string) {
	if a.Mapped() || !slackResponseURL(responseURL) {
		return
	}
	msg := &slack.WebhookMessage{Text: msgStarting, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: false}
	if err := slack.PostWebhookContext(ctx, responseURL, msg); err != nil {
		a.Log.Warn().Err(err).Msg("tell an early user that attest is starting")
	}
}

// slackResponseURL reports whether u is a response_url Slack issues
// (https on hooks.slack.com or hooks.slack-gov.com), or a loopback test
// server's: a payload's URL is never posted to anywhere else.
func slackResponseURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := p.Hostname()
	switch {
	case p.Scheme == "https" && (host == "hooks.slack.com" || host == "hooks.slack-gov.com"):
		return true
	case p.Scheme == "http" && (host == "127.0.0.1" || host == "::1" || host == "localhost"):
		return true
	}
	return false
}

// TellStarting is Access.tellStarting for the slash command's
// response_url (see Interactions.Slash).
func (x *Interactions) TellStarting(ctx context.Context, responseURL string) {
	if x.Access != nil && strings.TrimSpace(responseURL) != "" {
		x.Access.tellStarting(ctx, responseURL)
	}
}
