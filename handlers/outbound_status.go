package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

func statusRef(cid int64) string { return "status:" + strconv.FormatInt(cid, 10) }

// StatusView summarises a campaign for the live status message and Home.
func (n *Notifier) StatusView(ctx context.Context, c *campaign.Campaign) (blocks.Status, error) {
	r, err := n.Reports.Report(ctx, c.ID)
	if err != nil {
		return blocks.Status{}, fmt.Errorf("report of campaign %d: %w", c.ID, err)
	}
	now := n.now()
	s := blocks.Status{CampaignID: c.ID, Campaign: c.Name, State: string(c.State), Deadline: c.Deadline, Updated: now,
		Stage1Answered: r.ByState["answered_by_member"], Stage1Total: r.Cases, Stage2Decided: r.ByState["confirmed_by_manager"],
		Revoked: r.ByState["revoked"], Escalations: r.ByState["escalated"], Members: r.Members, MembersAnswered: r.MembersDone}
	for _, p := range r.PerReviewer {
		s.Stage2Total += p.Cases
		if p.Open > 0 && c.State == campaign.StateStage2 && now.After(c.Deadline.Add(-24*time.Hour)) {
			s.Overdue = append(s.Overdue, blocks.Person{Email: p.Name})
		}
	}
	return s, nil
}

// PostStatus posts the live status message of a new campaign; a failure
// is logged (the status is a convenience, the launch stands).
func (n *Notifier) PostStatus(ctx context.Context, c *campaign.Campaign) {
	ch := n.Settings.statusChannel()
	if ch == "" {
		return
	}
	s, err := n.StatusView(ctx, c)
	if err != nil {
		n.Log.Error().Err(err).Int64("campaign", c.ID).Msg("status view")
		return
	}
	raw, _ := json.Marshal(blocks.StatusBlocks(s))
	if _, err := n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: "post:" + statusRef(c.ID), Kind: slackrec.KindPost, Target: ch, Ref: statusRef(c.ID),
		Payload: slackrec.Payload{Text: blocks.Fallback("Access review " + c.Name + " launched"), Blocks: raw}}); err != nil {
		n.Log.Error().Err(err).Int64("campaign", c.ID).Msg("queue status message")
	}
}

// RefreshStatus updates the live status message of a campaign; the key
// bounds updates to one per minute however many answers arrive.
func (n *Notifier) RefreshStatus(ctx context.Context, cid int64) error {
	ch := n.Settings.statusChannel()
	if ch == "" {
		return nil
	}
	// The first refresh of a minute wins (its outbox key), so a later one
	// in the same minute is not even worked out: the status reads every
	// case of the campaign, and answers arrive by the thousand.
	minute := n.now().Truncate(time.Minute).Format(time.RFC3339)
	if last, ok := n.statusMinute.Load(cid); ok && last == minute {
		return nil
	}
	c, err := n.Campaigns.GetCampaign(ctx, cid)
	if err != nil {
		return fmt.Errorf("campaign %d: %w", cid, err)
	}
	s, err := n.StatusView(ctx, c)
	if err != nil {
		return err
	}
	if err := n.updateMessage(ctx, ch, statusRef(cid), minute, "Access review "+c.Name+": "+string(c.State),
		blocks.StatusBlocks(s)); err != nil {
		return err
	}
	n.statusMinute.Store(cid, minute)
	return nil
}

// PostReport uploads a campaign's report CSV to the status channel with a
// one-line summary, which it returns (escaped) for the admin's reply.
func (n *Notifier) PostReport(ctx context.Context, r *campaign.Report, key string) (string, error) {
	var csvBuf bytes.Buffer
	if err := r.WriteCSV(&csvBuf); err != nil {
		return "", fmt.Errorf("report CSV of campaign %d: %w", r.ID, err)
	}
	text := fmt.Sprintf("Report of campaign %d (%s, %s): %d cases, %d kept, %d revoked, %d without decision.", r.ID,
		blocks.Escape(r.Name), r.State, r.Cases, r.ByState["kept"], r.ByState["revoked"], r.ByState["no_decision"])
	_, err := n.Outbox.Enqueue(ctx, slackrec.OutboxItem{Key: key, Kind: slackrec.KindUpload, Target: n.Settings.statusChannel(),
		Payload: slackrec.Payload{Text: text, FileName: fmt.Sprintf("attest-report-%d.csv", r.ID), Title: "Report " + r.Name, File: csvBuf.Bytes()}})
	if err != nil {
		return "", fmt.Errorf("queue report of campaign %d: %w", r.ID, err)
	}
	return text, nil
}

// maxSweepExamples is how many findings the sweep message shows.
const maxSweepExamples = 10

