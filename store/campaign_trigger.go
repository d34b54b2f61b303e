package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/attestbot/attest/campaign"
)

// CampaignByTrigger returns the newest campaign whose trigger is trigger
// (an event review's "event:<uuid>", a proposal's "proposal:<key>"),
// through the campaigns_trigger index, so the cost does not grow with the
// number of campaigns. It returns an error wrapping campaign.ErrNotFound
// when no campaign has that trigger, and an error when the query fails or
// the stored definition no longer parses.
func (s *Store) CampaignByTrigger(ctx context.Context, trigger string) (*campaign.Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns
		WHERE trigger = ? ORDER BY id DESC LIMIT 1`, trigger))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: no campaign with trigger %q: %w", trigger, campaign.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: campaign with trigger %q: %w", trigger, err)
	}
	return c, nil
}
