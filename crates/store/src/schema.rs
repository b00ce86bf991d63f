//! Diesel table definitions, one module per backend (the SQL types differ: `uuid` and
//! `timestamptz` on PostgreSQL, text ids and integer milliseconds on SQLite). Column names are
//! the same, so the query code in [`crate::queries`] is written once.

/// PostgreSQL (`migrations/postgres`).
pub mod pg {
    diesel::table! {
        accounts (id) {
            id -> Uuid,
            name -> Text,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        api_keys (digest) {
            digest -> Binary,
            account_id -> Uuid,
            created_at -> Timestamptz,
            key_id -> Nullable<Text>,
            scopes -> Text,
            label -> Nullable<Text>,
            last_used_at -> Nullable<Timestamptz>,
            revoked_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        audit_events (id) {
            id -> Uuid,
            account_id -> Uuid,
            at -> Timestamptz,
            action -> Text,
            integration_id -> Nullable<Uuid>,
            reason -> Nullable<Text>,
            key_id -> Nullable<Text>,
            request_id -> Nullable<Text>,
            client_ip -> Nullable<Text>,
        }
    }

    diesel::table! {
        integrations (id) {
            id -> Uuid,
            account_id -> Uuid,
            label -> Text,
            provider -> Text,
            platform -> Text,
            public_fields -> Text,
            kek_id -> BigInt,
            sealed -> Binary,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
            last_verified_at -> Nullable<Timestamptz>,
            last_verification_successful -> Nullable<Bool>,
            last_verification_message -> Nullable<Text>,
            last_verification_reason -> Nullable<Text>,
        }
    }

    diesel::table! {
        vault_keys (kek_id) {
            kek_id -> BigInt,
            fingerprint -> Binary,
            created_at -> Timestamptz,
        }
    }

    diesel::joinable!(api_keys -> accounts (account_id));
    diesel::allow_tables_to_appear_in_same_query!(
        accounts,
        api_keys,
        audit_events,
        integrations,
        vault_keys
    );
}

/// SQLite (`migrations/sqlite`).
pub mod sqlite {
    diesel::table! {
        accounts (id) {
            id -> Text,
            name -> Text,
            created_at -> BigInt,
        }
    }

    diesel::table! {
        api_keys (digest) {
            digest -> Binary,
            account_id -> Text,
            created_at -> BigInt,
            key_id -> Nullable<Text>,
            scopes -> Text,
            label -> Nullable<Text>,
            last_used_at -> Nullable<BigInt>,
            revoked_at -> Nullable<BigInt>,
        }
    }

    diesel::table! {
        audit_events (id) {
            id -> Text,
            account_id -> Text,
            at -> BigInt,
            action -> Text,
            integration_id -> Nullable<Text>,
            reason -> Nullable<Text>,
            key_id -> Nullable<Text>,
            request_id -> Nullable<Text>,
            client_ip -> Nullable<Text>,
        }
    }

    diesel::table! {
        integrations (id) {
            id -> Text,
            account_id -> Text,
            label -> Text,
            provider -> Text,
            platform -> Text,
            public_fields -> Text,
            kek_id -> BigInt,
            sealed -> Binary,
            created_at -> BigInt,
            updated_at -> BigInt,
            last_verified_at -> Nullable<BigInt>,
            last_verification_successful -> Nullable<Bool>,
            last_verification_message -> Nullable<Text>,
            last_verification_reason -> Nullable<Text>,
        }
    }

    diesel::table! {
        vault_keys (kek_id) {
            kek_id -> BigInt,
            fingerprint -> Binary,
            created_at -> BigInt,
        }
    }

    diesel::joinable!(api_keys -> accounts (account_id));
    diesel::allow_tables_to_appear_in_same_query!(
        accounts,
        api_keys,
        audit_events,
        integrations,
        vault_keys
    );
}
