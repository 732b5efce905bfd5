//! Rotating refresh tokens grouped in families (one family per login).

use crate::ids::AccountId;
use crate::schema::refresh_tokens;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// One row of `refresh_tokens`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg))]
pub struct RefreshToken {
    pub id: i64,
    pub account_id: AccountId,
    pub family_id: Uuid,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub fn insert(
    conn: &mut PgConnection,
    account: AccountId,
    family: Uuid,
    hash: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::account_id.eq(account),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

pub fn find_by_hash(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()
}

/// Marks a token spent if nobody spent it first; false means it was already used, which is
/// how a replayed (stolen) token is detected even under concurrent refreshes.
pub fn spend(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

/// Revokes every token of a family (logout, or reuse of a spent token).
pub fn revoke_family(
    conn: &mut PgConnection,
    family: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every refresh token of an account (after a password change, so stolen sessions end).
pub fn revoke_account(
    conn: &mut PgConnection,
    account: AccountId,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::account_id.eq(account))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}
