package handlers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// Reply is the immediate answer to a slash command, sent with the ack
// (only the caller sees it).
type Reply struct {
	Text   string
	Blocks []slack.Block
}

// Slash handles `/access-review ...`. Quick answers (help, refusals, the
// modal) come back as the Reply; slow work (a launch over thousands of
// users) runs in the background and answers by DM.
func (h *Handler) Slash(ctx context.Context, cmd slack.SlashCommand) Reply {
	if first, err := h.Store.MarkHandled(ctx, "cmd:"+cmd.TriggerID, h.now()); err != nil || !first {
		return Reply{}
	}
	fields := strings.Fields(cmd.Text)
	sub := ""
	if len(fields) > 0 {
		sub = strings.ToLower(fields[0])
	}
	args := fields[min(1, len(fields)):]
	log := h.Log.With().Str("command", sub).Str("slack_user", cmd.UserID).Logger()
	if sub == "" || sub == "help" {
		return Reply{Text: "How to use " + h.Settings.Command, Blocks: blocks.HelpBlocks(h.Settings.Command)}
	}
	if sub == "retry" {
		return h.retry(ctx, cmd, args)
	}
	switch sub {
	case "start", "status", "remind", "close", "report":
	default:
		return Reply{Text: fmt.Sprintf("Unknown subcommand %q.", sub), Blocks: blocks.HelpBlocks(h.Settings.Command)}
	}
	admin, err := h.IsAdmin(ctx, cmd.UserID)
	if err != nil {
		log.Error().Err(err).Msg("admin check failed")
		return Reply{Text: ":warning: Could not check your permissions with Slack; try again."}
	}
	if !admin {
		log.Warn().Msg("non-admin command refused")
		return Reply{Text: ":no_entry: Only IAM admins may " + sub + " campaigns."}
	}
	actor, err := h.actor(ctx, cmd.UserID, cmd.TeamID)
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	switch sub {
	case "start":
		if len(args) == 0 {
			return h.openLaunchModal(ctx, cmd.TriggerID, "", "")
		}
		return h.launchByName(ctx, strings.Join(args, " "), actor, time.Time{})
	case "status":
		return h.status(ctx, args)
	}
	if len(args) != 1 {
		return Reply{Text: fmt.Sprintf("Usage: %s %s ID", h.Settings.Command, sub)}
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil {
		return Reply{Text: fmt.Sprintf("%q is not a campaign id.", args[0])}
	}
	switch sub {
	case "close":
		c, plan, err := h.Engine.Close(ctx, id, actor)
		if err != nil {
			return Reply{Text: userMessage(err)}
		}
		return Reply{Text: fmt.Sprintf("Campaign %d is %s; the plan (%d items) is posted for approval.", c.ID, c.State, len(plan))}
	case "remind":
		return h.remindNow(ctx, id)
	default: // report
		return h.report(ctx, id)
	}
}

// launchByName launches the definition with that name (or file name).
func (h *Handler) launchByName(ctx context.Context, name string, actor campaign.Actor, deadline time.Time) Reply {
	d, err := h.definition(name)
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	c, err := h.Engine.Launch(ctx, campaign.LaunchRequest{Definition: d.Def, YAML: d.YAML, Owner: actor, Trigger: "slack", Deadline: deadline})
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	h.postStatus(ctx, c)
	life := h.Life
	if life == nil {
		life = context.WithoutCancel(ctx)
	}
	go h.watchDelivery(life, c, actor.UserID)
	return Reply{Text: fmt.Sprintf("Launched campaign %d: *%s* (%s until %s). Use `%s status %d` to follow it.",
		c.ID, c.Name, c.State, c.StageDeadline().Format("Mon 2 Jan 15:04 UTC"), h.Settings.Command, c.ID)}
}

// definition finds a launchable definition by name or file name.
func (h *Handler) definition(name string) (campaign.DefinitionFile, error) {
	defs, err := h.Settings.Definitions()
	if err != nil && len(defs) == 0 {
		return campaign.DefinitionFile{}, err
	}
	var names []string
	for _, d := range defs {
		base := d.Path[strings.LastIndex(d.Path, "/")+1:]
		if strings.EqualFold(d.Def.Name, name) || strings.EqualFold(strings.TrimSuffix(base, ".yaml"), name) {
			return d, nil
		}
		names = append(names, d.Def.Name)
	}
	return campaign.DefinitionFile{}, fmt.Errorf("no campaign definition named %q; known: %s: %w", name, strings.Join(names, ", "), campaign.ErrNotFound)
}

// openLaunchModal opens the launch modal on the command's trigger.
func (h *Handler) openLaunchModal(ctx context.Context, trigger, selected, errText string) Reply {
	defs, err := h.Settings.Definitions()
	if err != nil && len(defs) == 0 {
		return Reply{Text: userMessage(err)}
	}
	m := blocks.LaunchModal{Selected: selected, Error: errText}
	for _, d := range defs {
		m.Definitions = append(m.Definitions, d.Def.Name)
	}
	if _, err := h.API.OpenViewContext(ctx, trigger, blocks.LaunchModalView(m)); err != nil {
		h.Log.Error().Err(err).Msg("open launch modal")
		return Reply{Text: ":warning: Could not open the launch form: " + err.Error()}
	}
	return Reply{}
}

// ViewSubmission handles a modal's submit. It returns field errors to show
// in the modal (the ack carries them), or nil to close it.
func (h *Handler) ViewSubmission(ctx context.Context, cb slack.InteractionCallback) map[string]string {
	// A redelivered submission (same trigger) must not launch twice.
	if first, err := h.Store.MarkHandled(ctx, "view:"+cb.View.ID+":"+cb.TriggerID, h.now()); err != nil || !first {
		return nil
	}
	actor, err := h.actor(ctx, cb.User.ID, cb.User.TeamID)
	if err != nil {
		return map[string]string{firstBlock(cb): userMessage(err)}
	}
	values := cb.View.State.Values
	switch cb.View.CallbackID {
	case blocks.CallbackLaunch:
		if ok, err := h.IsAdmin(ctx, cb.User.ID); err != nil || !ok {
			return map[string]string{blocks.BlockDefinition: "Only IAM admins may launch campaigns."}
		}
		name := values[blocks.BlockDefinition][blocks.ActionDefinition].SelectedOption.Value
		if _, err := h.definition(name); err != nil {
			return map[string]string{blocks.BlockDefinition: userMessage(err)}
		}
		var deadline time.Time
		if ds := values[blocks.BlockDeadline][blocks.ActionDeadline].SelectedDate; ds != "" {
			t, err := time.Parse("2006-01-02", ds)
			if err != nil || !t.After(h.now()) {
				return map[string]string{blocks.BlockDeadline: "Pick a date in the future."}
			}
			deadline = t.Add(17 * time.Hour) // end of the working day, UTC
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			defer cancel()
			r := h.launchByName(ctx, name, actor, deadline)
			_ = h.post(ctx, actor.UserID, "launched:"+cb.View.ID, r.Text)
		}()
		return nil
	case blocks.CallbackDelegate:
		return h.submitDelegate(ctx, cb, actor)
	}
	h.Log.Warn().Str("callback", cb.View.CallbackID).Msg("unknown view submission dropped")
	return nil
}

func firstBlock(cb slack.InteractionCallback) string {
	for id := range cb.View.State.Values {
		return id
	}
	return ""
}

// previewLaunch updates the launch modal with what the chosen definition
// would cover in the latest snapshot, before anything is launched.
func (h *Handler) previewLaunch(ctx context.Context, cb slack.InteractionCallback, name string) {
	if ok, err := h.IsAdmin(ctx, cb.User.ID); err != nil || !ok {
		return
	}
	m := blocks.LaunchModal{Selected: name}
	defs, _ := h.Settings.Definitions()
	for _, d := range defs {
		m.Definitions = append(m.Definitions, d.Def.Name)
	}
	if d, err := h.definition(name); err != nil {
		m.Error = userMessage(err)
	} else if p, err := h.Engine.Preview(ctx, d.Def); err != nil {
		m.Error = userMessage(err)
	} else {
		m.Preview = &blocks.Preview{Cases: p.Cases, Members: p.Members, Reviewers: len(p.Reviewers), Apps: p.Apps, Flags: p.Flags}
	}
	if _, err := h.API.UpdateViewContext(ctx, blocks.LaunchModalView(m), "", cb.View.Hash, cb.View.ID); err != nil {
		h.Log.Warn().Err(err).Msg("update launch preview")
	}
}

// retry requeues a campaign's failed removals: `retry ID`, approvers only
// (the engine checks, asking Slack for group membership now).
func (h *Handler) retry(ctx context.Context, cmd slack.SlashCommand, args []string) Reply {
	if len(args) != 1 {
		return Reply{Text: fmt.Sprintf("Usage: %s retry ID", h.Settings.Command)}
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil {
		return Reply{Text: fmt.Sprintf("%q is not a campaign id.", args[0])}
	}
	actor, err := h.actor(ctx, cmd.UserID, cmd.TeamID)
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	n, err := h.Engine.RetryFailed(ctx, id, actor)
	if err != nil {
		return Reply{Text: userMessage(err)}
	}
	return Reply{Text: fmt.Sprintf("Requeued %d failed removal(s) of campaign %d; the executor picks them up within a minute.", n, id)}
}
