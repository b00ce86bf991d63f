-- The events of one integration, newest first: led by the integration's id instead of the
-- account's. A create's event then lands at the right edge of this index (ids are UUIDv7,
-- time-ordered) instead of on one leaf page per account, so a commit of creates across many
-- accounts writes a third fewer pages (docs/performance.md). The account stays in the key so
-- the planner prefers this index for `account_id = ? AND integration_id = ?`.
DROP INDEX audit_events_integration_idx;
CREATE INDEX audit_events_integration_idx
    ON audit_events (integration_id, account_id, at DESC, id DESC);
