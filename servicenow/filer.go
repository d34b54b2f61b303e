package servicenow

import (
	"context"
	"fmt"
	"strings"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/ticketjob"
)

// Filer turns campaign notifications into queued ticket jobs: a review
// ticket per manager when manager confirmation starts (optional), resolved
// with the outcome at close; and one remediation ticket per campaign
// listing what people must remove by hand (conflicts, rule-managed and
// AD-mastered memberships, failed operations, access that came back),
// resolved when nothing is left. Queuing never fails a campaign: the
// Worker delivers when ServiceNow answers.
type Filer struct {
	Queue QueueStore
	// Campaigns reads plans, operations and people.
	Campaigns interface {
		GetCampaign(ctx context.Context, id int64) (*campaign.Campaign, error)
		Plan(ctx context.Context, campaignID int64) ([]campaign.PlanItem, error)
		FindUser(ctx context.Context, snapshotID int64, key string) (campaign.User, error)
		Operations(ctx context.Context, campaignID int64) ([]campaign.Operation, error)
	}
	Table, AssignmentGroup, CallerID string
	// ReviewTickets files one ticket per manager at stage 2.
	ReviewTickets bool
}

var _ campaign.Notifier = (*Filer)(nil)

// Notify queues the ticket work a notification calls for.
func (f *Filer) Notify(ctx context.Context, n campaign.Notification) error {
	switch n.Kind {
	case campaign.NoteReviewerForm:
		if !f.ReviewTickets || n.To == "" {
			return nil
		}
		return f.reviewTicket(ctx, n)
	case campaign.NoteClosed:
		return f.atClose(ctx, n.CampaignID)
	case campaign.NoteRemediated:
		return f.afterRun(ctx, n.CampaignID)
	}
	return nil
}

func (f *Filer) fields(short, description string) map[string]string {
	m := map[string]string{"short_description": truncateText(short, 160), "description": description}
	if f.AssignmentGroup != "" {
		m["assignment_group"] = f.AssignmentGroup
	}
	if f.CallerID != "" {
		m["caller_id"] = f.CallerID
	}
	return m
}

func (f *Filer) enqueue(ctx context.Context, j ticketjob.Job) error {
	if j.Table == "" && j.Action == ticketjob.ActionCreate {
		j.Table = f.Table
	}
	_, err := f.Queue.EnqueueTicket(ctx, j)
	return err
}

// reviewTicket opens a manager's review ticket with their team summary.
func (f *Filer) reviewTicket(ctx context.Context, n campaign.Notification) error {
	c, err := f.Campaigns.GetCampaign(ctx, n.CampaignID)
	if err != nil {
		return err
	}
	mgr, _ := f.Campaigns.FindUser(ctx, c.SnapshotID, n.To)
	var names []string
	for _, m := range n.Members {
		u, err := f.Campaigns.FindUser(ctx, c.SnapshotID, m)
		if err == nil {
			names = append(names, u.DisplayName()+" <"+u.Email+">")
		}
	}
	desc := fmt.Sprintf("Access review %q (campaign %d): please confirm the access of your team in Slack by %s.\n\n%d item(s) to decide, for:\n%s",
		c.Name, c.ID, c.Deadline.Format("2006-01-02 15:04 UTC"), n.Open, strings.Join(names, "\n"))
	ref := ticketjob.ReviewRef(c.ID, n.To)
	return f.enqueue(ctx, ticketjob.Job{Key: ref + ":create", Ref: ref, CampaignID: c.ID, Kind: ticketjob.KindReview, Action: ticketjob.ActionCreate,
		Fields: f.fields(fmt.Sprintf("Access review %s: %s's team", c.Name, mgr.DisplayName()), desc)})
}

// atClose resolves review tickets and files the remediation ticket.
func (f *Filer) atClose(ctx context.Context, id int64) error {
	c, err := f.Campaigns.GetCampaign(ctx, id)
	if err != nil {
		return err
	}
	jobs, err := f.Queue.TicketsOf(ctx, id)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Kind == ticketjob.KindReview && j.Action == ticketjob.ActionCreate {
			if err := f.enqueue(ctx, ticketjob.Job{Key: j.Ref + ":resolve", Ref: j.Ref, CampaignID: id, Kind: ticketjob.KindReview,
				Action: ticketjob.ActionResolve, Fields: map[string]string{"work_notes": fmt.Sprintf("Campaign %d closed (%s).", id, c.State)}}); err != nil {
				return err
			}
		}
	}
	plan, err := f.Campaigns.Plan(ctx, id)
	if err != nil {
		return err
	}
	var manual []string
	for _, p := range plan {
		if !p.IsOperation() {
			manual = append(manual, fmt.Sprintf("#%d %s user %s group %s app %s: %s", p.Seq, p.Kind, p.UserID, p.GroupID, p.AppID, p.Reason))
		}
	}
	if len(manual) == 0 {
		return nil
	}
	ref := ticketjob.RemediationRef(id)
	return f.enqueue(ctx, ticketjob.Job{Key: ref + ":create", Ref: ref, CampaignID: id, Kind: ticketjob.KindRemediation, Action: ticketjob.ActionCreate,
		Fields: f.fields(fmt.Sprintf("Access review %s: %d item(s) to remove by hand", c.Name, len(manual)),
			"attest cannot remove these safely; please handle each at its source and resolve this ticket:\n"+strings.Join(manual, "\n"))})
}

// afterRun reports failed and returned removals on the remediation ticket.
func (f *Filer) afterRun(ctx context.Context, id int64) error {
	c, err := f.Campaigns.GetCampaign(ctx, id)
	if err != nil {
		return err
	}
	ops, err := f.Campaigns.Operations(ctx, id)
	if err != nil {
		return err
	}
	var open []string
	for _, op := range ops {
		if op.State == campaign.OpFailed || op.Verified == campaign.VerifiedCameBack {
			what := op.Result
			if op.Verified == campaign.VerifiedCameBack {
				what = "came back after removal"
			}
			open = append(open, fmt.Sprintf("#%d %s user %s group %s app %s: %s %s %s", op.Seq, op.Kind, op.UserID, op.GroupID, op.AppID,
				what, op.ErrorCode, op.ErrorSummary))
		}
	}
	ref := ticketjob.RemediationRef(id)
	if len(open) == 0 {
		return nil
	}
	if err := f.enqueue(ctx, ticketjob.Job{Key: ref + ":create", Ref: ref, CampaignID: id, Kind: ticketjob.KindRemediation, Action: ticketjob.ActionCreate,
		Fields: f.fields(fmt.Sprintf("Access review %s: removals to finish by hand", c.Name), "See the work notes.")}); err != nil {
		return err
	}
	return f.enqueue(ctx, ticketjob.Job{Key: ref + ":run", Ref: ref, CampaignID: id, Kind: ticketjob.KindRemediation, Action: ticketjob.ActionUpdate,
		Fields: map[string]string{"work_notes": "The executor could not finish these:\n" + strings.Join(open, "\n")}})
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-1], "") + "…"
}
