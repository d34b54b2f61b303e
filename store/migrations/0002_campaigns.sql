-- Campaigns, their cases, plans, approvals, certification history and the
-- append-only audit log.
ALTER TABLE snapshots ADD COLUMN digest TEXT NOT NULL DEFAULT '';
ALTER TABLE dir_app_users ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
CREATE INDEX dir_users_login ON dir_users (snapshot_id, login COLLATE NOCASE);
CREATE INDEX dir_users_email ON dir_users (snapshot_id, email COLLATE NOCASE);

CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    owner           TEXT    NOT NULL,
    definition_yaml TEXT    NOT NULL,
    snapshot_id     INTEGER NOT NULL REFERENCES snapshots (id),
    snapshot_digest TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    trigger         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    stage1_ends     TEXT    NOT NULL,
    deadline        TEXT    NOT NULL,
    stage2_started  TEXT    NOT NULL DEFAULT '',
    closed_at       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX campaigns_state ON campaigns (state);

CREATE TABLE campaign_transitions (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    from_state  TEXT    NOT NULL,
    to_state    TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    note        TEXT    NOT NULL
);

CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    campaign_id       INTEGER NOT NULL REFERENCES campaigns (id),
    user_id           TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    entitlement_id    TEXT    NOT NULL,
    label             TEXT    NOT NULL,
    direct            INTEGER NOT NULL,
    via_groups        TEXT    NOT NULL, -- space-separated group ids
    flags             INTEGER NOT NULL,
    risk              TEXT    NOT NULL,
    manager_id        TEXT    NOT NULL,
    reviewer_id       TEXT    NOT NULL,
    reviewer_since    TEXT    NOT NULL DEFAULT '',
    escalation_level  INTEGER NOT NULL DEFAULT 0,
    delegated_by      TEXT    NOT NULL DEFAULT '',
    member_decision   TEXT    NOT NULL DEFAULT '',
    member_comment    TEXT    NOT NULL DEFAULT '',
    member_at         TEXT    NOT NULL DEFAULT '',
    reviewer_decision TEXT    NOT NULL DEFAULT '',
    reviewer_comment  TEXT    NOT NULL DEFAULT '',
    reviewer_at       TEXT    NOT NULL DEFAULT '',
    decided_by        TEXT    NOT NULL DEFAULT '',
    accept_until      TEXT    NOT NULL DEFAULT '',
    outcome           TEXT    NOT NULL DEFAULT '',
    UNIQUE (campaign_id, user_id, kind, entitlement_id)
);
CREATE INDEX cases_reviewer ON cases (campaign_id, reviewer_id);

-- The remediation plan: numbered operations, conflicts and manual items.
CREATE TABLE plan_items (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL, -- remove_membership, unassign_app, conflict, manual
    user_id     TEXT    NOT NULL,
    group_id    TEXT    NOT NULL,
    app_id      TEXT    NOT NULL,
    case_ids    TEXT    NOT NULL, -- space-separated
    reason      TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);

CREATE TABLE approvals (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    approver    TEXT    NOT NULL,
    decision    TEXT    NOT NULL, -- approve or reject
    at          TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, approver)
);

CREATE TABLE reminders_sent (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    person      TEXT    NOT NULL,
    slot        TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, person, slot)
);

CREATE TABLE cert_history (
    user_id        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    entitlement_id TEXT    NOT NULL,
    certified_at   TEXT    NOT NULL,
    outcome        TEXT    NOT NULL,
    decided_by     TEXT    NOT NULL,
    campaign_id    INTEGER NOT NULL,
    accept_until   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, kind, entitlement_id, campaign_id)
);
CREATE INDEX cert_history_at ON cert_history (certified_at);

CREATE TABLE schedule_runs (
    definition TEXT NOT NULL,
    slot       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    campaign_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (definition, slot)
);

-- Append-only: never updated or deleted in place (triggers refuse it).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    campaign_id INTEGER NOT NULL,
    case_id     INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    actor       TEXT    NOT NULL, -- email
    actor_id    TEXT    NOT NULL, -- Okta user id
    actor_via   TEXT    NOT NULL,
    slack_user  TEXT    NOT NULL,
    slack_team  TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);
CREATE INDEX audit_log_campaign ON audit_log (campaign_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
