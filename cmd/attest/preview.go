package main

// `attest preview`: Block Kit Builder links with the exact JSON attest
// sends for each surface, so a security reviewer can look at the forms
// before the app is installed. The JSON is not rebuilt for the occasion:
// a small synthetic org runs through the real serve in the demo's sandbox
// (the blocks/ builders, fed by the handlers from real campaign data) and
// each surface is taken from the Web API call the bot made to the fake
// Slack, byte for byte.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
)

// blockKitBuilder is Slack's Block Kit Builder; the surface's JSON goes
// in the fragment, URL-encoded ({"blocks":[...]} for a message, the view
// object for a modal or the App Home).
const blockKitBuilder = "https://app.slack.com/block-kit-builder/#"

// previewPeople is the size of the sample org: enough for a member with a
// few apps and groups and a manager with a team.
const previewPeople = 40

// surface is one thing attest shows in Slack.
type surface struct {
	Name string `json:"name"`
	What string `json:"what"`
	// Kind is message, modal or home: which Validate applies.
	Kind string `json:"kind"`
	// JSON is what Block Kit Builder opens: the message's blocks as
	// {"blocks":[...]}, or the view object as sent.
	JSON json.RawMessage `json:"json"`
	URL  string          `json:"url"`
}

func cmdPreview(e *env, args []string) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	defPath := fs.String("definition", "", "campaign definition FILE whose forms to show (default: the demo's review of every app, confirmed by managers and app owners)")
	cfgPath := fs.String("config", "", "config FILE whose slack.command, risk and okta.system_log_days the surfaces use")
	asJSON := fs.Bool("json", false, "print the surfaces as JSON: name, kind, the JSON and the link")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: attest preview [--definition FILE] [--config FILE] [--json]")
		fmt.Fprintln(e.stderr, "\nPrints a Block Kit Builder link for each surface attest shows in Slack, with the exact JSON it sends.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("preview takes no arguments; the definition goes with --definition FILE")
	}
	var o previewOptions
	if *defPath != "" {
		raw, err := os.ReadFile(*defPath)
		if err != nil {
			return fmt.Errorf("--definition: %w", err)
		}
		if _, err := campaign.ParseDefinition(*defPath, raw); err != nil {
			return err
		}
		o.definition = string(raw)
	}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath, e.getenv)
		if err != nil {
			return err
		}
		o.config = cfg
	}
	ss, err := previewSurfaces(e.ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, ss)
	}
	return printSurfaces(e.stdout, ss)
}

// previewOptions say what to preview.
type previewOptions struct {
	definition string         // YAML; "" for the demo's definition
	config     *config.Config // display keys taken from it; nil for defaults
}

// previewDef is the demo's definition with the app-owner stage on, one
// owner for every app, so the owner's form has something to show.
func previewDef(in defInput) string {
	owners := make([]string, len(in.Apps))
	for i, a := range in.Apps {
		label, _ := json.Marshal(a) // a JSON string is a YAML flow scalar
		owners[i] = fmt.Sprintf("%s: [%s]", label, in.Owner)
	}
	stage := fmt.Sprintf("  app_owner: {enabled: true, duration: 5d, owners: {%s}}\n", strings.Join(owners, ", "))
	const managers = "  manager: {enabled: true, duration: 7d}\n"
	return strings.Replace(demoDef(in), managers, managers+stage, 1)
}

