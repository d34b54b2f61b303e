-- Outbox claims name their claimer and when they were made, so that with
-- several replicas on one database an item in sending is taken over only
-- when its claim is older than the lease (its replica stopped), never while
-- a live replica is sending it. Rows from before have neither: they count
-- as expired.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_at TEXT NOT NULL DEFAULT '';
