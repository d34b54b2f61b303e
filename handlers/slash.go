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
// (only the caller sees it). Text is mrkdwn whose data parts are escaped.
type Reply struct {
	Text   string
	Blocks []slack.Block
}

// Slash handles `/access-review ...`. Quick answers (help, refusals, the
// modal) come back as the Reply; slow work (a launch over thousands of
// users) runs in the background and answers by DM. Every subcommand but
// help and retry is for IAM admins; retry is for approvers (the engine
// asks Slack at the moment of the retry).
func (x *Interactions) Slash(ctx context.Context, cmd slack.SlashCommand) Reply {
	if first, err := x.Store.MarkHandled(ctx, "cmd:"+cmd.TriggerID, x.now()); err != nil || !first {
		if err != nil {
			x.Log.Error().Err(err).Msg("record slash command")
		}
		return Reply{}
	}
	fields := strings.Fields(cmd.Text)
	sub := ""
	if len(fields) > 0 {
		sub = strings.ToLower(fields[0])
	}
	args := fields[min(1, len(fields)):]
	log := x.Log.With().Str("command", sub).Str("slack_user", cmd.UserID).Logger()
	switch sub {
	case "", "help":
		return Reply{Text: "How to use " + blocks.Escape(x.Settings.Command), Blocks: blocks.HelpBlocks(x.Settings.Command)}
	case "retry":
		return x.retry(ctx, cmd, args)
	case "start", "status", "remind", "close", "report":
	default:
		return Reply{Text: fmt.Sprintf("Unknown subcommand “%s”.", blocks.Escape(sub)), Blocks: blocks.HelpBlocks(x.Settings.Command)}
	}
	x.TellStarting(ctx, cmd.ResponseURL) // before the first user map, say so at once (access_ready.go)
	if err := x.Access.requireAdmin(ctx, cmd.UserID, sub+" campaigns"); err != nil {
		log.Warn().Err(err).Msg("command refused")
		return Reply{Text: userMessage(log, err)}
	}
	actor, err := x.Access.ActorIn(ctx, cmd.UserID, cmd.TeamID, cmd.EnterpriseID)
	if err != nil {
		return Reply{Text: userMessage(log, err)}
	}
	switch sub {
	case "start":
		if len(args) == 0 {
			return x.openLaunchModal(ctx, cmd.TriggerID)
		}
		return x.launchByName(ctx, strings.Join(args, " "), actor, time.Time{})
	case "status":
		return x.status(ctx, args)
	}
	id, reply := x.campaignArg(sub, args)
	if id == 0 {
		return reply
	}
	switch sub {
	case "close":
		c, plan, err := x.Engine.Close(ctx, id, actor)
		if err != nil {
			return Reply{Text: userMessage(log, refuse(err, closeRefusals(id)))}
		}
		return Reply{Text: fmt.Sprintf("Campaign %d is %s; the plan (%d items) is posted for approval.", c.ID, c.State, len(plan))}
	case "remind":
		return x.remindNow(ctx, id)
	default: // report
		return x.report(ctx, id)
	}
}

