-- Stale-access sweeps: the entitlements each one found, so "Start review
-- of these" launches a campaign over exactly them.
CREATE TABLE sweeps (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    snapshot_id INTEGER NOT NULL,
    findings    INTEGER NOT NULL,
    covered     TEXT    NOT NULL, -- JSON array of [user_id, kind, entitlement_id]
    campaign_id INTEGER NOT NULL DEFAULT 0
);
