//! The queries both backends share, written once.
//!
//! The backends differ in column types (`uuid`/`timestamptz` on PostgreSQL, text ids and
//! integer milliseconds on SQLite) and in how they run (PostgreSQL through diesel-async, SQLite
//! through synchronous diesel on a blocking thread), but not in column names or query shapes.
//! [`queries!`] is expanded inside each backend module as `queries!(async; .await)` or
//! `queries!(;)`: every function below becomes an `async fn` awaiting each statement, or a plain
//! `fn`. The module must provide:
//! * `Conn` (the connection), `Db` (the diesel backend), and diesel's `RunQueryDsl` of the right
//!   kind in scope;
//! * `DbId`, `DbTime` and the conversions `id_to_db`, `id_from_db`, `time_to_db`,
//!   `time_from_db`;
//! * the tables of its schema module in scope.
//!
//! The functions take a connection and run one use case's statements; the backend module
//! chooses the transaction around them (what really differs: transactions, locks, pools,
//! migrations, the rewrap sweep).

/// An error inside a transaction: a diesel error (which rolls it back) or a repository error
/// already mapped.
#[derive(Debug)]
pub(crate) enum TxError {
    Db(diesel::result::Error),
    Repo(integrations_domain::RepositoryError),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

impl From<integrations_domain::RepositoryError> for TxError {
    fn from(e: integrations_domain::RepositoryError) -> Self {
        TxError::Repo(e)
    }
}

impl From<TxError> for integrations_domain::RepositoryError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Db(e) => crate::error::db_error(e),
            TxError::Repo(e) => e,
        }
    }
}