// previewSurfaces runs the sample campaign through serve and returns each
// surface as the bot sent it, checked against Slack's limits.
func previewSurfaces(ctx context.Context, o previewOptions) ([]surface, error) {
	dir, err := os.MkdirTemp("", "attest-preview-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	def := previewDef
	if o.definition != "" {
		def = func(defInput) string { return o.definition }
	}
	w, err := startWorld(ctx, worldOptions{dir: dir, people: previewPeople, seed: 1, definition: def, log: zerolog.Nop(),
		tweak: func(c *config.Config) {
			if o.config != nil {
				c.Slack.Command, c.Risk, c.Okta.SystemLogDays = o.config.Slack.Command, o.config.Risk, o.config.Okta.SystemLogDays
			}
		}})
	if err != nil {
		return nil, err
	}
	defer w.stop()
	ss, err := captureSurfaces(ctx, w)
	if err != nil {
		return nil, err
	}
	for i := range ss {
		if err := validateSurface(ss[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", ss[i].Name, err)
		}
		ss[i].URL = builderURL(ss[i].JSON)
	}
	return ss, nil
}

// captureSurfaces walks the sample campaign from launch to approval and
// takes each surface from the bot's call to the fake Slack. A stage the
// definition switches off has no form to show.
func captureSurfaces(ctx context.Context, w *world) ([]surface, error) {
	var out []surface
	// The launch modal: `/access-review start` with no name.
	if _, err := w.slash(ctx, w.admin, "start"); err != nil {
		return nil, err
	}
	var view json.RawMessage
	if err := w.wait(ctx, "the launch modal", func() (bool, error) {
		var err error
		view, err = sentView(w, "views.open", "")
		return err == nil, nil
	}); err != nil {
		return nil, err
	}
	out = append(out, surface{Name: "launch modal", Kind: "modal", JSON: view,
		What: "what an IAM admin fills in after `/access-review start`: the definition and the deadline"})

	s := newSim(w, 1, newProgress(io.Discard))
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	c, err := w.app.Store.GetCampaign(ctx, s.id)
	if err != nil {
		return nil, err
	}
	selfAttest, managers := c.Definition.Stages.SelfAttestation.On(), c.Definition.Stages.Manager.On()
	member, manager, err := sampleMember(ctx, w, s.id)
	if err != nil {
		return nil, err
	}
	if selfAttest {
		form, err := awaitBlocks(ctx, w, "the sample member's form", fmt.Sprintf("post:m:%d:%s:1:", s.id, member.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, surface{Name: "member form", Kind: "message", JSON: form,
			What: fmt.Sprintf("the DM a member gets: %s's apps and groups, each Needed / Not needed / Not sure", member.DisplayName())})
	}

	// The App Home, as the IAM admin opens it while the review runs.
	before := len(w.slack.Calls("views.publish"))
	w.slack.SendEvent(map[string]any{"type": "app_home_opened", "user": w.admin.ID, "tab": "home", "channel": "D0HOME"})
	var home json.RawMessage
	if err := w.wait(ctx, "the App Home", func() (bool, error) {
		if len(w.slack.Calls("views.publish")) == before {
			return false, nil
		}
		home, err = sentView(w, "views.publish", w.admin.ID)
		return err == nil, nil
	}); err != nil {
		return nil, err
	}
	out = append(out, surface{Name: "App Home", Kind: "home", JSON: home,
		What: "the app's Home tab of an IAM admin: their pending reviews and every running campaign's progress"})

	if selfAttest {
		if err := s.answerMembers(ctx); err != nil {
			return nil, err
		}
		if managers {
			if err := s.startStage2(ctx); err != nil {
				return nil, err
			}
		}
	}
	if managers {
		form, err := awaitBlocks(ctx, w, "the sample manager's form", fmt.Sprintf("post:r:%d:%s:%s:1:", s.id, manager.ID, member.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, surface{Name: "manager form", Kind: "message", JSON: form,
			What: fmt.Sprintf("the DM a manager gets for each member: %s's answers, usage and risk, Keep / Revoke", member.DisplayName())})
		if err := revokeAll(ctx, w, s.id, manager.ID, member.ID); err != nil {
			return nil, err
		}
	}
	if c.Definition.Stages.AppOwner.On() {
		owner, err := ownerSurface(ctx, w, s)
		if err != nil {
			return nil, err
		}
		out = append(out, owner)
	}
	// Closed with the other decisions open: the plan holds what members
	// said they do not need and the sample manager's revokes.
	if _, err := s.close(ctx); err != nil {
		return nil, err
	}
	form, err := awaitBlocks(ctx, w, "the approval message", fmt.Sprintf("post:approval:%d", s.id))
	if err != nil {
		return nil, err
	}
	out = append(out, surface{Name: "approval message", Kind: "message", JSON: form,
		What: "the removal plan posted in the approvals channel, with its guarded Approve / Reject"})
	return out, nil
}

// ownerSurface lets the manager stage's deadline pass, so the app-owner
// stage starts, and takes the first page of the first owner's form.
func ownerSurface(ctx context.Context, w *world, s *sim) (surface, error) {
	c, err := w.app.Store.GetCampaign(ctx, s.id)
	if err != nil {
		return surface{}, err
	}
	if d := c.Deadline.Sub(w.clock.Now()); d > 0 {
		w.clock.Advance(d + time.Minute)
	}
	w.app.Tick(ctx)
	// "post:ao:<campaign>:<owner>:<app>:<page>:<version>"
	prefix := fmt.Sprintf("post:ao:%d:", s.id)
	var form json.RawMessage
	var key string
	err = w.wait(ctx, "an app owner's form", func() (bool, error) {
		form, key = sentBlocksKey(w, prefix)
		return form != nil, nil
	})
	if err != nil {
		return surface{}, err
	}
	label := "an app"
	if f := strings.Split(strings.TrimPrefix(key, prefix), ":"); len(f) >= 2 {
		if a := w.org.App(f[1]); a != nil {
			label = a.Label
		}
	}
	return surface{Name: "owner form", Kind: "message", JSON: form,
		What: fmt.Sprintf("the DM an app owner gets: who keeps %s, by team, with the member's and manager's answers, Keep / Revoke", label)}, nil
}

// awaitBlocks waits for the bot's chat.postMessage of the outbox key
// prefix and returns its blocks (see sentBlocks).
func awaitBlocks(ctx context.Context, w *world, what, keyPrefix string) (json.RawMessage, error) {
	var form json.RawMessage
	err := w.wait(ctx, what, func() (bool, error) {
		form = sentBlocks(w, keyPrefix)
		return form != nil, nil
	})
	return form, err
}

// revokeAll has the manager revoke every open case of the member on
// their form, through the fake Slack, and waits until it is recorded.
func revokeAll(ctx context.Context, w *world, id int64, manager, member string) error {
	su, ok := w.slackUser(manager)
	if !ok {
		return fmt.Errorf("the sample manager %s has no Slack account", manager)
	}
	cases, err := w.app.Store.Cases(ctx, id, campaign.CaseQuery{UserID: member})
	if err != nil {
		return err
	}
	mine := map[int64]bool{}
	for _, c := range cases {
		mine[c.ID] = true
	}
	var acks []string
	for _, f := range forms(w.dm(su.ID), blocks.ActionReviewerSubmit) {
		choices := map[int64]string{}
		for _, cid := range caseIDs(f) {
			if mine[cid] {
				choices[cid] = campaign.DecisionRevoke
			}
		}
		if len(choices) == 0 {
			continue
		}
		env, err := w.click(su, f, blocks.ActionReviewerSubmit, choices)
		if err != nil {
			return err
		}
		acks = append(acks, env)
	}
	if err := w.awaitAcks(acks); err != nil {
		return err
	}
	return w.wait(ctx, "the sample manager's decisions", func() (bool, error) {
		p, err := w.app.Store.CaseProgress(ctx, id)
		return err == nil && !slices.Contains(p.ReviewerMembers[manager], member), err
	})
}

// sampleMember picks the member whose forms are shown: a few entitlements
// (one form page), some granted by a group, and a manager who reviews a
// team of two or more.
func sampleMember(ctx context.Context, w *world, id int64) (member, manager campaign.User, err error) {
	c, err := w.app.Store.GetCampaign(ctx, id)
	if err != nil {
		return member, manager, err
	}
	cases, err := w.app.Store.Cases(ctx, id, campaign.CaseQuery{})
	if err != nil {
		return member, manager, err
	}
	byUser, team := map[string][]campaign.CaseRecord{}, map[string]map[string]bool{}
	for _, cs := range cases {
		byUser[cs.UserID] = append(byUser[cs.UserID], cs)
		if cs.ManagerID != "" {
			if team[cs.ManagerID] == nil {
				team[cs.ManagerID] = map[string]bool{}
			}
			team[cs.ManagerID][cs.UserID] = true
		}
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	slices.Sort(users)
	best, bestScore := "", -1
	for _, u := range users {
		cs := byUser[u]
		mgr := cs[0].ReviewerID
		viaGroup := slices.ContainsFunc(cs, func(x campaign.CaseRecord) bool { return len(x.ViaGroups) > 0 })
		if mgr == "" || mgr != cs[0].ManagerID || cs[0].Flags&campaign.FlagOrphaned != 0 || len(cs) < 2 || len(cs) > 10 {
			continue
		}
		score := len(cs)
		if viaGroup {
			score += 10
		}
		// A direct assignment makes an Okta operation when revoked, so
		// the approval message has a plan to approve.
		if slices.ContainsFunc(cs, func(x campaign.CaseRecord) bool { return x.Direct && len(x.ViaGroups) == 0 }) {
			score += 40
		}
		if len(team[mgr]) >= 2 {
			score += 20
		}
		if score > bestScore {
			best, bestScore = u, score
		}
	}
	if best == "" {
		return member, manager, errors.New("the definition covers nobody with a manager in the sample org: preview needs one member and their manager")
	}
	if member, err = w.app.Store.FindUser(ctx, c.SnapshotID, best); err != nil {
		return member, manager, err
	}
	manager, err = w.app.Store.FindUser(ctx, c.SnapshotID, byUser[best][0].ReviewerID)
	return member, manager, err
}

// sentBlocks returns {"blocks":[...]} of the first chat.postMessage the
// bot made for the outbox key prefix (its metadata names it), or nil.
func sentBlocks(w *world, keyPrefix string) json.RawMessage {
	raw, _ := sentBlocksKey(w, keyPrefix)
	return raw
}

// sentBlocksKey is sentBlocks that also returns the message's whole key.
func sentBlocksKey(w *world, keyPrefix string) (json.RawMessage, string) {
	for _, c := range w.slack.Calls("chat.postMessage") {
		if c.Status != 200 || c.Error != "" {
			continue
		}
		var meta struct {
			Payload struct {
				Key string `json:"key"`
			} `json:"event_payload"`
		}
		_ = json.Unmarshal([]byte(c.Form.Get("metadata")), &meta)
		if strings.HasPrefix(meta.Payload.Key, keyPrefix) && c.Form.Get("blocks") != "" {
			return json.RawMessage(`{"blocks":` + c.Form.Get("blocks") + `}`), meta.Payload.Key
		}
	}
	return nil, ""
}

// sentView returns the view of the last successful call of method (for
// views.publish, the one for user). slack-go sends views as a JSON body,
// which the fake keeps decoded: the view is encoded again, the same
// object (JSON objects are unordered).
func sentView(w *world, method, user string) (json.RawMessage, error) {
	calls := w.slack.Calls(method)
	for i := len(calls) - 1; i >= 0; i-- {
		c := calls[i]
		if c.Status != 200 || c.Error != "" {
			continue
		}
		if raw := c.Form.Get("view"); raw != "" && (user == "" || c.Form.Get("user_id") == user) {
			return json.RawMessage(raw), nil
		}
		if v, ok := c.JSON["view"]; ok && (user == "" || c.JSON["user_id"] == user) {
			return json.Marshal(v)
		}
	}
	return nil, fmt.Errorf("attest made no successful %s call", method)
}

// validateSurface checks the JSON against Slack's Block Kit limits with
// the checks the bot's tests use.
func validateSurface(s surface) error {
	switch s.Kind {
	case "modal":
		var v slack.ModalViewRequest
		if err := json.Unmarshal(s.JSON, &v); err != nil {
			return err
		}
		return blocks.ValidateModal(v)
	case "home":
		var v slack.HomeTabViewRequest
		if err := json.Unmarshal(s.JSON, &v); err != nil {
			return err
		}
		return blocks.ValidateHome(v)
	}
	var m struct {
		Blocks slack.Blocks `json:"blocks"`
	}
	if err := json.Unmarshal(s.JSON, &m); err != nil {
		return err
	}
	return blocks.Validate(blocks.Message, m.Blocks.BlockSet)
}

// builderURL is a Block Kit Builder link opening raw, encoded as
// JavaScript's encodeURIComponent encodes (what the Builder decodes).
func builderURL(raw json.RawMessage) string {
	var b strings.Builder
	b.WriteString(blockKitBuilder)
	for _, c := range []byte(raw) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// decodeBuilderURL returns the JSON a Block Kit Builder link opens.
func decodeBuilderURL(link string) (json.RawMessage, error) {
	frag, ok := strings.CutPrefix(link, blockKitBuilder)
	if !ok {
		return nil, fmt.Errorf("not a Block Kit Builder link: %.60s", link)
	}
	s, err := url.PathUnescape(frag)
	return json.RawMessage(s), err
}

// printSurfaces prints each surface's name, what it is, and its link.
func printSurfaces(out io.Writer, ss []surface) error {
	fmt.Fprintln(out, "What attest sends in Slack, as Block Kit Builder links (each opens the exact JSON; sample data):")
	for i, s := range ss {
		fmt.Fprintf(out, "\n%d. %s: %s (%s, %s bytes of JSON, within Block Kit's limits)\n%s\n", i+1, s.Name, s.What, s.Kind,
			strconv.Itoa(len(s.JSON)), s.URL)
	}
	_, err := fmt.Fprintln(out, "\nBlock Kit Builder opens a link in the workspace you are signed in to; nothing is sent to anyone.")
	return err
}
