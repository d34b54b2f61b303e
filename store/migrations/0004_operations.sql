-- The remediation executor's durable jobs: one row per Okta operation of
-- an approved plan, claimed by compare-and-swap so no operation runs twice.
CREATE TABLE operations (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns (id),
    seq           INTEGER NOT NULL,
    kind          TEXT    NOT NULL, -- remove_membership, unassign_app
    user_id       TEXT    NOT NULL,
    group_id      TEXT    NOT NULL,
    app_id        TEXT    NOT NULL,
    case_ids      TEXT    NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending', -- pending, running, done, failed, skipped
    result        TEXT    NOT NULL DEFAULT '',        -- removed, already_gone, changed, protected, would_remove, failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT    NOT NULL DEFAULT '',
    error_summary TEXT    NOT NULL DEFAULT '',
    claimed_by    TEXT    NOT NULL DEFAULT '',
    claimed_at    TEXT    NOT NULL DEFAULT '',
    finished_at   TEXT    NOT NULL DEFAULT '',
    verified      TEXT    NOT NULL DEFAULT '', -- after the run: gone, came_back
    PRIMARY KEY (campaign_id, seq)
);
CREATE INDEX operations_state ON operations (campaign_id, state);
