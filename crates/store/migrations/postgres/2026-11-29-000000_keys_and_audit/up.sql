-- API keys get a public id, scopes, a label and a lifecycle; an audit trail of every action.

-- `key_id` is the first 8 characters after `ik_` of the key: keys are looked up by it and
-- their digest compared in constant time by the application. Keys stored before this
-- migration have no key id yet; they are found by digest once and given theirs on first use.
ALTER TABLE api_keys ADD COLUMN key_id       text UNIQUE CHECK (length(key_id) = 8);
ALTER TABLE api_keys ADD COLUMN scopes       text NOT NULL DEFAULT 'manage,use';
ALTER TABLE api_keys ADD COLUMN label        text;
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
ALTER TABLE api_keys ADD COLUMN revoked_at   timestamptz;

-- Append-only events. No foreign key to integrations: events outlive what they describe.
CREATE TABLE audit_events (
    id             uuid        PRIMARY KEY,
    account_id     uuid        NOT NULL,
    at             timestamptz NOT NULL,
    action         text        NOT NULL,
    integration_id uuid,
    -- NULL on success, a verify reason code on failure.
    reason         text,
    key_id         text,
    request_id     text,
    client_ip      text
);
-- Newest first per account, and per integration of an account (keyset pagination).
CREATE INDEX audit_events_account_idx ON audit_events (account_id, at DESC, id DESC);
CREATE INDEX audit_events_integration_idx
    ON audit_events (account_id, integration_id, at DESC, id DESC);
