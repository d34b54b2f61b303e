package evidence

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/store"
)

// collectRemediation reads the plan, its approvals, the Okta operations
// and the tickets.
// Approvals are tied to their plan.approved or plan.rejected audit entry.
func (b *Bundle) collectRemediation(ctx context.Context, src Source, c *campaign.Campaign, entries []store.AuditEntry) error {
	var approved time.Time
	for _, t := range b.Campaign.Transitions {
		if t.To == string(campaign.StateApproved) {
			approved = t.At
		}
	}
	plan, err := src.Plan(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("evidence: plan: %w", err)
	}
	approvals, err := src.Approvals(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("evidence: approvals: %w", err)
	}
	b.Approvals = ApprovalsFile{SchemaVersion: SchemaVersion, CampaignID: c.ID, ApprovedAt: at(approved),
		Approvals: make([]Approval, 0, len(approvals)), Plan: make([]PlanItem, 0, len(plan)), SignOffs: signOffsOf(entries)}
	words := map[string][]entryView{} // approver email -> their plan.* entries, oldest first
	for _, e := range entries {
		if !strings.HasPrefix(e.Fields[typeColumn], "plan.") {
			continue
		}
		if v := viewOf(e); strings.HasPrefix(v.typ, "plan.") {
			words[v.actor] = append(words[v.actor], v)
		}
	}
	for _, a := range approvals {
		ap := Approval{Approver: a.Approver, Decision: a.Decision, At: a.At.UTC()}
		for _, v := range words[a.Approver] {
			if v.typ == "plan."+a.Decision+"d" || v.typ == "plan."+a.Decision {
				ap.AuditRef, ap.ApproverID, ap.Via, ap.SlackUserID = v.ref, v.id, v.via, v.slackU
				ap.SlackActionTS, ap.PayloadSHA256 = v.ts, v.sha
			}
		}
		b.Approvals.Approvals = append(b.Approvals.Approvals, ap)
	}
	for _, p := range plan {
		b.Approvals.Plan = append(b.Approvals.Plan, PlanItem{Seq: p.Seq, Kind: p.Kind, UserID: p.UserID, GroupID: p.GroupID,
			AppID: p.AppID, CaseIDs: orEmpty(p.CaseIDs), Reason: p.Reason})
	}
	ops, err := src.Operations(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("evidence: operations: %w", err)
	}
	apps, err := src.SnapshotApps(ctx, c.SnapshotID)
	if err != nil {
		return fmt.Errorf("evidence: apps of snapshot %d: %w", c.SnapshotID, err)
	}
	labels := make(map[string]string, len(apps))
	for _, a := range apps {
		labels[a.ID] = a.Label
	}
	groups, err := src.SnapshotGroupNames(ctx, c.SnapshotID)
	if err != nil {
		return fmt.Errorf("evidence: groups of snapshot %d: %w", c.SnapshotID, err)
	}
	b.Operations = OperationsFile{SchemaVersion: SchemaVersion, CampaignID: c.ID, ApprovedAt: at(approved),
		Operations: make([]Operation, 0, len(ops))}
	for _, o := range ops {
		op := Operation{Seq: o.Seq, Kind: o.Kind, UserID: o.UserID, GroupID: o.GroupID, Group: groups[o.GroupID], AppID: o.AppID,
			App: labels[o.AppID], CaseIDs: orEmpty(o.CaseIDs), State: o.State, Result: o.Result, Attempts: o.Attempts,
			ErrorCode: o.ErrorCode, Error: o.ErrorSummary, Executor: o.ClaimedBy, ApprovedAt: at(approved),
			StartedAt: at(o.ClaimedAt), FinishedAt: at(o.FinishedAt), ReadBack: o.Verified}
		if !approved.IsZero() && !o.FinishedAt.IsZero() {
			h := o.FinishedAt.Sub(approved).Hours()
			op.HoursToDone = &h
		}
		b.Operations.Operations = append(b.Operations.Operations, op)
	}
	jobs, err := src.TicketsOf(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("evidence: tickets: %w", err)
	}
	b.Tickets = TicketsFile{SchemaVersion: SchemaVersion, CampaignID: c.ID, Tickets: make([]Ticket, 0, len(jobs))}
	for _, j := range jobs {
		b.Tickets.Tickets = append(b.Tickets.Tickets, Ticket{Ref: j.Ref, Kind: j.Kind, Action: j.Action, Table: j.Table,
			Number: j.Number, SysID: j.SysID, State: j.State, Attempts: j.Attempts, LastError: j.LastError,
			CreatedAt: at(j.CreatedAt), DoneAt: at(j.DoneAt)})
	}
	return nil
}
