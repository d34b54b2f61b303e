-- Okta event hook deliveries, one row per event, in a database file of
-- their own beside the main one (store.EventsPath): a delivery is stored,
-- and answered, while a snapshot write, a launch or a close holds the main
-- database's write lock. uuid is Okta's event id: a retried or duplicated
-- delivery inserts nothing new. state moves
-- pending -> processing -> done | ignored | failed, or back to pending
-- after an error while attempts remain. claimed_at is when the current
-- processing lease began: a row left in processing by a stopped process is
-- claimed again once the lease has run out.
CREATE TABLE hook_events (
    uuid         TEXT    NOT NULL PRIMARY KEY,
    received_at  TEXT    NOT NULL,
    published    TEXT    NOT NULL DEFAULT '',
    event_type   TEXT    NOT NULL DEFAULT '',
    actor_id     TEXT    NOT NULL DEFAULT '',
    target_json  TEXT    NOT NULL DEFAULT '[]',
    raw          TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending', -- pending, processing, done, failed, ignored
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    processed_at TEXT    NOT NULL DEFAULT '',
    claimed_at   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX hook_events_queue ON hook_events (state, received_at);
