package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// Outbox message refs name the message holding one page of one person's
// form, so later updates find it: member forms "m:<campaign>:<member>:<page>",
// reviewer forms "r:<campaign>:<reviewer>:<member>:<page>".
func memberRef(cid int64, member string, page int) string {
	return fmt.Sprintf("m:%d:%s:%d", cid, member, page)
}

func reviewerRef(cid int64, reviewer, member string, page int) string {
	return fmt.Sprintf("r:%d:%s:%s:%d", cid, reviewer, member, page)
}

// formMessage returns the target and outbox ref of the form page ref, as
// viewer sees it (the member, a reviewer, or "" for the IAM team).
func (n *Notifier) formMessage(ref blocks.Ref, viewer string) (target, msgRef string) {
	if ref.Kind == blocks.RefMemberForm {
		return n.target(ref.Member), memberRef(ref.ID, ref.Member, ref.Page)
	}
	return n.target(viewer), reviewerRef(ref.ID, viewer, ref.Member, ref.Page)
}

// sendMemberForm posts every page of a member's form to their DM, under
// outbox keys "post:m:<campaign>:<member>:<page>:v1", one per page for
// the whole stage. once (the engine's keyed fan-out) skips a form queued
// before without building it again.
func (n *Notifier) sendMemberForm(ctx context.Context, c *campaign.Campaign, member string, once bool) error {
	if once {
		if posted, err := n.queued(ctx, memberRef(c.ID, member, 1)); err != nil || posted {
			return err
		}
	}
	pages, err := n.memberPages(ctx, c, member)
	if err != nil {
		return err
	}
	return n.postPages(ctx, n.target(member), func(p int) string { return memberRef(c.ID, member, p) }, pages,
		"Please review your access for "+c.Name, "v1")
}

// sendStageForms queues a reviewer's forms (one per member) or an app
// owner's (one per app). A keyed notification's outbox keys are
// "post:<ref>:<key>", the same on every try, so one handed again after a
// crash, or twice at once, queues each page once. The engine's fan-out at
// the start of a stage keys its notification (campaign.FormKey, one per
// campaign, stage and person), and there a form whose first page was
// queued before under any key (from the Home tab, an escalation, or a
// fan-out of an older release) is not queued again. Escalations and
// delegations post a new version of the form, under their key
// (campaign.EscalationKey, campaign.DelegationKey) or else under version.
func (n *Notifier) sendStageForms(ctx context.Context, c *campaign.Campaign, note campaign.Notification, version string) error {
	owner := note.Kind == campaign.NoteOwnerForm
	list := note.Members
	if owner {
		list = note.Apps
	}
	if note.Key != "" {
		version = note.Key
	}
	if fanOut := note.Kind == campaign.NoteReviewerForm || owner; note.Key != "" && fanOut {
		fresh := make([]string, 0, len(list))
		for _, x := range list {
			ref := reviewerRef(c.ID, note.To, x, 1)
			if owner {
				ref = ownerRef(c.ID, note.To, x, 1)
			}
			posted, err := n.queued(ctx, ref)
			if err != nil {
				return err
			}
			if !posted {
				fresh = append(fresh, x)
			}
		}
		if list = fresh; len(list) == 0 {
			return nil
		}
	}
	if owner {
		return n.SendOwnerForms(ctx, c, note.To, list, version)
	}
	return n.SendReviewerForms(ctx, c, note.To, list, version)
}

// queued reports whether a post of the message ref is in the outbox,
// queued or sent, under any version. It returns the store's error.
func (n *Notifier) queued(ctx context.Context, ref string) (bool, error) {
	states, err := n.Outbox.OutboxProgress(ctx, "post:"+ref+":")
	if err != nil {
		return false, fmt.Errorf("outbox posts of %s: %w", ref, err)
	}
	for _, k := range states {
		if k > 0 {
			return true, nil
		}
	}
	return false, nil
}

// SendReviewerForms posts a reviewer one form per member with open cases.
func (n *Notifier) SendReviewerForms(ctx context.Context, c *campaign.Campaign, reviewer string, members []string, version string) error {
	for _, m := range members {
		pages, open, err := n.reviewerPages(ctx, c, reviewer, m)
		if err != nil {
			return err
		}
		if open == 0 {
			continue
		}
		refs := func(p int) string { return reviewerRef(c.ID, reviewer, m, p) }
		if err := n.postPages(ctx, n.target(reviewer), refs, pages, "Please confirm access for your team in "+c.Name, version); err != nil {
			return err
		}
	}
	return nil
}