// PostSweep posts a sweep's findings to the approvals channel with their
// CSV and the button that reviews exactly them.
func (n *Notifier) PostSweep(ctx context.Context, id int64, findings []campaign.Finding, entitlements int) error {
	v := blocks.Sweep{Counts: map[string]int{}, Entitlements: entitlements, Button: blocks.SweepRef(id)}
	for _, f := range findings {
		v.Counts[f.Kind]++
		if len(v.Examples) < maxSweepExamples {
			who := f.Email
			if who == "" {
				who = f.Label
			}
			v.Examples = append(v.Examples, fmt.Sprintf("%s — %s: %s", f.Kind, who, f.Detail))
		}
	}
	raw, err := json.Marshal(blocks.SweepBlocks(v))
	if err != nil {
		return fmt.Errorf("encode sweep message: %w", err)
	}
	var csvBuf bytes.Buffer
	if err := campaign.WriteFindingsCSV(&csvBuf, findings); err != nil {
		return fmt.Errorf("sweep CSV: %w", err)
	}
	ref := sweepRef(id)
	_, err = n.Outbox.Enqueue(ctx,
		slackrec.OutboxItem{Key: "post:" + ref, Kind: slackrec.KindPost, Target: n.Settings.ApprovalsChannel, Ref: ref,
			Payload: slackrec.Payload{Text: blocks.Fallback(fmt.Sprintf("Stale-access sweep: %d findings", len(findings))), Blocks: raw}},
		slackrec.OutboxItem{Key: "upload:" + ref, Kind: slackrec.KindUpload, Target: n.Settings.ApprovalsChannel, ThreadRef: ref,
			Payload: slackrec.Payload{FileName: fmt.Sprintf("attest-sweep-%d.csv", id), Title: "Stale-access findings", File: csvBuf.Bytes()}})
	return err
}

func sweepRef(id int64) string { return "sweep:" + strconv.FormatInt(id, 10) }

// SweepLaunched replaces a sweep's button with a note that its review
// started; note is plain (the builder escapes it).
func (n *Notifier) SweepLaunched(ctx context.Context, sweepID int64, entitlements int, note string) error {
	return n.updateMessage(ctx, n.Settings.ApprovalsChannel, sweepRef(sweepID), "launched", "Stale-access sweep: review launched",
		blocks.SweepBlocks(blocks.Sweep{Counts: map[string]int{}, Entitlements: entitlements, Launched: note}))
}

// deliveryPoll is how often WatchDelivery reads the outbox.
const deliveryPoll = time.Second

// WatchDelivery follows the delivery of a new campaign's forms and tells
// the launcher how far it got (at 25% steps and when done), with the rate
// and the time left; the same numbers go to the log. It returns when all
// forms are sent or failed, or when ctx ends.
func (n *Notifier) WatchDelivery(ctx context.Context, c *campaign.Campaign, launcher string) {
	prefix := "post:m:" + strconv.FormatInt(c.ID, 10) + ":"
	if c.State == campaign.StateStage2 {
		prefix = "post:r:" + strconv.FormatInt(c.ID, 10) + ":"
	}
	start := time.Now()
	told, polls := -1, 0
	for {
		counts, err := n.Outbox.OutboxProgress(ctx, prefix)
		if err != nil {
			if ctx.Err() == nil {
				n.Log.Warn().Err(err).Int64("campaign", c.ID).Msg("delivery progress")
			}
			return
		}
		total := counts["pending"] + counts["sending"] + counts["sent"] + counts["failed"]
		done := counts["sent"] + counts["failed"]
		if total == 0 {
			return
		}
		step := 100 * done / total / 25 * 25
		elapsed := time.Since(start)
		rate := float64(done) / max(elapsed.Seconds(), 0.001)
		left := time.Duration(float64(total-done)/max(rate, 0.001)) * time.Second
		polls++
		if polls%10 == 1 || done == total {
			n.Log.Info().Int64("campaign", c.ID).Int("sent", counts["sent"]).Int("failed", counts["failed"]).Int("total", total).
				Float64("per_second", rate).Dur("eta", left.Round(time.Second)).Msg("delivering forms")
		}
		if step > told {
			told = step
			text := fmt.Sprintf("Campaign %d (%s): forms delivered %d of %d (%d%%)", c.ID, blocks.Escape(c.Name), done, total, 100*done/total)
			if done < total {
				text += fmt.Sprintf(", about %s left", left.Round(time.Second))
			}
			if counts["failed"] > 0 {
				text += fmt.Sprintf("; %d could not be delivered (see the log)", counts["failed"])
			}
			if err := n.PostDM(ctx, launcher, "delivery:"+strconv.FormatInt(c.ID, 10)+":"+strconv.Itoa(step), text+"."); err != nil {
				n.Log.Warn().Err(err).Int64("campaign", c.ID).Msg("tell the launcher about delivery")
			}
		}
		if done == total {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(deliveryPoll):
		}
	}
}
