-- The app-owner stage (stage 3): each case keeps its owner's decision in
-- columns of its own, written under the campaign's state fence like the
-- member's and the manager's answers; the campaign keeps when stage 3
-- began; a snapshot's apps keep the value of the Okta app profile
-- attribute named by okta.app_owner_attribute (the apps' owners).
ALTER TABLE cases ADD COLUMN owner_decision TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN owner_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN owner_at TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN owner_decided_by TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN owner_decided_by_id TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN stage3_started TEXT NOT NULL DEFAULT '';
ALTER TABLE dir_apps ADD COLUMN owners TEXT NOT NULL DEFAULT '';
