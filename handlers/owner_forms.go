package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

// OwnerWorkReader is the engine's view of the app-owner stage: per app,
// the cases an owner ("" = the IAM team) decides, in form order, with the
// decisions so far (campaign.Engine.OwnerWork).
type OwnerWorkReader interface {
	OwnerWork(ctx context.Context, c *campaign.Campaign, owner string) ([]campaign.OwnerApp, error)
}

var _ OwnerWorkReader = (*campaign.Engine)(nil)

// ownerRef names the message holding one page of an owner's form about
// one app: "ao:<campaign>:<owner>:<app>:<page>" ("" owner: the IAM team).
func ownerRef(cid int64, owner, app string, page int) string {
	return fmt.Sprintf("ao:%d:%s:%s:%d", cid, owner, app, page)
}

// ownerWork is where the notifier reads stage 3: Owners, else the
// reporter when it is the engine (as serve wires it). Nil: no owner forms.
func (n *Notifier) ownerWork() OwnerWorkReader {
	if n.Owners != nil {
		return n.Owners
	}
	o, _ := n.Reports.(OwnerWorkReader)
	return o
}

// SendOwnerForms posts owner (their DM; the approvals channel for the IAM
// team) every page of one form per app in apps that has cases of theirs.
func (n *Notifier) SendOwnerForms(ctx context.Context, c *campaign.Campaign, owner string, apps []string, version string) error {
	for _, app := range apps {
		pages, _, err := n.ownerPages(ctx, c, owner, app)
		if err != nil {
			return err
		}
		if len(pages) == 0 {
			continue
		}
		refs := func(p int) string { return ownerRef(c.ID, owner, app, p) }
		if err := n.postPages(ctx, n.target(owner), refs, pages, "Please confirm who keeps your app in "+c.Name, version); err != nil {
			return err
		}
	}
	return nil
}

// ownerApp returns owner's stage-3 work on one app, or nil.
func (n *Notifier) ownerApp(ctx context.Context, c *campaign.Campaign, owner, appID string) (*campaign.OwnerApp, error) {
	ow := n.ownerWork()
	if ow == nil {
		return nil, fmt.Errorf("owner forms of campaign %d: the notifier has no engine to read stage 3 from", c.ID)
	}
	work, err := ow.OwnerWork(ctx, c, owner)
	if err != nil {
		return nil, fmt.Errorf("owner work of %q in campaign %d: %w", owner, c.ID, err)
	}
	for i := range work {
		if work[i].AppID == appID {
			return &work[i], nil
		}
	}
	return nil, nil
}

// ownerPages builds every page of owner's form about one app (none when
// the owner decides nothing of it) and returns the app's work.
func (n *Notifier) ownerPages(ctx context.Context, c *campaign.Campaign, owner, appID string) ([][]slack.Block, *campaign.OwnerApp, error) {
	app, err := n.ownerApp(ctx, c, owner, appID)
	if err != nil || app == nil {
		return nil, nil, err
	}
	rows, err := n.ownerRows(ctx, c, app.Cases)
	if err != nil {
		return nil, nil, err
	}
	look, err := n.snapshot(ctx, c.SnapshotID)
	if err != nil {
		return nil, nil, err
	}
	pages, _ := blocks.Paginate(len(rows))
	out := make([][]slack.Block, 0, pages)
	for p := 1; p <= pages; p++ {
		out = append(out, blocks.OwnerFormBlocks(blocks.OwnerForm{CampaignID: c.ID, Campaign: c.Name, Deadline: c.Deadline,
			App: app.Label, LinkURL: look.apps[app.AppID].LinkURL, People: len(rows), ForIAM: owner == "",
			Rows: blocks.PageSlice(rows, p), Page: p, Pages: pages, Button: blocks.OwnerFormRef(c.ID, app.AppID, p)}))
	}
	return out, app, nil
}

