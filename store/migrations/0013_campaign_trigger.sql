-- What launched a campaign, looked up by value: an Okta event's review
-- ("event:<uuid>") and a proposal ("proposal:<key>") check that their
-- event opened nothing before, once per event, which without an index
-- read every campaign.
CREATE INDEX campaigns_trigger ON campaigns (trigger);