// postPages queues one message per form page; text is the plain
// notification text (blocks.Fallback escapes it).
func (n *Notifier) postPages(ctx context.Context, target string, refs func(int) string, pages [][]slack.Block, text, version string) error {
	items := make([]slackrec.OutboxItem, 0, len(pages))
	for i, blks := range pages {
		raw, err := json.Marshal(blks)
		if err != nil {
			return fmt.Errorf("encode form page: %w", err)
		}
		ref := refs(i + 1)
		items = append(items, slackrec.OutboxItem{Key: "post:" + ref + ":" + version, Kind: slackrec.KindPost, Target: target, Ref: ref,
			Payload: slackrec.Payload{Text: blocks.Fallback(text), Blocks: raw}})
	}
	_, err := n.Outbox.Enqueue(ctx, items...)
	return err
}

// memberPages builds every page of a member's form.
func (n *Notifier) memberPages(ctx context.Context, c *campaign.Campaign, member string) ([][]slack.Block, error) {
	cases, err := n.Campaigns.Cases(ctx, c.ID, campaign.CaseQuery{UserID: member})
	if err != nil {
		return nil, fmt.Errorf("cases of %s in campaign %d: %w", member, c.ID, err)
	}
	campaign.SortByRisk(cases)
	ents, err := n.entitlements(ctx, c, cases, true)
	if err != nil {
		return nil, err
	}
	pages, _ := blocks.Paginate(len(ents))
	out := make([][]slack.Block, 0, pages)
	for p := 1; p <= pages; p++ {
		out = append(out, blocks.MemberFormBlocks(blocks.MemberForm{CampaignID: c.ID, Campaign: c.Name, Deadline: c.Stage1Ends,
			Why:          "Your access is being reviewed. Tell us what you still need; your manager confirms next.",
			Entitlements: blocks.PageSlice(ents, p), Page: p, Pages: pages, Button: blocks.MemberFormRef(c.ID, member, p)}))
	}
	return out, nil
}

// reviewerPages builds every page of a reviewer's form for one member,
// and counts the open cases on it.
func (n *Notifier) reviewerPages(ctx context.Context, c *campaign.Campaign, reviewer, member string) ([][]slack.Block, int, error) {
	rid := reviewer
	cases, err := n.Campaigns.Cases(ctx, c.ID, campaign.CaseQuery{UserID: member, ReviewerID: &rid})
	if err != nil {
		return nil, 0, fmt.Errorf("cases of %s for %q in campaign %d: %w", member, reviewer, c.ID, err)
	}
	var open []campaign.CaseRecord
	escalated, delegatedBy := false, ""
	for _, cs := range cases {
		if cs.NeedsReviewer(c.Definition) && cs.Outcome == "" {
			open = append(open, cs)
			escalated = escalated || cs.EscalationLevel > 0
			if cs.DelegatedBy != "" {
				delegatedBy = cs.DelegatedBy
			}
		}
	}
	campaign.SortByRisk(open)
	ents, err := n.entitlements(ctx, c, open, false)
	if err != nil {
		return nil, 0, err
	}
	m, _ := n.Campaigns.FindUser(ctx, c.SnapshotID, member)
	pages, _ := blocks.Paginate(len(ents))
	out := make([][]slack.Block, 0, pages)
	for p := 1; p <= pages; p++ {
		out = append(out, blocks.ReviewerFormBlocks(blocks.ReviewerForm{CampaignID: c.ID, Campaign: c.Name, Deadline: c.Deadline,
			Member: blocks.Person{Name: m.DisplayName(), Email: m.Email}, Escalated: escalated, DelegatedBy: delegatedBy,
			Entitlements: blocks.PageSlice(ents, p), Page: p, Pages: pages, BulkAllowed: !c.Definition.Decisions.DisableBulk,
			Button: blocks.ReviewerFormRef(c.ID, member, p)}))
	}
	return out, len(open), nil
}