// ownerRows renders stage-3 cases as owner form rows: the member, their
// team (department and manager), grant, last use, flags, and what the
// member and the manager said.
func (n *Notifier) ownerRows(ctx context.Context, c *campaign.Campaign, cases []campaign.OwnerCase) ([]blocks.OwnerRow, error) {
	records := make([]campaign.CaseRecord, len(cases))
	for i := range cases {
		records[i] = cases[i].Case
	}
	ents, err := n.entitlements(ctx, c, records, false)
	if err != nil {
		return nil, err
	}
	names := map[string]campaign.User{}
	person := func(id string) campaign.User {
		if u, ok := names[id]; ok || id == "" {
			return u
		}
		u, _ := n.Campaigns.FindUser(ctx, c.SnapshotID, id)
		names[id] = u
		return u
	}
	rows := make([]blocks.OwnerRow, len(cases))
	for i, oc := range cases {
		cs, e := &oc.Case, ents[i]
		m := person(cs.UserID)
		team := strings.TrimSpace(oc.Team.Department)
		if mgr := person(oc.Team.ManagerID); mgr.ID != "" {
			team = strings.TrimPrefix(team+" · manager "+mgr.DisplayName(), " · ")
		}
		rows[i] = blocks.OwnerRow{CaseID: cs.ID, Member: blocks.Person{Name: m.DisplayName(), Email: m.Email}, Team: team,
			GrantedBy: e.GrantedBy, LastSignIn: e.LastSignIn, SignInWindowDays: e.SignInWindowDays, Flags: e.Flags, Risk: e.Risk,
			MemberAnswer: cs.MemberDecision, MemberComment: cs.MemberComment, ManagerAnswer: cs.ReviewerDecision,
			ManagerBy: cs.DecidedBy, Current: oc.Decision}
	}
	return rows, nil
}

// ShowOwnerPage re-posts an owner form page in place of its summary.
func (n *Notifier) ShowOwnerPage(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error {
	pages, _, err := n.ownerPages(ctx, c, viewer, ref.Member)
	if err != nil {
		return err
	}
	if ref.Page > len(pages) {
		return campaign.Errorf(campaign.EConflict, "This form page no longer exists; the app-owner review may have ended.")
	}
	return n.updateMessage(ctx, n.target(viewer), ownerRef(c.ID, viewer, ref.Member, ref.Page), key,
		"App owner review: "+c.Name, pages[ref.Page-1])
}

// ShowOwnerAnswered replaces a submitted owner page with its decisions
// and, while stage 3 is open, an "Edit answers" button.
func (n *Notifier) ShowOwnerAnswered(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error {
	app, err := n.ownerApp(ctx, c, viewer, ref.Member)
	if err != nil {
		return err
	}
	a := blocks.Answered{Campaign: c.Name, Title: "Your decisions", Reviewer: true, Editable: c.State == campaign.StateStage3, Button: ref}
	if app != nil {
		a.Title = "Your decisions on " + app.Label
		page := blocks.PageSlice(app.Cases, ref.Page)
		rows, err := n.ownerRows(ctx, c, page)
		if err != nil {
			return err
		}
		for i, r := range rows {
			a.Rows = append(a.Rows, blocks.AnsweredRow{Label: orElse(r.Member.Name, r.Member.Email), Decision: r.Current,
				Comment: page[i].Comment})
		}
	}
	return n.updateMessage(ctx, n.target(viewer), ownerRef(c.ID, viewer, ref.Member, ref.Page), key,
		"Decisions recorded for "+c.Name, blocks.AnsweredBlocks(a))
}

// ShowOwnerClosed marks an owner form whose stage has ended; note is a
// plain sentence.
func (n *Notifier) ShowOwnerClosed(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key, note string) error {
	return n.updateMessage(ctx, n.target(viewer), ownerRef(c.ID, viewer, ref.Member, ref.Page), key+":closed", "Review closed",
		blocks.AnsweredBlocks(blocks.Answered{Campaign: c.Name, Title: "This review is closed", ClosedNote: note}))
}
