-- Risk ratings bound to Okta ids. At each sync every label or pattern rule
-- of risk.apps / risk.groups is resolved to the ids it matches, so that an
-- app renamed in Okta keeps its rating. A row stays while its rule is
-- configured and its app or group exists; the set is replaced in one
-- transaction per sync. No foreign key to snapshots: snapshots are pruned,
-- bindings outlive them.
CREATE TABLE risk_bindings (
    kind           TEXT    NOT NULL, -- app or group
    entitlement_id TEXT    NOT NULL, -- the Okta app or group id
    rule           TEXT    NOT NULL, -- the rule's key in the configuration
    level          TEXT    NOT NULL, -- the rule's level at the last sync
    label          TEXT    NOT NULL, -- the label when first bound
    bound_at       TEXT    NOT NULL, -- RFC 3339, when first bound
    snapshot_id    INTEGER NOT NULL, -- the snapshot it was first bound from
    PRIMARY KEY (kind, entitlement_id, rule)
) WITHOUT ROWID;
