-- Slack: who is who, the outbox of messages to send, where sent messages
-- live (to update them), and interactions already handled.

-- Okta users mapped to Slack users by email, refreshed with each sync.
CREATE TABLE slack_users (
    okta_user_id TEXT NOT NULL PRIMARY KEY,
    email        TEXT NOT NULL,
    slack_id     TEXT NOT NULL,
    team_id      TEXT NOT NULL,
    dm_channel   TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX slack_users_slack ON slack_users (slack_id);

-- Every outgoing Slack call, queued before it is made. key makes a message
-- idempotent (the same key is never queued twice); state moves
-- pending -> sending -> sent | failed. A row found 'sending' after a
-- restart is checked against the channel's history before it is resent.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL, -- post, update, ephemeral, upload
    target      TEXT    NOT NULL, -- channel id, or okta:<user id> for a DM
    ref         TEXT    NOT NULL DEFAULT '', -- for update: the ref of the message to update
    thread_ref  TEXT    NOT NULL DEFAULT '', -- post into the thread of this ref
    payload     TEXT    NOT NULL, -- JSON: text, blocks, file
    state       TEXT    NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT    NOT NULL,
    last_error  TEXT    NOT NULL DEFAULT '',
    channel     TEXT    NOT NULL DEFAULT '',
    ts          TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    sent_at     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (state, next_at);

-- Messages attest posted and may update, by a stable reference such as
-- "form:12:00u1:1" or "approval:12".
CREATE TABLE slack_messages (
    ref        TEXT NOT NULL PRIMARY KEY,
    channel    TEXT NOT NULL,
    ts         TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Interactions already handled: a redelivered envelope or a double click
-- carries the same key and changes nothing twice.
CREATE TABLE slack_handled (
    key TEXT NOT NULL PRIMARY KEY,
    at  TEXT NOT NULL
);
