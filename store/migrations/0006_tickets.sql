-- ServiceNow tickets: a durable queue of Table API calls, so that
-- ServiceNow being slow or down never holds a campaign up, and the records
-- those calls created.

-- One queued call. key makes it idempotent (the same key is never queued
-- twice); ref names the logical ticket the call is about. state moves
-- pending -> sending -> done | failed, and back to pending for a retry.
-- While sending, next_at is when the claim lapses: a row a stopped
-- process left in sending becomes due again then.
CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    ref         TEXT    NOT NULL, -- e.g. review:12:00uMANAGER, remediation:12
    campaign_id INTEGER NOT NULL,
    kind        TEXT    NOT NULL, -- review, remediation
    table_name  TEXT    NOT NULL, -- incident, sc_task; '' for an update: the ref's table
    action      TEXT    NOT NULL, -- create, update, resolve
    fields      TEXT    NOT NULL, -- JSON object of strings
    sys_id      TEXT    NOT NULL DEFAULT '',
    number      TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT    NOT NULL,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    done_at     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX tickets_due ON tickets (state, next_at);
CREATE INDEX tickets_ref ON tickets (ref, id);
CREATE INDEX tickets_campaign ON tickets (campaign_id, id);

-- The record created for a logical ticket, so later updates find its sys_id.
CREATE TABLE ticket_refs (
    key        TEXT NOT NULL PRIMARY KEY,
    table_name TEXT NOT NULL,
    sys_id     TEXT NOT NULL,
    number     TEXT NOT NULL
);
