-- API keys get a public id, scopes, a label and a lifecycle; an audit trail of every action.

-- `key_id` is the first 8 characters after `ik_` of the key: keys are looked up by it and
-- their digest compared in constant time by the application. Keys stored before this
-- migration have no key id yet; they are found by digest once and given theirs on first use.
ALTER TABLE api_keys ADD COLUMN key_id       TEXT CHECK (key_id IS NULL OR length(key_id) = 8);
ALTER TABLE api_keys ADD COLUMN scopes       TEXT NOT NULL DEFAULT 'manage,use';
ALTER TABLE api_keys ADD COLUMN label        TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_keys ADD COLUMN revoked_at   INTEGER;
CREATE UNIQUE INDEX api_keys_key_id_idx ON api_keys (key_id);

-- Append-only events. No foreign key to integrations: events outlive what they describe.
CREATE TABLE audit_events (
    id             TEXT    NOT NULL PRIMARY KEY,
    account_id     TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    action         TEXT    NOT NULL,
    integration_id TEXT,
    -- NULL on success, a verify reason code on failure.
    reason         TEXT,
    key_id         TEXT,
    request_id     TEXT,
    client_ip      TEXT
) STRICT;
-- Newest first per account, and per integration of an account (keyset pagination).
CREATE INDEX audit_events_account_idx ON audit_events (account_id, at DESC, id DESC);
CREATE INDEX audit_events_integration_idx
    ON audit_events (account_id, integration_id, at DESC, id DESC);