// ShowPage re-posts a form page in place of its summary.
func (n *Notifier) ShowPage(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error {
	var pages [][]slack.Block
	var err error
	if ref.Kind == blocks.RefMemberForm {
		pages, err = n.memberPages(ctx, c, ref.Member)
	} else {
		pages, _, err = n.reviewerPages(ctx, c, viewer, ref.Member)
	}
	if err != nil {
		return err
	}
	if ref.Page > len(pages) {
		return campaign.Errorf(campaign.EConflict, "This form page no longer exists; open the latest form from the app's Home tab.")
	}
	target, msgRef := n.formMessage(ref, viewer)
	return n.updateMessage(ctx, target, msgRef, key, "Access review: "+c.Name, pages[ref.Page-1])
}

// ShowAnswered replaces a submitted page with a read-only summary and,
// while the stage is open, an "Edit answers" button.
func (n *Notifier) ShowAnswered(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key string) error {
	q := campaign.CaseQuery{UserID: ref.Member}
	reviewer := ref.Kind == blocks.RefReviewerForm
	if reviewer {
		q.ReviewerID = &viewer
	}
	cases, err := n.Campaigns.Cases(ctx, c.ID, q)
	if err != nil {
		return fmt.Errorf("cases of %s in campaign %d: %w", ref.Member, c.ID, err)
	}
	campaign.SortByRisk(cases)
	a := blocks.Answered{Campaign: c.Name, Title: "Your answers", Editable: c.State.Open(), Button: ref}
	if reviewer {
		m, _ := n.Campaigns.FindUser(ctx, c.SnapshotID, ref.Member)
		a.Title = "Your decisions for " + m.DisplayName()
	}
	for _, cs := range blocks.PageSlice(cases, ref.Page) {
		d, comment := cs.MemberDecision, cs.MemberComment
		if reviewer {
			d, comment = cs.ReviewerDecision, cs.ReviewerComment
		}
		a.Rows = append(a.Rows, blocks.AnsweredRow{Label: cs.Label, Decision: d, Comment: comment})
	}
	target, msgRef := n.formMessage(ref, viewer)
	return n.updateMessage(ctx, target, msgRef, key, "Answers recorded for "+c.Name, blocks.AnsweredBlocks(a))
}

// ShowClosed marks a form whose stage or campaign has closed; note is a
// plain sentence (the builder escapes it).
func (n *Notifier) ShowClosed(ctx context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, key, note string) error {
	target, msgRef := n.formMessage(ref, viewer)
	return n.updateMessage(ctx, target, msgRef, key+":closed", "Review closed", blocks.AnsweredBlocks(blocks.Answered{
		Campaign: c.Name, Title: "This review is closed", ClosedNote: note}))
}

// updateMessage queues an update of a stored message. target is the one
// the message was posted to, so the update queues behind the post; text
// is plain (blocks.Fallback escapes it).
func (n *Notifier) updateMessage(ctx context.Context, target, ref, key, text string, blks []slack.Block) error {
	raw, err := json.Marshal(blks)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", ref, err)
	}
	_, err = n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: "update:" + ref + ":" + key, Kind: slackrec.KindUpdate, Ref: ref,
		Target: target, Payload: slackrec.Payload{Text: blocks.Fallback(text), Blocks: raw}})
	return err
}

// snapLookup caches what forms show about a snapshot's apps and groups.
type snapLookup struct {
	apps   map[string]campaign.App
	groups map[string]string
}

// snapshot returns the display data of a snapshot, read once.
func (n *Notifier) snapshot(ctx context.Context, id int64) (*snapLookup, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l, ok := n.lookup[id]; ok {
		return l, nil
	}
	apps, err := n.Outbox.SnapshotApps(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("apps of snapshot %d: %w", id, err)
	}
	groups, err := n.Outbox.SnapshotGroupNames(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("groups of snapshot %d: %w", id, err)
	}
	l := &snapLookup{apps: map[string]campaign.App{}, groups: groups}
	for _, a := range apps {
		l.apps[a.ID] = a
	}
	if n.lookup == nil {
		n.lookup = map[int64]*snapLookup{}
	}
	n.lookup[id] = l
	return l, nil
}

// entitlements renders cases as form rows, with links, paths and last use.
func (n *Notifier) entitlements(ctx context.Context, c *campaign.Campaign, cases []campaign.CaseRecord, member bool) ([]blocks.Entitlement, error) {
	look, err := n.snapshot(ctx, c.SnapshotID)
	if err != nil {
		return nil, err
	}
	out := make([]blocks.Entitlement, 0, len(cases))
	lastUse := map[string]map[string]int64{}
	for i := range cases {
		cs := &cases[i]
		e := blocks.Entitlement{CaseID: cs.ID, Kind: cs.Kind, Label: cs.Label, Flags: cs.Flags.Names(), Risk: cs.Risk,
			SignInWindowDays: n.Settings.SignInWindowDays}
		if cs.Direct {
			e.GrantedBy = append(e.GrantedBy, "direct")
		}
		for _, g := range cs.ViaGroups {
			name := look.groups[g]
			if name == "" {
				name = g
			}
			e.GrantedBy = append(e.GrantedBy, "group "+name)
		}
		if cs.Kind == campaign.KindApp {
			e.LinkURL = look.apps[cs.EntitlementID].LinkURL
			if _, ok := lastUse[cs.UserID]; !ok {
				u, err := n.Outbox.UserUsage(ctx, c.SnapshotID, cs.UserID)
				if err != nil {
					return nil, fmt.Errorf("usage of %s: %w", cs.UserID, err)
				}
				m := map[string]int64{}
				for app, t := range u {
					m[app] = t.Unix()
				}
				lastUse[cs.UserID] = m
			}
			if t, ok := lastUse[cs.UserID][cs.EntitlementID]; ok {
				e.LastSignIn = time.Unix(t, 0).UTC()
			}
		}
		if member {
			e.Current = cs.MemberDecision
		} else {
			e.Current, e.MemberAnswer, e.MemberComment = cs.ReviewerDecision, cs.MemberDecision, cs.MemberComment
		}
		out = append(out, e)
	}
	return out, nil
}