macro_rules! queries {
    ($($async_:ident)?; $($aw:tt)*) => {
        use crate::codec::{
            action_from_db, digest_from_db, ip_from_db, kek_from_db, kek_to_db, key_id_from_db,
            provider_from_db, public_fields_from_json, public_fields_to_json, reason_from_db,
            scopes_from_db, VerificationColumns,
        };
        use crate::error::db_error;
        #[allow(unused_imports)] // PostgreSQL's transactions use it; SQLite's writer has its own
        use crate::queries::TxError;
        use diesel::prelude::*;
        use diesel::result::{DatabaseErrorKind, Error as DieselError};
        use integrations_domain::{
            AccountId, AccountName, ApiKeyDigest, ApiKeyRecord, AuditEvent, EventQuery, IntegrationId, IntegrationRecord, IntegrationView, KeyId, Label,
            ListQuery, Listed, NewApiKey, Page, RepositoryError, SealedSecrets, UnreadableRow,
            Verification,
        };
        use std::collections::BTreeMap;
        use time::OffsetDateTime;

        /// The columns a list shows: all but the owner and the sealed secrets, which a list
        /// never reads (less to move per row, and no secret material in a list's memory).
        #[derive(Queryable, Selectable)]
        #[diesel(table_name = integrations, check_for_backend(Db))]
        pub(crate) struct ShownRow {
            pub(crate) id: DbId,
            label: String,
            pub(crate) provider: String,
            public_fields: String,
            created_at: DbTime,
            updated_at: DbTime,
            last_verified_at: Option<DbTime>,
            last_verification_successful: Option<bool>,
            last_verification_message: Option<String>,
            last_verification_reason: Option<String>,
        }

        /// One row of `integrations`.
        #[derive(Queryable, Selectable)]
        #[diesel(table_name = integrations, check_for_backend(Db))]
        pub(crate) struct IntegrationRow {
            #[diesel(embed)]
            pub(crate) shown: ShownRow,
            pub(crate) account_id: DbId,
            pub(crate) kek_id: i64,
            pub(crate) sealed: Vec<u8>,
        }

        /// A [`ShownRow`] decoded.
        struct Shown {
            id: IntegrationId,
            label: Label,
            provider: integrations_domain::Provider,
            public_fields: integrations_domain::PublicFields,
            created_at: OffsetDateTime,
            updated_at: OffsetDateTime,
            last_verification: Option<Verification>,
        }

        /// Where a row sits in a list: its id and creation time.
        type Place = (IntegrationId, OffsetDateTime);

        impl ShownRow {
            /// The row decoded; a failure carries the row's place when its id and creation
            /// time could be read (the list then marks it there).
            fn decode(self) -> Result<Shown, (RepositoryError, Option<Place>)> {
                let id = id_from_db(self.id)
                    .map(IntegrationId::from_uuid)
                    .map_err(|e| (e, None))?;
                let created_at = time_from_db(self.created_at).map_err(|e| (e, None))?;
                let placed = |e: RepositoryError| (e, Some((id, created_at)));
                let last_verification = VerificationColumns {
                    at: self.last_verified_at,
                    successful: self.last_verification_successful,
                    message: self.last_verification_message,
                    reason: self.last_verification_reason,
                }
                .into_verification(time_from_db)
                .map_err(placed)?;
                Ok(Shown {
                    id,
                    label: Label::parse(&self.label).map_err(|_| {
                        placed(RepositoryError::other("stored label is not a valid label"))
                    })?,
                    provider: provider_from_db(&self.provider).map_err(placed)?,
                    public_fields: public_fields_from_json(&self.public_fields).map_err(placed)?,
                    created_at,
                    updated_at: time_from_db(self.updated_at).map_err(placed)?,
                    last_verification,
                })
            }

            /// The masked view, or the row marked unreadable at its place (skipped, and
            /// logged, when even its place cannot be read).
            fn into_listed(self) -> Option<Listed<IntegrationView>> {
                match self.decode() {
                    Ok(s) => Some(Listed::Readable(IntegrationView::masked(
                        s.id,
                        s.label,
                        s.provider,
                        &s.public_fields,
                        s.created_at,
                        s.updated_at,
                        s.last_verification,
                    ))),
                    Err((e, Some((id, created_at)))) => Some(Listed::Unreadable(UnreadableRow {
                        id,
                        created_at,
                        problem: e.to_string(),
                    })),
                    Err((e, None)) => {
                        tracing::error!(error = %e, "skipped a stored integration whose id or creation time cannot be read");
                        None
                    }
                }
            }
        }

        impl IntegrationRow {
            pub(crate) fn into_record(self) -> Result<IntegrationRecord, RepositoryError> {
                let s = self.shown.decode().map_err(|(e, _)| e)?;
                Ok(IntegrationRecord {
                    id: s.id,
                    account_id: AccountId::from_uuid(id_from_db(self.account_id)?),
                    label: s.label,
                    provider: s.provider,
                    public_fields: s.public_fields,
                    sealed: SealedSecrets {
                        kek_id: kek_from_db(self.kek_id)?,
                        blob: self.sealed,
                    },
                    created_at: s.created_at,
                    updated_at: s.updated_at,
                    last_verification: s.last_verification,
                })
            }
        }

        /// Every column of a new row. `None` is written as NULL (not DEFAULT), which lets
        /// SQLite take many rows in one INSERT.
        #[derive(Insertable)]
        #[diesel(table_name = integrations, treat_none_as_default_value = false)]
        struct NewIntegration {
            id: DbId,
            account_id: DbId,
            label: String,
            provider: String,
            platform: String,
            public_fields: String,
            kek_id: i64,
            sealed: Vec<u8>,
            created_at: DbTime,
            updated_at: DbTime,
            last_verified_at: Option<DbTime>,
            last_verification_successful: Option<bool>,
            last_verification_message: Option<String>,
            last_verification_reason: Option<String>,
        }

        /// What `update` replaces: everything but the id, the owner and `created_at`.
        #[derive(AsChangeset)]
        #[diesel(table_name = integrations, treat_none_as_null = true)]
        struct IntegrationChanges {
            label: String,
            provider: String,
            platform: String,
            public_fields: String,
            kek_id: i64,
            sealed: Vec<u8>,
            updated_at: DbTime,
            last_verified_at: Option<DbTime>,
            last_verification_successful: Option<bool>,
            last_verification_message: Option<String>,
            last_verification_reason: Option<String>,
        }

        /// The `last_verification_*` columns.
        #[derive(AsChangeset)]
        #[diesel(table_name = integrations, treat_none_as_null = true)]
        struct VerificationChanges {
            last_verified_at: Option<DbTime>,
            last_verification_successful: Option<bool>,
            last_verification_message: Option<String>,
            last_verification_reason: Option<String>,
        }

        impl VerificationChanges {
            fn of(v: Option<&Verification>) -> Self {
                let c = VerificationColumns::of(v, time_to_db);
                Self {
                    last_verified_at: c.at,
                    last_verification_successful: c.successful,
                    last_verification_message: c.message,
                    last_verification_reason: c.reason,
                }
            }
        }

        fn new_integration(r: &IntegrationRecord) -> Result<NewIntegration, RepositoryError> {
            let v = VerificationChanges::of(r.last_verification.as_ref());
            Ok(NewIntegration {
                id: id_to_db(r.id.as_uuid()),
                account_id: id_to_db(r.account_id.as_uuid()),
                label: r.label.as_str().to_owned(),
                provider: r.provider.as_str().to_owned(),
                platform: r.platform().as_str().to_owned(),
                public_fields: public_fields_to_json(&r.public_fields)?,
                kek_id: kek_to_db(r.sealed.kek_id),
                sealed: r.sealed.blob.clone(),
                created_at: time_to_db(r.created_at),
                updated_at: time_to_db(r.updated_at),
                last_verified_at: v.last_verified_at,
                last_verification_successful: v.last_verification_successful,
                last_verification_message: v.last_verification_message,
                last_verification_reason: v.last_verification_reason,
            })
        }

        fn integration_changes(
            r: &IntegrationRecord,
        ) -> Result<IntegrationChanges, RepositoryError> {
            let v = VerificationChanges::of(r.last_verification.as_ref());
            Ok(IntegrationChanges {
                label: r.label.as_str().to_owned(),
                provider: r.provider.as_str().to_owned(),
                platform: r.platform().as_str().to_owned(),
                public_fields: public_fields_to_json(&r.public_fields)?,
                kek_id: kek_to_db(r.sealed.kek_id),
                sealed: r.sealed.blob.clone(),
                updated_at: time_to_db(r.updated_at),
                last_verified_at: v.last_verified_at,
                last_verification_successful: v.last_verification_successful,
                last_verification_message: v.last_verification_message,
                last_verification_reason: v.last_verification_reason,
            })
        }

        /// One row of `audit_events`. `None` is written as NULL, not DEFAULT (the columns
        /// have no other default): an insert naming DEFAULT is one diesel will not cache, so
        /// PostgreSQL parsed and planned the event of every change again, a round trip more.
        #[derive(Queryable, Selectable, Insertable)]
        #[diesel(
            table_name = audit_events,
            check_for_backend(Db),
            treat_none_as_default_value = false
        )]
        struct EventRow {
            id: DbId,
            account_id: DbId,
            at: DbTime,
            action: String,
            integration_id: Option<DbId>,
            reason: Option<String>,
            key_id: Option<String>,
            request_id: Option<String>,
            client_ip: Option<String>,
        }

        impl EventRow {
            fn of(e: &AuditEvent) -> Self {
                Self {
                    id: id_to_db(&e.id),
                    account_id: id_to_db(e.account_id.as_uuid()),
                    at: time_to_db(e.at),
                    action: e.action.as_str().to_owned(),
                    integration_id: e.integration_id.map(|i| id_to_db(i.as_uuid())),
                    reason: e.reason.map(|r| r.as_str().to_owned()),
                    key_id: e.key_id.as_ref().map(|k| k.as_str().to_owned()),
                    request_id: e.request_id.clone(),
                    client_ip: e.client_ip.map(|ip| ip.to_string()),
                }
            }

            fn into_event(self) -> Result<AuditEvent, RepositoryError> {
                Ok(AuditEvent {
                    id: id_from_db(self.id)?,
                    account_id: AccountId::from_uuid(id_from_db(self.account_id)?),
                    at: time_from_db(self.at)?,
                    action: action_from_db(&self.action)?,
                    integration_id: self
                        .integration_id
                        .map(|i| id_from_db(i).map(IntegrationId::from_uuid))
                        .transpose()?,
                    reason: self.reason.as_deref().map(reason_from_db).transpose()?,
                    key_id: self.key_id.as_deref().map(key_id_from_db).transpose()?,
                    request_id: self.request_id,
                    client_ip: ip_from_db(self.client_ip)?,
                })
            }
        }

        /// `NotFound` when an UPDATE or DELETE touched no row.
        fn one_row(affected: usize) -> Result<(), RepositoryError> {
            if affected == 0 {
                Err(RepositoryError::NotFound)
            } else {
                Ok(())
            }
        }

        pub(crate) $($async_)? fn insert_event_on(
            conn: &mut Conn,
            event: &AuditEvent,
        ) -> Result<(), RepositoryError> {
            diesel::insert_into(audit_events::table)
                .values(EventRow::of(event))
                .execute(conn)
                $($aw)*
                .map_err(db_error)?;
            Ok(())
        }

        /// A failed insert of `record`: a taken id is a conflict.
        fn insert_error(e: DieselError, record: &IntegrationRecord) -> RepositoryError {
            match e {
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    RepositoryError::Conflict(format!("integration {} exists", record.id))
                }
                e => db_error(e),
            }
        }

        #[allow(dead_code)] // PostgreSQL sends the two inserts in one round trip (`pg::insert`)
        pub(crate) $($async_)? fn insert_on(
            conn: &mut Conn,
            record: &IntegrationRecord,
            event: &AuditEvent,
        ) -> Result<(), RepositoryError> {
            let row = new_integration(record)?;
            diesel::insert_into(integrations::table)
                .values(&row)
                .execute(conn)
                $($aw)*
                .map_err(|e| insert_error(e, record))?;
            insert_event_on(conn, event) $($aw)*
        }

        /// Rows per INSERT of a bulk load: 14 columns × 500 stays under both backends'
        /// limits on bound parameters (SQLite 32,766; PostgreSQL 65,535).
        const BULK_ROWS: usize = 500;

        pub(crate) $($async_)? fn insert_many_on(
            conn: &mut Conn,
            records: &[IntegrationRecord],
        ) -> Result<usize, RepositoryError> {
            let rows = records
                .iter()
                .map(new_integration)
                .collect::<Result<Vec<_>, _>>()?;
            let mut inserted = 0;
            for chunk in rows.chunks(BULK_ROWS) {
                inserted += diesel::insert_into(integrations::table)
                    .values(chunk)
                    .execute(conn)
                    $($aw)*
                    .map_err(db_error)?;
            }
            Ok(inserted)
        }

        pub(crate) $($async_)? fn get_on(
            conn: &mut Conn,
            account: AccountId,
            id: IntegrationId,
        ) -> Result<IntegrationRecord, RepositoryError> {
            integrations::table
                .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                .filter(integrations::account_id.eq(id_to_db(account.as_uuid())))
                .select(IntegrationRow::as_select())
                .get_result(conn)
                $($aw)*
                .map_err(db_error)?
                .into_record()
        }

        $($async_)? fn exists_on(
            conn: &mut Conn,
            account: AccountId,
            id: IntegrationId,
        ) -> Result<bool, RepositoryError> {
            diesel::select(diesel::dsl::exists(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(account.as_uuid()))),
            ))
            .get_result(conn)
            $($aw)*
            .map_err(db_error)
        }

        pub(crate) $($async_)? fn update_on(
            conn: &mut Conn,
            record: &IntegrationRecord,
            expected_updated_at: OffsetDateTime,
            event: &AuditEvent,
        ) -> Result<(), RepositoryError> {
            let changes = integration_changes(record)?;
            let affected = diesel::update(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(record.id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(record.account_id.as_uuid())))
                    .filter(integrations::updated_at.eq(time_to_db(expected_updated_at))),
            )
            .set(&changes)
            .execute(conn)
            $($aw)*
            .map_err(db_error)?;
            if affected == 0 {
                return Err(if exists_on(conn, record.account_id, record.id) $($aw)* ? {
                    RepositoryError::Conflict("the integration was changed meanwhile".into())
                } else {
                    RepositoryError::NotFound
                });
            }
            insert_event_on(conn, event) $($aw)*
        }

        pub(crate) $($async_)? fn delete_on(
            conn: &mut Conn,
            account: AccountId,
            id: IntegrationId,
            event: &AuditEvent,
        ) -> Result<(), RepositoryError> {
            let affected = diesel::delete(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(account.as_uuid()))),
            )
            .execute(conn)
            $($aw)*
            .map_err(db_error)?;
            one_row(affected)?;
            insert_event_on(conn, event) $($aw)*
        }

        pub(crate) $($async_)? fn list_on(
            conn: &mut Conn,
            account: AccountId,
            query: &ListQuery,
        ) -> Result<Page<Listed<IntegrationView>>, RepositoryError> {
            let limit = query.limit.get();
            let mut q = integrations::table
                .filter(integrations::account_id.eq(id_to_db(account.as_uuid())))
                .into_boxed::<Db>();
            if let Some(provider) = query.provider {
                q = q.filter(integrations::provider.eq(provider.as_str()));
            }
            if let Some(platform) = query.platform {
                q = q.filter(integrations::platform.eq(platform.as_str()));
            }
            if let Some(after) = query.after {
                let at = time_to_db(after.at);
                // `created_at >= at` is the index range the scan starts from (a deep page
                // must not read the rows before it); the rest breaks ties by id.
                q = q.filter(integrations::created_at.ge(at)).filter(
                    integrations::created_at
                        .gt(at)
                        .or(integrations::id.gt(id_to_db(&after.id))),
                );
            }
            // One more than asked: tells whether a next page exists.
            let rows: Vec<ShownRow> = page_rows!(
                q.order((integrations::created_at.asc(), integrations::id.asc()))
                    .select(ShownRow::as_select()),
                limit as usize + 1,
                conn
            )
            .map_err(db_error)?;
            let more = rows.len() > limit as usize;
            let items: Vec<Listed<IntegrationView>> = rows
                .into_iter()
                .take(limit as usize)
                .filter_map(ShownRow::into_listed)
                .collect();
            let next = if more {
                items.last().map(Listed::position)
            } else {
                None
            };
            Ok(Page { items, next })
        }

        pub(crate) $($async_)? fn record_verification_on(
            conn: &mut Conn,
            account: AccountId,
            id: IntegrationId,
            checked_version: OffsetDateTime,
            verification: &Verification,
            event: &AuditEvent,
        ) -> Result<bool, RepositoryError> {
            let changes = VerificationChanges::of(Some(verification));
            let affected = diesel::update(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(account.as_uuid())))
                    .filter(integrations::updated_at.eq(time_to_db(checked_version))),
            )
            .set(&changes)
            .execute(conn)
            $($aw)*
            .map_err(db_error)?;
            insert_event_on(conn, event) $($aw)* ?;
            Ok(affected > 0)
        }

        pub(crate) $($async_)? fn ping_on(conn: &mut Conn) -> Result<(), RepositoryError> {
            diesel::sql_query("SELECT 1")
                .execute(conn)
                $($aw)*
                .map_err(RepositoryError::unavailable)?;
            Ok(())
        }

        pub(crate) $($async_)? fn events_on(
            conn: &mut Conn,
            account: AccountId,
            query: &EventQuery,
        ) -> Result<Page<AuditEvent>, RepositoryError> {
            let limit = query.limit.get();
            let mut q = audit_events::table
                .filter(audit_events::account_id.eq(id_to_db(account.as_uuid())))
                .into_boxed::<Db>();
            if let Some(integration) = query.integration {
                q = q.filter(audit_events::integration_id.eq(id_to_db(integration.as_uuid())));
            }
            if let Some(before) = query.before {
                let at = time_to_db(before.at);
                // The index range first, then the tie on `at` broken by id (as for lists).
                q = q.filter(audit_events::at.le(at)).filter(
                    audit_events::at
                        .lt(at)
                        .or(audit_events::id.lt(id_to_db(&before.id))),
                );
            }
            let rows: Vec<EventRow> = page_rows!(
                q.order((audit_events::at.desc(), audit_events::id.desc()))
                    .select(EventRow::as_select()),
                limit as usize + 1,
                conn
            )
            .map_err(db_error)?;
            let more = rows.len() > limit as usize;
            let items = rows
                .into_iter()
                .take(limit as usize)
                .map(EventRow::into_event)
                .collect::<Result<Vec<_>, _>>()?;
            let next = if more {
                items.last().map(AuditEvent::position)
            } else {
                None
            };
            Ok(Page { items, next })
        }

        /// Creates account `name` unless it exists; its id either way. Race-free: the
        /// insert does nothing on a name conflict and the select reads the winner.
        pub(crate) $($async_)? fn ensure_account_on(
            conn: &mut Conn,
            name: &AccountName,
        ) -> Result<AccountId, RepositoryError> {
            diesel::insert_into(accounts::table)
                .values((
                    accounts::id.eq(id_to_db(AccountId::new().as_uuid())),
                    accounts::name.eq(name.as_str()),
                    accounts::created_at.eq(time_to_db(OffsetDateTime::now_utc())),
                ))
                .on_conflict(accounts::name)
                .do_nothing()
                .execute(conn)
                $($aw)*
                .map_err(db_error)?;
            let id: DbId = accounts::table
                .filter(accounts::name.eq(name.as_str()))
                .select(accounts::id)
                .get_result(conn)
                $($aw)*
                .map_err(db_error)?;
            id_from_db(id).map(AccountId::from_uuid)
        }

        pub(crate) $($async_)? fn insert_api_key_on(
            conn: &mut Conn,
            account: AccountId,
            key: &NewApiKey,
        ) -> Result<(), RepositoryError> {
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::digest.eq(key.digest.as_bytes().as_slice()),
                    api_keys::account_id.eq(id_to_db(account.as_uuid())),
                    api_keys::created_at.eq(time_to_db(key.created_at)),
                    api_keys::key_id.eq(key.key_id.as_str()),
                    api_keys::scopes.eq(key.scopes.to_string()),
                    api_keys::label.eq(key.label.as_deref()),
                ))
                .execute(conn)
                $($aw)*
                .map_err(|e| match e {
                    DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                        RepositoryError::NotFound
                    }
                    DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                        RepositoryError::Conflict("an API key with this key id exists".into())
                    }
                    e => db_error(e),
                })?;
            Ok(())
        }

        /// Whether any API key exists (first-key bootstrap).
        pub(crate) $($async_)? fn any_api_key_on(conn: &mut Conn) -> Result<bool, RepositoryError> {
            diesel::select(diesel::dsl::exists(api_keys::table.select(api_keys::digest)))
                .get_result(conn)
                $($aw)*
                .map_err(db_error)
        }

        #[derive(Queryable)]
        struct ApiKeyRow {
            digest: Vec<u8>,
            account_id: DbId,
            created_at: DbTime,
            key_id: Option<String>,
            scopes: String,
            label: Option<String>,
            last_used_at: Option<DbTime>,
            revoked_at: Option<DbTime>,
            account_name: String,
        }

        impl ApiKeyRow {
            fn into_record(self) -> Result<ApiKeyRecord, RepositoryError> {
                let key_id = self
                    .key_id
                    .ok_or_else(|| RepositoryError::other("stored key has no key id yet"))?;
                Ok(ApiKeyRecord {
                    key_id: key_id_from_db(&key_id)?,
                    account_id: AccountId::from_uuid(id_from_db(self.account_id)?),
                    account_name: AccountName::parse(&self.account_name).map_err(|_| {
                        RepositoryError::other("stored account name is not valid")
                    })?,
                    digest: digest_from_db(&self.digest)?,
                    scopes: scopes_from_db(&self.scopes)?,
                    label: self.label,
                    created_at: time_from_db(self.created_at)?,
                    last_used_at: self.last_used_at.map(time_from_db).transpose()?,
                    revoked_at: self.revoked_at.map(time_from_db).transpose()?,
                })
            }
        }

        type ApiKeyColumns = (
            api_keys::digest,
            api_keys::account_id,
            api_keys::created_at,
            api_keys::key_id,
            api_keys::scopes,
            api_keys::label,
            api_keys::last_used_at,
            api_keys::revoked_at,
            accounts::name,
        );

        const API_KEY_COLUMNS: ApiKeyColumns = (
            api_keys::digest,
            api_keys::account_id,
            api_keys::created_at,
            api_keys::key_id,
            api_keys::scopes,
            api_keys::label,
            api_keys::last_used_at,
            api_keys::revoked_at,
            accounts::name,
        );

        /// The key with this id. A key stored before key ids existed is found by its digest
        /// once and given this key id (then found by id like the others).
        pub(crate) $($async_)? fn find_api_key_on(
            conn: &mut Conn,
            key_id: &KeyId,
            digest: &ApiKeyDigest,
        ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
            let by_id: Option<ApiKeyRow> = api_keys::table
                .inner_join(accounts::table)
                .filter(api_keys::key_id.eq(key_id.as_str()))
                .select(API_KEY_COLUMNS)
                .get_result(conn)
                $($aw)*
                .optional()
                .map_err(db_error)?;
            if let Some(row) = by_id {
                return row.into_record().map(Some);
            }
            let claimed = diesel::update(
                api_keys::table
                    .filter(api_keys::key_id.is_null())
                    .filter(api_keys::digest.eq(digest.as_bytes().as_slice())),
            )
            .set(api_keys::key_id.eq(key_id.as_str()))
            .execute(conn)
            $($aw)*
            .map_err(db_error)?;
            if claimed == 0 {
                return Ok(None);
            }
            tracing::info!(%key_id, "gave a key stored before key ids existed its key id");
            let row: ApiKeyRow = api_keys::table
                .inner_join(accounts::table)
                .filter(api_keys::key_id.eq(key_id.as_str()))
                .select(API_KEY_COLUMNS)
                .get_result(conn)
                $($aw)*
                .map_err(db_error)?;
            row.into_record().map(Some)
        }

        pub(crate) $($async_)? fn list_api_keys_on(
            conn: &mut Conn,
            account: Option<&AccountName>,
        ) -> Result<Vec<ApiKeyRecord>, RepositoryError> {
            let mut q = api_keys::table
                .inner_join(accounts::table)
                .filter(api_keys::key_id.is_not_null())
                .into_boxed::<Db>();
            if let Some(name) = account {
                q = q.filter(accounts::name.eq(name.as_str()));
            }
            let rows: Vec<ApiKeyRow> = q
                .order((api_keys::created_at.asc(), api_keys::key_id.asc()))
                .select(API_KEY_COLUMNS)
                .load(conn)
                $($aw)*
                .map_err(db_error)?;
            rows.into_iter().map(ApiKeyRow::into_record).collect()
        }

        pub(crate) $($async_)? fn revoke_api_key_on(
            conn: &mut Conn,
            key_id: &KeyId,
            at: OffsetDateTime,
        ) -> Result<(), RepositoryError> {
            let exists: bool = diesel::select(diesel::dsl::exists(
                api_keys::table.filter(api_keys::key_id.eq(key_id.as_str())),
            ))
            .get_result(conn)
            $($aw)*
            .map_err(db_error)?;
            if !exists {
                return Err(RepositoryError::NotFound);
            }
            diesel::update(
                api_keys::table
                    .filter(api_keys::key_id.eq(key_id.as_str()))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(time_to_db(at)))
            .execute(conn)
            $($aw)*
            .map_err(db_error)?;
            Ok(())
        }

        pub(crate) $($async_)? fn touch_api_key_on(
            conn: &mut Conn,
            key_id: &KeyId,
            at: OffsetDateTime,
        ) -> Result<(), RepositoryError> {
            diesel::update(api_keys::table.filter(api_keys::key_id.eq(key_id.as_str())))
                .set(api_keys::last_used_at.eq(time_to_db(at)))
                .execute(conn)
                $($aw)*
                .map_err(db_error)?;
            Ok(())
        }

        pub(crate) $($async_)? fn fingerprints_on(
            conn: &mut Conn,
        ) -> Result<BTreeMap<u32, [u8; 32]>, RepositoryError> {
            let rows: Vec<(i64, Vec<u8>)> = vault_keys::table
                .select((vault_keys::kek_id, vault_keys::fingerprint))
                .load(conn)
                $($aw)*
                .map_err(db_error)?;
            rows.into_iter()
                .map(|(id, fp)| {
                    let fp: [u8; 32] = fp.as_slice().try_into().map_err(|_| {
                        RepositoryError::other("stored key fingerprint is not 32 bytes")
                    })?;
                    Ok((kek_from_db(id)?, fp))
                })
                .collect()
        }

        /// Remembers each fingerprint not stored yet (insert-if-absent, safe when replicas
        /// start together).
        pub(crate) $($async_)? fn remember_fingerprints_on(
            conn: &mut Conn,
            fingerprints: &[(u32, [u8; 32])],
        ) -> Result<(), RepositoryError> {
            for (kek_id, fingerprint) in fingerprints {
                diesel::insert_into(vault_keys::table)
                    .values((
                        vault_keys::kek_id.eq(kek_to_db(*kek_id)),
                        vault_keys::fingerprint.eq(fingerprint.as_slice()),
                        vault_keys::created_at.eq(time_to_db(OffsetDateTime::now_utc())),
                    ))
                    .on_conflict(vault_keys::kek_id)
                    .do_nothing()
                    .execute(conn)
                    $($aw)*
                    .map_err(db_error)?;
            }
            Ok(())
        }

        /// How many integrations each key-encryption key seals.
        pub(crate) $($async_)? fn sealed_per_key_on(
            conn: &mut Conn,
        ) -> Result<BTreeMap<u32, u64>, RepositoryError> {
            let rows: Vec<(i64, i64)> = integrations::table
                .group_by(integrations::kek_id)
                .select((integrations::kek_id, diesel::dsl::count_star()))
                .load(conn)
                $($aw)*
                .map_err(db_error)?;
            rows.into_iter()
                .map(|(id, n)| {
                    let n = u64::try_from(n).map_err(RepositoryError::other)?;
                    Ok((kek_from_db(id)?, n))
                })
                .collect()
        }

        /// The inserts of every create are prepared once per connection and reused: diesel
        /// re-prepares (on PostgreSQL: a `Parse` round trip, then a parse and a plan) any
        /// statement that is not safe to cache, such as an insert naming `DEFAULT`. (diesel
        /// never caches an UPDATE, whose SET list may change with the values.)
        #[cfg(test)]
        mod statement_cache {
            use super::*;
            use diesel::query_builder::QueryFragment;

            fn cached<Q: QueryFragment<Db>>(q: Q) -> bool {
                q.is_safe_to_cache_prepared(&Db::default()).unwrap_or(false)
            }

            #[test]
            fn the_writes_of_every_change_are_cached_statements() {
                let id = id_to_db(&uuid::Uuid::nil());
                let at = time_to_db(OffsetDateTime::UNIX_EPOCH);
                // Every optional column `None`: the case that used to name DEFAULT.
                let event = EventRow {
                    id: id.clone(),
                    account_id: id.clone(),
                    at: at.clone(),
                    action: "created".into(),
                    integration_id: None,
                    reason: None,
                    key_id: None,
                    request_id: None,
                    client_ip: None,
                };
                assert!(
                    cached(diesel::insert_into(audit_events::table).values(&event)),
                    "the audit event's insert"
                );
                let row = NewIntegration {
                    id: id.clone(),
                    account_id: id.clone(),
                    label: "l".into(),
                    provider: "zendesk".into(),
                    platform: "helpcenter".into(),
                    public_fields: "{}".into(),
                    kek_id: 1,
                    sealed: Vec::new(),
                    created_at: at.clone(),
                    updated_at: at.clone(),
                    last_verified_at: None,
                    last_verification_successful: None,
                    last_verification_message: None,
                    last_verification_reason: None,
                };
                assert!(
                    cached(diesel::insert_into(integrations::table).values(&row)),
                    "the integration's insert"
                );
            }
        }
    };
}

pub(crate) use queries;
