package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// formRef names the message holding one page of one person's form:
// member forms "m:<campaign>:<member>:<page>", reviewer forms
// "r:<campaign>:<reviewer>:<member>:<page>".
func memberRef(cid int64, member string, page int) string {
	return fmt.Sprintf("m:%d:%s:%d", cid, member, page)
}

func reviewerRef(cid int64, reviewer, member string, page int) string {
	return fmt.Sprintf("r:%d:%s:%s:%d", cid, reviewer, member, page)
}

// buttonValue routes a form's buttons back to its page. It is only a
// route: the handler re-reads the cases and re-checks who clicked.
func buttonValue(kind string, cid int64, member string, page int) string {
	return fmt.Sprintf("%s:%d:%s:%d", kind, cid, member, page)
}

// parseButton reads a value made by buttonValue.
func parseButton(v string) (kind string, cid int64, member string, page int, ok bool) {
	parts := strings.Split(v, ":")
	if len(parts) != 4 {
		return "", 0, "", 0, false
	}
	cid, err1 := strconv.ParseInt(parts[1], 10, 64)
	page, err2 := strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil || page < 1 {
		return "", 0, "", 0, false
	}
	return parts[0], cid, parts[2], page, true
}

// entitlements renders cases as form rows, with links, paths and last use.
func (h *Handler) entitlements(ctx context.Context, c *campaign.Campaign, cases []campaign.CaseRecord, member bool) ([]blocks.Entitlement, error) {
	look, err := h.snapshot(ctx, c.SnapshotID)
	if err != nil {
		return nil, err
	}
	out := make([]blocks.Entitlement, 0, len(cases))
	lastUse := map[string]map[string]int64{}
	for i := range cases {
		cs := &cases[i]
		e := blocks.Entitlement{CaseID: cs.ID, Kind: cs.Kind, Label: cs.Label, Flags: cs.Flags.Names(), Risk: cs.Risk,
			SignInWindowDays: h.Settings.SignInWindowDays}
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
				u, err := h.Store.UserUsage(ctx, c.SnapshotID, cs.UserID)
				if err != nil {
					return nil, err
				}
				m := map[string]int64{}
				for app, t := range u {
					m[app] = t.Unix()
				}
				lastUse[cs.UserID] = m
			}
			if t, ok := lastUse[cs.UserID][cs.EntitlementID]; ok {
				e.LastSignIn = unixTime(t)
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

// memberPages builds every page of a member's form.
func (h *Handler) memberPages(ctx context.Context, c *campaign.Campaign, member string) ([][]slack.Block, error) {
	cases, err := h.Campaign.Cases(ctx, c.ID, campaign.CaseQuery{UserID: member})
	if err != nil {
		return nil, err
	}
	campaign.SortByRisk(cases)
	ents, err := h.entitlements(ctx, c, cases, true)
	if err != nil {
		return nil, err
	}
	pages, _ := blocks.Paginate(len(ents))
	out := make([][]slack.Block, 0, pages)
	for p := 1; p <= pages; p++ {
		out = append(out, blocks.MemberFormBlocks(blocks.MemberForm{CampaignID: c.ID, Campaign: c.Name, Deadline: c.Stage1Ends,
			Why:          "Your access is being reviewed. Tell us what you still need; your manager confirms next.",
			Entitlements: blocks.PageSlice(ents, p), Page: p, Pages: pages, ButtonValue: buttonValue("m", c.ID, member, p)}))
	}
	return out, nil
}

// reviewerPages builds every page of a reviewer's form for one member.
func (h *Handler) reviewerPages(ctx context.Context, c *campaign.Campaign, reviewer, member string) ([][]slack.Block, int, error) {
	rid := reviewer
	cases, err := h.Campaign.Cases(ctx, c.ID, campaign.CaseQuery{UserID: member, ReviewerID: &rid})
	if err != nil {
		return nil, 0, err
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
	ents, err := h.entitlements(ctx, c, open, false)
	if err != nil {
		return nil, 0, err
	}
	m, _ := h.Campaign.FindUser(ctx, c.SnapshotID, member)
	pages, _ := blocks.Paginate(len(ents))
	out := make([][]slack.Block, 0, pages)
	for p := 1; p <= pages; p++ {
		out = append(out, blocks.ReviewerFormBlocks(blocks.ReviewerForm{CampaignID: c.ID, Campaign: c.Name, Deadline: c.Deadline,
			Member: blocks.Person{Name: m.DisplayName(), Email: m.Email}, Escalated: escalated, DelegatedBy: delegatedBy,
			Entitlements: blocks.PageSlice(ents, p), Page: p, Pages: pages, BulkAllowed: !c.Definition.Decisions.DisableBulk,
			ButtonValue: buttonValue("r", c.ID, member, p)}))
	}
	return out, len(open), nil
}

// updateMessage queues an update of a stored message. target is the one
// the message was posted to, so the update queues behind the post.
func (h *Handler) updateMessage(ctx context.Context, target, ref, key, text string, blks []slack.Block) error {
	raw, err := json.Marshal(blks)
	if err != nil {
		return err
	}
	_, err = h.Store.Enqueue(ctx, slackrec.OutboxItem{Key: "update:" + ref + ":" + key, Kind: slackrec.KindUpdate, Ref: ref,
		Target: target, Payload: slackrec.Payload{Text: blocks.Fallback(text), Blocks: raw}})
	return err
}

func unixTime(t int64) time.Time { return time.Unix(t, 0).UTC() }
