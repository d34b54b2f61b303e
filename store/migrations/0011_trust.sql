-- Issue 10 "Trust": people by Okta user id, plans bound to a digest.
--
-- campaigns.owner_id is the launcher's Okta user id (owner keeps the text
-- the campaign was launched with, for campaigns from before this column,
-- which are resolved by that text). plan_digest is the SHA-256 of the
-- canonical plan, computed at close; approvals are bound to it.
ALTER TABLE campaigns ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN plan_digest TEXT NOT NULL DEFAULT '';

-- An approval names its approver by Okta user id (approver keeps the
-- email, as before), how they clicked, and the plan digest they approved.
ALTER TABLE approvals ADD COLUMN approver_id TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN slack_user TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN via TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN plan_digest TEXT NOT NULL DEFAULT '';
-- One word per person: the same Okta user under two emails (a rename)
-- is still one approver.
CREATE UNIQUE INDEX approvals_approver_id ON approvals (campaign_id, approver_id) WHERE approver_id <> '';
