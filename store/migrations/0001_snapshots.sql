-- Directory snapshots. A snapshot is written in one transaction, so a row in
-- snapshots means the whole snapshot is there. Campaigns freeze the snapshot
-- they review, so rows are kept until pruned explicitly.
CREATE TABLE snapshots (
    id           INTEGER PRIMARY KEY,
    org_url      TEXT    NOT NULL,
    started_at   TEXT    NOT NULL,
    completed_at TEXT    NOT NULL,
    log_cursor   TEXT    NOT NULL DEFAULT '',
    counts       TEXT    NOT NULL DEFAULT '{}'
);

CREATE TABLE dir_users (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    login       TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    first_name  TEXT    NOT NULL,
    last_name   TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    created     INTEGER NOT NULL, -- unix seconds, 0 when unknown
    last_login  INTEGER NOT NULL, -- unix seconds, 0 when never
    department  TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    manager_ref TEXT    NOT NULL,
    manager_id  TEXT    NOT NULL,
    PRIMARY KEY (snapshot_id, id)
) WITHOUT ROWID;

CREATE TABLE dir_groups (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    rule_ids    TEXT    NOT NULL, -- space-separated ids of active rules targeting the group
    PRIMARY KEY (snapshot_id, id)
) WITHOUT ROWID;

CREATE TABLE dir_group_rules (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    group_ids   TEXT    NOT NULL, -- space-separated
    PRIMARY KEY (snapshot_id, id)
) WITHOUT ROWID;

CREATE TABLE dir_apps (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    id           TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    sign_on_mode TEXT    NOT NULL,
    link_url     TEXT    NOT NULL,
    PRIMARY KEY (snapshot_id, id)
) WITHOUT ROWID;

CREATE TABLE dir_memberships (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    group_id    TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    PRIMARY KEY (snapshot_id, group_id, user_id)
) WITHOUT ROWID;

CREATE TABLE dir_app_users (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    app_id      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    scope       TEXT    NOT NULL, -- USER (direct) or GROUP
    PRIMARY KEY (snapshot_id, app_id, user_id)
) WITHOUT ROWID;

CREATE TABLE dir_app_groups (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    app_id      TEXT    NOT NULL,
    group_id    TEXT    NOT NULL,
    priority    INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, app_id, group_id)
) WITHOUT ROWID;

CREATE TABLE dir_app_usage (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL,
    app_id      TEXT    NOT NULL,
    last_used   INTEGER NOT NULL, -- unix seconds
    PRIMARY KEY (snapshot_id, user_id, app_id)
) WITHOUT ROWID;
