-- Outbox priorities and per-target order. The sender claims, for each
-- target, only the first item still to send, highest priority first: one
-- channel's backlog never holds up another channel, and alerts and
-- approvals overtake a fan-out of forms. Priorities: 1 bulk (posts to
-- okta: DMs), 2 interactive (updates, ephemerals), 3 urgent (posts to
-- channels); see internal/slackrec.PriorityOf.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;

UPDATE outbox SET priority = CASE
    WHEN kind IN ('update', 'ephemeral') THEN 2
    WHEN target LIKE 'okta:%' THEN 1
    ELSE 3
END;

-- Claim order: pending items by priority, then age.
CREATE INDEX outbox_claim ON outbox (state, priority DESC, id);
-- "Is anything of this target queued before this item?"
CREATE INDEX outbox_target ON outbox (target, state, id);
