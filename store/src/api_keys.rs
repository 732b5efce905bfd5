//! API keys for automation: stored as a SHA-256 hash of a high-entropy secret.

use crate::ids::{AccountId, ApiKeyId, DomainId};
use crate::schema::{api_key_domains, api_keys};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// One row of `api_keys`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    pub prefix: String,
    pub secret_hash: Vec<u8>,
    pub can_write: bool,
    pub domain_restricted: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Insert form of [`ApiKey`].
#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub account_id: AccountId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a [u8],
    pub can_write: bool,
    pub domain_restricted: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Inserts a key and, when it is restricted, its domain list, in one transaction.
pub fn insert(
    conn: &mut PgConnection,
    new: &NewApiKey<'_>,
    domains: &[DomainId],
) -> QueryResult<ApiKey> {
    conn.transaction(|conn| {
        let key: ApiKey = diesel::insert_into(api_keys::table)
            .values(new)
            .returning(ApiKey::as_returning())
            .get_result(conn)?;
        let rows: Vec<_> = domains
            .iter()
            .map(|d| {
                (
                    api_key_domains::api_key_id.eq(key.id),
                    api_key_domains::domain_id.eq(*d),
                )
            })
            .collect();
        diesel::insert_into(api_key_domains::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(conn)?;
        Ok(key)
    })
}

pub fn find_by_hash(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::secret_hash.eq(hash))
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
}

/// The domains a restricted key may reach.
pub fn domains_of(conn: &mut PgConnection, key: ApiKeyId) -> QueryResult<Vec<DomainId>> {
    api_key_domains::table
        .filter(api_key_domains::api_key_id.eq(key))
        .select(api_key_domains::domain_id)
        .order(api_key_domains::domain_id)
        .load(conn)
}

/// Domain lists of several keys at once, for listings.
pub fn domains_of_many(
    conn: &mut PgConnection,
    keys: &[ApiKeyId],
) -> QueryResult<Vec<(ApiKeyId, DomainId)>> {
    api_key_domains::table
        .filter(api_key_domains::api_key_id.eq_any(keys))
        .select((api_key_domains::api_key_id, api_key_domains::domain_id))
        .order((api_key_domains::api_key_id, api_key_domains::domain_id))
        .load(conn)
}

/// Keyset page of an account's keys (all accounts' keys when `account` is `None`).
pub fn list(
    conn: &mut PgConnection,
    account: Option<AccountId>,
    after: Option<ApiKeyId>,
    limit: i64,
) -> QueryResult<Vec<ApiKey>> {
    let mut query = api_keys::table
        .select(ApiKey::as_select())
        .order(api_keys::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(api_keys::account_id.eq(account));
    }
    if let Some(after) = after {
        query = query.filter(api_keys::id.gt(after));
    }
    query.load(conn)
}

/// Deletes the key if it belongs to `account` (any account when `None`); returns whether it did.
pub fn delete(
    conn: &mut PgConnection,
    id: ApiKeyId,
    account: Option<AccountId>,
) -> QueryResult<bool> {
    let mut query = diesel::delete(api_keys::table).into_boxed();
    query = query.filter(api_keys::id.eq(id));
    if let Some(account) = account {
        query = query.filter(api_keys::account_id.eq(account));
    }
    query.execute(conn).map(|n| n > 0)
}

/// Records use, at most once a minute per key so busy scripts do not write on every request.
pub fn touch(conn: &mut PgConnection, id: ApiKeyId, now: DateTime<Utc>) -> QueryResult<()> {
    let stale = now - chrono::Duration::seconds(60);
    diesel::update(
        api_keys::table.find(id).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(stale)),
        ),
    )
    .set(api_keys::last_used_at.eq(now))
    .execute(conn)
    .map(drop)
}
