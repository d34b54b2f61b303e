-- A tamper-evident audit log: each entry carries the SHA-256 of its content
-- and of the entry before it (the encoding is in store/audit_chain.go), and
-- pruning leaves a checkpoint signed with HMAC-SHA256 in place of the
-- entries it removes. ADD COLUMN rewrites no row, so the append-only
-- triggers of audit_log stay as they are.
ALTER TABLE audit_log ADD COLUMN payload_sha256 TEXT NOT NULL DEFAULT ''; -- of the Slack payload acted on
ALTER TABLE audit_log ADD COLUMN action_ts      TEXT NOT NULL DEFAULT ''; -- Slack's action_ts
ALTER TABLE audit_log ADD COLUMN prev_hash      TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash           TEXT NOT NULL DEFAULT '';

-- Entries written before this migration have no hash: SQL has no SHA-256
-- to backfill them here, and the triggers forbid updating them later. They
-- are the chain's legacy prefix, counted but not checked by verification;
-- the first hashed entry starts from an empty prev_hash. last_legacy_id
-- records where the prefix ends, so no later entry can pass as legacy.
CREATE TABLE audit_chain_start (
    last_legacy_id INTEGER NOT NULL
);
INSERT INTO audit_chain_start (last_legacy_id) SELECT COALESCE(MAX(id), 0) FROM audit_log;
CREATE TRIGGER audit_chain_start_no_update BEFORE UPDATE ON audit_chain_start
BEGIN SELECT RAISE(ABORT, 'audit_chain_start is append-only'); END;
CREATE TRIGGER audit_chain_start_no_delete BEFORE DELETE ON audit_chain_start
BEGIN SELECT RAISE(ABORT, 'audit_chain_start is append-only'); END;

-- One row per prune: the last removed entry's id and hash, how many
-- entries went, and an HMAC-SHA256 over those and at. Verification starts
-- the remaining chain from the newest checkpoint.
CREATE TABLE audit_checkpoints (
    id              INTEGER PRIMARY KEY,
    at              TEXT    NOT NULL,
    last_id         INTEGER NOT NULL,
    last_hash       TEXT    NOT NULL,
    entries_removed INTEGER NOT NULL,
    signature       TEXT    NOT NULL -- hex
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
