package handlers

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
)

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
