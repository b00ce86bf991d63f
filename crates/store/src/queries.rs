//! The queries both backends share, written once.
//!
//! The backends differ in column types (`uuid`/`timestamptz` on PostgreSQL, text ids and
//! integer milliseconds on SQLite) but not in column names or query shapes. [`queries!`] is
//! expanded inside each backend module, which must provide:
//! * `Conn` (the async connection) and `Pool` (its bb8 pool), `Db` (the diesel backend);
//! * `DbId`, `DbTime` and the conversions `id_to_db`, `id_from_db`, `time_to_db`,
//!   `time_from_db`;
//! * the tables of its schema module in scope.
//!
//! What really differs (pool setup, migrations, the first-key lock) stays in the module.

macro_rules! queries {
    () => {
        use crate::codec::{
            kek_from_db, kek_to_db, provider_from_db, public_fields_from_json,
            public_fields_to_json, VerificationColumns,
        };
        use crate::error::{db_error, pool_error};
        use diesel::prelude::*;
        use diesel::result::{DatabaseErrorKind, Error as DieselError};
        use diesel_async::RunQueryDsl;
        use integrations_domain::{
            AccountId, AccountName, ApiKeyDigest, IntegrationId, IntegrationRecord, Label,
            ListQuery, Page, RepositoryError, SealedSecrets, Verification,
        };
        use std::collections::BTreeMap;

        /// A pooled connection.
        pub(crate) type Checkout<'a> =
            diesel_async::pooled_connection::bb8::PooledConnection<'a, Conn>;

        /// Takes a connection from the pool: `Unavailable` when none comes within the
        /// checkout timeout.
        pub(crate) async fn checkout(pool: &Pool) -> Result<Checkout<'_>, RepositoryError> {
            pool.get().await.map_err(pool_error)
        }

        /// One row of `integrations`.
        #[derive(Queryable, Selectable)]
        #[diesel(table_name = integrations, check_for_backend(Db))]
        struct IntegrationRow {
            id: DbId,
            account_id: DbId,
            label: String,
            provider: String,
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

        impl IntegrationRow {
            fn into_record(self) -> Result<IntegrationRecord, RepositoryError> {
                let last_verification = VerificationColumns {
                    at: self.last_verified_at,
                    successful: self.last_verification_successful,
                    message: self.last_verification_message,
                    reason: self.last_verification_reason,
                }
                .into_verification(time_from_db)?;
                Ok(IntegrationRecord {
                    id: IntegrationId::from_uuid(id_from_db(self.id)?),
                    account_id: AccountId::from_uuid(id_from_db(self.account_id)?),
                    label: Label::parse(&self.label)
                        .map_err(|_| RepositoryError::other("stored label is not a valid label"))?,
                    provider: provider_from_db(&self.provider)?,
                    public_fields: public_fields_from_json(&self.public_fields)?,
                    sealed: SealedSecrets {
                        kek_id: kek_from_db(self.kek_id)?,
                        blob: self.sealed,
                    },
                    created_at: time_from_db(self.created_at)?,
                    updated_at: time_from_db(self.updated_at)?,
                    last_verification,
                })
            }
        }

        /// Every column of a new row.
        #[derive(Insertable)]
        #[diesel(table_name = integrations)]
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

        /// `NotFound` when an UPDATE or DELETE touched no row.
        fn one_row(affected: usize) -> Result<(), RepositoryError> {
            if affected == 0 {
                Err(RepositoryError::NotFound)
            } else {
                Ok(())
            }
        }

        pub(crate) async fn insert(
            pool: &Pool,
            record: &IntegrationRecord,
        ) -> Result<(), RepositoryError> {
            let row = new_integration(record)?;
            let mut conn = checkout(pool).await?;
            diesel::insert_into(integrations::table)
                .values(&row)
                .execute(&mut *conn)
                .await
                .map_err(|e| match e {
                    DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                        RepositoryError::Conflict(format!("integration {} exists", record.id))
                    }
                    e => db_error(e),
                })?;
            Ok(())
        }

        pub(crate) async fn get(
            pool: &Pool,
            account: AccountId,
            id: IntegrationId,
        ) -> Result<IntegrationRecord, RepositoryError> {
            let mut conn = checkout(pool).await?;
            integrations::table
                .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                .filter(integrations::account_id.eq(id_to_db(account.as_uuid())))
                .select(IntegrationRow::as_select())
                .first(&mut *conn)
                .await
                .map_err(db_error)?
                .into_record()
        }

        pub(crate) async fn update(
            pool: &Pool,
            record: &IntegrationRecord,
        ) -> Result<(), RepositoryError> {
            let changes = integration_changes(record)?;
            let mut conn = checkout(pool).await?;
            let affected = diesel::update(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(record.id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(record.account_id.as_uuid()))),
            )
            .set(&changes)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            one_row(affected)
        }

        pub(crate) async fn delete(
            pool: &Pool,
            account: AccountId,
            id: IntegrationId,
        ) -> Result<(), RepositoryError> {
            let mut conn = checkout(pool).await?;
            let affected = diesel::delete(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(account.as_uuid()))),
            )
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            one_row(affected)
        }

        pub(crate) async fn list(
            pool: &Pool,
            account: AccountId,
            query: &ListQuery,
        ) -> Result<Page<IntegrationRecord>, RepositoryError> {
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
                let at = time_to_db(after.created_at);
                q = q.filter(
                    integrations::created_at.gt(at).or(integrations::created_at
                        .eq(at)
                        .and(integrations::id.gt(id_to_db(after.id.as_uuid())))),
                );
            }
            let mut conn = checkout(pool).await?;
            let rows: Vec<IntegrationRow> = q
                .order((integrations::created_at.asc(), integrations::id.asc()))
                // One more than asked: tells whether a next page exists.
                .limit(i64::from(limit) + 1)
                .select(IntegrationRow::as_select())
                .load(&mut *conn)
                .await
                .map_err(db_error)?;
            drop(conn);
            let more = rows.len() > limit as usize;
            let items = rows
                .into_iter()
                .take(limit as usize)
                .map(IntegrationRow::into_record)
                .collect::<Result<Vec<_>, _>>()?;
            let next = if more {
                items.last().map(IntegrationRecord::position)
            } else {
                None
            };
            Ok(Page { items, next })
        }

        pub(crate) async fn record_verification(
            pool: &Pool,
            account: AccountId,
            id: IntegrationId,
            verification: &Verification,
        ) -> Result<(), RepositoryError> {
            let changes = VerificationChanges::of(Some(verification));
            let mut conn = checkout(pool).await?;
            let affected = diesel::update(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(account.as_uuid()))),
            )
            .set(&changes)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            one_row(affected)
        }

        pub(crate) async fn ping(pool: &Pool) -> Result<(), RepositoryError> {
            let mut conn = checkout(pool).await?;
            diesel::sql_query("SELECT 1")
                .execute(&mut *conn)
                .await
                .map_err(RepositoryError::unavailable)?;
            Ok(())
        }

        /// Creates account `name` unless it exists; its id either way. Race-free: the
        /// insert does nothing on a name conflict and the select reads the winner.
        async fn ensure_account_on(
            conn: &mut Conn,
            name: &AccountName,
        ) -> Result<AccountId, DieselError> {
            diesel::insert_into(accounts::table)
                .values((
                    accounts::id.eq(id_to_db(AccountId::new().as_uuid())),
                    accounts::name.eq(name.as_str()),
                    accounts::created_at.eq(time_to_db(time::OffsetDateTime::now_utc())),
                ))
                .on_conflict(accounts::name)
                .do_nothing()
                .execute(&mut *conn)
                .await?;
            let id: DbId = accounts::table
                .filter(accounts::name.eq(name.as_str()))
                .select(accounts::id)
                .first(&mut *conn)
                .await?;
            id_from_db(id)
                .map(AccountId::from_uuid)
                .map_err(|e| DieselError::DeserializationError(Box::new(e)))
        }

        async fn add_api_key_on(
            conn: &mut Conn,
            account: AccountId,
            digest: &ApiKeyDigest,
        ) -> Result<(), DieselError> {
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::digest.eq(digest.as_bytes().as_slice()),
                    api_keys::account_id.eq(id_to_db(account.as_uuid())),
                    api_keys::created_at.eq(time_to_db(time::OffsetDateTime::now_utc())),
                ))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        pub(crate) async fn ensure_account(
            pool: &Pool,
            name: &AccountName,
        ) -> Result<AccountId, RepositoryError> {
            let mut conn = checkout(pool).await?;
            ensure_account_on(&mut conn, name).await.map_err(db_error)
        }

        pub(crate) async fn add_api_key(
            pool: &Pool,
            account: AccountId,
            digest: &ApiKeyDigest,
        ) -> Result<(), RepositoryError> {
            let mut conn = checkout(pool).await?;
            add_api_key_on(&mut conn, account, digest)
                .await
                .map_err(|e| match e {
                    DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                        RepositoryError::NotFound
                    }
                    DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                        RepositoryError::Conflict("this API key exists already".into())
                    }
                    e => db_error(e),
                })
        }

        pub(crate) async fn find_account_by_key(
            pool: &Pool,
            digest: &ApiKeyDigest,
        ) -> Result<Option<AccountId>, RepositoryError> {
            let mut conn = checkout(pool).await?;
            let id: Option<DbId> = api_keys::table
                .filter(api_keys::digest.eq(digest.as_bytes().as_slice()))
                .select(api_keys::account_id)
                .first(&mut *conn)
                .await
                .optional()
                .map_err(db_error)?;
            id.map(|id| id_from_db(id).map(AccountId::from_uuid))
                .transpose()
        }

        /// Remembers each fingerprint not stored yet (insert-if-absent, safe when replicas
        /// start together), then returns every stored one.
        pub(crate) async fn store_fingerprints(
            pool: &Pool,
            fingerprints: &[(u32, [u8; 32])],
        ) -> Result<BTreeMap<u32, Vec<u8>>, RepositoryError> {
            let mut conn = checkout(pool).await?;
            for (kek_id, fingerprint) in fingerprints {
                diesel::insert_into(vault_keys::table)
                    .values((
                        vault_keys::kek_id.eq(kek_to_db(*kek_id)),
                        vault_keys::fingerprint.eq(fingerprint.as_slice()),
                        vault_keys::created_at.eq(time_to_db(time::OffsetDateTime::now_utc())),
                    ))
                    .on_conflict(vault_keys::kek_id)
                    .do_nothing()
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?;
            }
            let rows: Vec<(i64, Vec<u8>)> = vault_keys::table
                .select((vault_keys::kek_id, vault_keys::fingerprint))
                .load(&mut *conn)
                .await
                .map_err(db_error)?;
            rows.into_iter()
                .map(|(id, fp)| Ok((kek_from_db(id)?, fp)))
                .collect()
        }

        /// How many integrations each key-encryption key seals.
        pub(crate) async fn integrations_per_kek(
            pool: &Pool,
        ) -> Result<BTreeMap<u32, u64>, RepositoryError> {
            let mut conn = checkout(pool).await?;
            let rows: Vec<(i64, i64)> = integrations::table
                .group_by(integrations::kek_id)
                .select((integrations::kek_id, diesel::dsl::count_star()))
                .load(&mut *conn)
                .await
                .map_err(db_error)?;
            rows.into_iter()
                .map(|(id, n)| {
                    let n = u64::try_from(n).map_err(RepositoryError::other)?;
                    Ok((kek_from_db(id)?, n))
                })
                .collect()
        }

        /// Up to `limit` integrations (of any account) sealed under `kek_id`, in id order
        /// after `after`: a batch of a rotation sweep.
        pub(crate) async fn sealed_with(
            pool: &Pool,
            kek_id: u32,
            after: Option<IntegrationId>,
            limit: u32,
        ) -> Result<Vec<IntegrationRecord>, RepositoryError> {
            let mut q = integrations::table
                .filter(integrations::kek_id.eq(kek_to_db(kek_id)))
                .into_boxed::<Db>();
            if let Some(after) = after {
                q = q.filter(integrations::id.gt(id_to_db(after.as_uuid())));
            }
            let mut conn = checkout(pool).await?;
            let rows: Vec<IntegrationRow> = q
                .order(integrations::id.asc())
                .limit(i64::from(limit))
                .select(IntegrationRow::as_select())
                .load(&mut *conn)
                .await
                .map_err(db_error)?;
            drop(conn);
            rows.into_iter().map(IntegrationRow::into_record).collect()
        }

        /// Replaces the sealed secrets of one integration only if they are still sealed under
        /// `expected_kek` (compare-and-set, so a concurrent update is never overwritten with
        /// stale data). `false` when the row is gone or changed meanwhile.
        pub(crate) async fn replace_sealed(
            pool: &Pool,
            account: AccountId,
            id: IntegrationId,
            expected: &SealedSecrets,
            sealed: &SealedSecrets,
        ) -> Result<bool, RepositoryError> {
            let mut conn = checkout(pool).await?;
            let affected = diesel::update(
                integrations::table
                    .filter(integrations::id.eq(id_to_db(id.as_uuid())))
                    .filter(integrations::account_id.eq(id_to_db(account.as_uuid())))
                    .filter(integrations::kek_id.eq(kek_to_db(expected.kek_id)))
                    .filter(integrations::sealed.eq(expected.blob.as_slice())),
            )
            .set((
                integrations::kek_id.eq(kek_to_db(sealed.kek_id)),
                integrations::sealed.eq(sealed.blob.as_slice()),
            ))
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            Ok(affected == 1)
        }
    };
}

pub(crate) use queries;
