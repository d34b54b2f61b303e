-- A keyed audit chain: with an audit key (store.audit_key, ATTEST_AUDIT_KEY)
-- entries are hashed with HMAC-SHA256 instead of SHA-256 (the encoding is in
-- store/audit_chain.go), so someone who can write the database but has not
-- the key cannot recompute the chain after an edit.
--
-- audit_chain_mode records, once, from which entry the chain is keyed and
-- where its legacy prefix ends, signed with the key: a chain keyed from
-- entry N in which a later entry is unkeyed, unhashed or "legacy" fails
-- verification as a downgrade.
CREATE TABLE audit_chain_mode (
    id             INTEGER PRIMARY KEY,
    keyed_from     INTEGER NOT NULL, -- the first entry hashed with the key
    last_legacy_id INTEGER NOT NULL, -- audit_chain_start's, covered by the signature
    at             TEXT    NOT NULL,
    signature      TEXT    NOT NULL  -- hex HMAC-SHA256
);
CREATE TRIGGER audit_chain_mode_no_update BEFORE UPDATE ON audit_chain_mode
BEGIN SELECT RAISE(ABORT, 'audit_chain_mode is append-only'); END;
CREATE TRIGGER audit_chain_mode_no_delete BEFORE DELETE ON audit_chain_mode
BEGIN SELECT RAISE(ABORT, 'audit_chain_mode is append-only'); END;

-- The newest entry's id and hash, signed with the key and rewritten by every
-- append of a keyed chain: deleting the newest entries leaves a head that
-- names an entry no longer there. (Restoring an older copy of this row
-- with the entries after it deleted is only caught by a head recorded
-- outside the database: `attest audit verify --expect-head`.)
CREATE TABLE audit_chain_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT    NOT NULL,
    signature TEXT    NOT NULL -- hex HMAC-SHA256
);
