-- A closed campaign's remediation plan is stored in slices of up to
-- 4,096 items, one compact row each (see store/plan_chunk.go for the
-- encoding), instead of one plan_items row per item: a close with 1.4M
-- items wrote 1.4M rows, 4 s on SQLite and 8 s on PostgreSQL. items is
-- the slice's item count, first_seq its first item's sequence number.
-- Plans stored before this migration stay in plan_items, where Plan
-- still reads them. The bodies are compact already: stored out of line
-- without compression (STORAGE EXTERNAL), which would cost the server
-- time and save little.
CREATE TABLE plan_chunks (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    first_seq   BIGINT NOT NULL,
    items       BIGINT NOT NULL,
    body        BYTEA  NOT NULL,
    PRIMARY KEY (campaign_id, first_seq)
);
ALTER TABLE plan_chunks ALTER COLUMN body SET STORAGE EXTERNAL;
