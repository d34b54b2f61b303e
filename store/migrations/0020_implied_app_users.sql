-- An app assignment of scope GROUP whose user is a member of a group
-- assigned to the app, in the same snapshot, is marked implied when the
-- snapshot is saved (campaign.ImpliedByGroups): building cases finds that
-- access through the group and need not read the row. In a large org
-- nearly every app assignment is such a row (1.9M of a 2M-relation
-- snapshot). The index holds the others, with what a read needs of them,
-- so a launch (and a plan, which reads only direct assignments) reads
-- them alone. Snapshots saved before this migration mark none implied.
ALTER TABLE dir_app_users ADD COLUMN implied INTEGER NOT NULL DEFAULT 0;
CREATE INDEX dir_app_users_unimplied ON dir_app_users (snapshot_id, app_id, user_id, scope, created) WHERE implied = 0;
