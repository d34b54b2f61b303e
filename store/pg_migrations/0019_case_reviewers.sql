-- The cases table loses its index on (campaign_id, reviewer_id). A launch
-- writes its cases member by member, in the order of the table's unique
-- (campaign, user, kind, entitlement) index, but in no order of
-- reviewers: that second index cost every COPY of a launch an insert all
-- over a third B-tree. Instead, case_reviewers holds one row per
-- (campaign, reviewer, member) pair that has cases, some 80,000 for 1.5M
-- cases, and a reviewer's cases are found through their members
-- (store.Cases). A pair is added when cases are added, and when a case
-- moves to a new reviewer; a pair whose cases all moved on stays,
-- harmless: the cases are still checked for their reviewer.
CREATE TABLE case_reviewers (
    campaign_id BIGINT NOT NULL,
    reviewer_id TEXT   NOT NULL,
    user_id     TEXT   NOT NULL,
    PRIMARY KEY (campaign_id, reviewer_id, user_id)
);
INSERT INTO case_reviewers (campaign_id, reviewer_id, user_id)
    SELECT DISTINCT campaign_id, reviewer_id, user_id FROM cases;
DROP INDEX cases_reviewer;