// campaignArg reads the one campaign id a subcommand takes; a zero id
// comes with the usage reply to send instead.
func (x *Interactions) campaignArg(sub string, args []string) (int64, Reply) {
	if len(args) != 1 {
		return 0, Reply{Text: fmt.Sprintf("Usage: %s %s ID", blocks.Escape(x.Settings.Command), sub)}
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil || id < 1 {
		return 0, Reply{Text: fmt.Sprintf("“%s” is not a campaign id.", blocks.Escape(args[0]))}
	}
	return id, Reply{}
}

// launchRefusals say why a launch was refused.
var launchRefusals = map[string]string{
	campaign.EForbidden: "You may not launch this campaign.",
	campaign.EInvalid:   "This campaign definition cannot be launched as it is; `attest check-config` and `attest plan` show why.",
	campaign.ENotFound:  "There is no Okta snapshot to review yet; run a sync first.",
	campaign.EConflict:  "This campaign is already running.",
}

// launchByName launches the definition with that name (or file name).
func (x *Interactions) launchByName(ctx context.Context, name string, actor campaign.Actor, deadline time.Time) Reply {
	d, err := x.definition(name)
	if err != nil {
		return Reply{Text: userMessage(x.Log, err)}
	}
	c, err := x.Engine.Launch(ctx, campaign.LaunchRequest{Definition: d.Def, YAML: d.YAML, Owner: actor, Trigger: "slack", Deadline: deadline})
	if err != nil {
		x.Log.Info().Err(err).Str("definition", d.Def.Name).Msg("launch refused")
		return Reply{Text: userMessage(x.Log, refuse(err, launchRefusals))}
	}
	x.Out.PostStatus(ctx, c)
	x.spawn(ctx, 7*24*time.Hour, func(ctx context.Context) { x.Out.WatchDelivery(ctx, c, actor.UserID) })
	return Reply{Text: fmt.Sprintf("Launched campaign %d: *%s* (%s until %s). Use `%s status %d` to follow it.",
		c.ID, blocks.Escape(c.Name), c.State, c.StageDeadline().Format("Mon 2 Jan 15:04 UTC"), blocks.Escape(x.Settings.Command), c.ID)}
}

// definition finds a launchable definition by name or file name; the
// not-found error's message lists the known names (admins only see it).
func (x *Interactions) definition(name string) (campaign.DefinitionFile, error) {
	defs, err := x.Settings.Definitions()
	if err != nil && len(defs) == 0 {
		return campaign.DefinitionFile{}, fmt.Errorf("read campaign definitions: %w", err)
	}
	var names []string
	for _, d := range defs {
		base := d.Path[strings.LastIndex(d.Path, "/")+1:]
		if strings.EqualFold(d.Def.Name, name) || strings.EqualFold(strings.TrimSuffix(base, ".yaml"), name) {
			return d, nil
		}
		names = append(names, d.Def.Name)
	}
	return campaign.DefinitionFile{}, campaign.Errorf(campaign.ENotFound, "There is no campaign definition named “%s”; known: %s.",
		name, strings.Join(names, ", "))
}

// openLaunchModal opens the launch modal on the command's trigger.
func (x *Interactions) openLaunchModal(ctx context.Context, trigger string) Reply {
	defs, err := x.Settings.Definitions()
	if err != nil && len(defs) == 0 {
		return Reply{Text: userMessage(x.Log, fmt.Errorf("read campaign definitions: %w", err))}
	}
	m := blocks.LaunchModal{}
	for _, d := range defs {
		m.Definitions = append(m.Definitions, d.Def.Name)
	}
	if _, err := x.Views.OpenViewContext(ctx, trigger, blocks.LaunchModalView(m)); err != nil {
		x.Log.Error().Err(err).Msg("open launch modal")
		return Reply{Text: ":warning: Could not open the launch form; please try again."}
	}
	return Reply{}
}

// previewLaunch updates the launch modal with what the chosen definition
// would cover in the latest snapshot, before anything is launched.
func (x *Interactions) previewLaunch(ctx context.Context, cb slack.InteractionCallback, name string) {
	if ok, err := x.Access.IsAdmin(ctx, cb.User.ID); err != nil || !ok {
		return
	}
	m := blocks.LaunchModal{Selected: name}
	defs, _ := x.Settings.Definitions()
	for _, d := range defs {
		m.Definitions = append(m.Definitions, d.Def.Name)
	}
	if d, err := x.definition(name); err != nil {
		m.Error = sentence(x.Log, err)
	} else if p, err := x.Engine.Preview(ctx, d.Def); err != nil {
		m.Error = sentence(x.Log, refuse(err, launchRefusals))
	} else {
		m.Preview = &blocks.Preview{Cases: p.Cases, Members: p.Members, Reviewers: len(p.Reviewers), Apps: p.Apps, Flags: p.Flags}
	}
	if _, err := x.Views.UpdateViewContext(ctx, blocks.LaunchModalView(m), "", cb.View.Hash, cb.View.ID); err != nil {
		x.Log.Warn().Err(err).Msg("update launch preview")
	}
}

// ViewSubmission handles a modal's submit. It returns field errors to show
// in the modal (the ack carries them; Slack shows them as plain text), or
// nil to close it.
func (x *Interactions) ViewSubmission(ctx context.Context, cb slack.InteractionCallback) map[string]string {
	// A redelivered submission (same trigger) must not launch twice.
	if first, err := x.Store.MarkHandled(ctx, "view:"+cb.View.ID+":"+cb.TriggerID, x.now()); err != nil || !first {
		return nil
	}
	actor, err := x.Access.ActorIn(ctx, cb.User.ID, orElse(cb.Team.ID, cb.User.TeamID), cb.Enterprise.ID)
	if err != nil {
		return map[string]string{firstBlock(cb): sentence(x.Log, err)}
	}
	values := cb.View.State.Values
	switch cb.View.CallbackID {
	case blocks.CallbackLaunch:
		if err := x.Access.requireAdmin(ctx, cb.User.ID, "launch campaigns"); err != nil {
			return map[string]string{blocks.BlockDefinition: campaign.ErrorMessage(err)}
		}
		name := values[blocks.BlockDefinition][blocks.ActionDefinition].SelectedOption.Value
		if _, err := x.definition(name); err != nil {
			return map[string]string{blocks.BlockDefinition: sentence(x.Log, err)}
		}
		var deadline time.Time
		if ds := values[blocks.BlockDeadline][blocks.ActionDeadline].SelectedDate; ds != "" {
			t, err := time.Parse("2006-01-02", ds)
			if err != nil || !t.After(x.now()) {
				return map[string]string{blocks.BlockDeadline: "Pick a date in the future."}
			}
			deadline = t.Add(17 * time.Hour) // end of the working day, UTC
		}
		x.spawn(ctx, 10*time.Minute, func(ctx context.Context) {
			r := x.launchByName(ctx, name, actor, deadline)
			if err := x.Out.PostDM(ctx, actor.UserID, "launched:"+cb.View.ID, r.Text); err != nil {
				x.Log.Error().Err(err).Msg("tell the launcher")
			}
		})
		return nil
	case blocks.CallbackDelegate:
		return x.submitDelegate(ctx, cb, actor)
	case blocks.CallbackSignOffDecline:
		return x.submitSignOffDecline(ctx, cb, actor)
	}
	x.Log.Warn().Str("callback", cb.View.CallbackID).Msg("unknown view submission dropped")
	return nil
}

func firstBlock(cb slack.InteractionCallback) string {
	for id := range cb.View.State.Values {
		return id
	}
	return ""
}
