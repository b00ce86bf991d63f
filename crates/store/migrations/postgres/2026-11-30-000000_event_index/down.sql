DROP INDEX audit_events_integration_idx;
CREATE INDEX audit_events_integration_idx
    ON audit_events (account_id, integration_id, at DESC, id DESC);
