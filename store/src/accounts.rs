//! Accounts: operators, customers (with plan limits) and domain administrators.

use crate::ids::AccountId;
use crate::kinds::Role;
use crate::schema::{accounts, relay_domains};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// One row of `accounts`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub parent_id: Option<AccountId>,
    pub max_domains: Option<i32>,
    pub may_create_domain_admins: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Insert form of [`Account`].
#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub parent_id: Option<AccountId>,
    pub max_domains: Option<i32>,
    pub may_create_domain_admins: Option<bool>,
}

/// Update form of [`Account`]; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct AccountChanges {
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<Role>,
    pub max_domains: Option<Option<i32>>,
    pub may_create_domain_admins: Option<Option<bool>>,
    pub parent_id: Option<Option<AccountId>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Which accounts a caller may see.
#[derive(Debug, Clone, Copy)]
pub enum AccountVisibility {
    /// Operators see everyone.
    All,
    /// Customers see themselves and the domain administrators they created.
    SelfAndChildren(AccountId),
    /// Domain administrators see only themselves.
    SelfOnly(AccountId),
}

/// Filters of the account listing.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    pub email: Option<String>,
    pub role: Option<Role>,
}

pub fn insert(conn: &mut PgConnection, new: &NewAccount<'_>) -> QueryResult<Account> {
    diesel::insert_into(accounts::table)
        .values(new)
        .returning(Account::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: AccountId) -> QueryResult<Account> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
}

/// Looks an account up by e-mail; callers pass the address lower-cased.
pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::email.eq(email))
        .select(Account::as_select())
        .first(conn)
        .optional()
}

/// Locks the account row until the transaction ends, serialising plan-limit checks.
pub fn lock(conn: &mut PgConnection, id: AccountId) -> QueryResult<Account> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .for_update()
        .first(conn)
}

/// Keyset page of visible accounts with `id > after`, ordered by id.
pub fn list(
    conn: &mut PgConnection,
    visibility: AccountVisibility,
    filter: &AccountFilter,
    after: Option<AccountId>,
    limit: i64,
) -> QueryResult<Vec<Account>> {
    let mut query = accounts::table
        .select(Account::as_select())
        .order(accounts::id.asc())
        .limit(limit)
        .into_boxed();
    query = match visibility {
        AccountVisibility::All => query,
        AccountVisibility::SelfAndChildren(me) => {
            query.filter(accounts::id.eq(me).or(accounts::parent_id.eq(me)))
        }
        AccountVisibility::SelfOnly(me) => query.filter(accounts::id.eq(me)),
    };
    if let Some(after) = after {
        query = query.filter(accounts::id.gt(after));
    }
    if let Some(email) = &filter.email {
        query = query.filter(accounts::email.eq(email));
    }
    if let Some(role) = filter.role {
        query = query.filter(accounts::role.eq(role));
    }
    query.load(conn)
}

pub fn update(
    conn: &mut PgConnection,
    id: AccountId,
    changes: &AccountChanges,
) -> QueryResult<Account> {
    diesel::update(accounts::table.find(id))
        .set(changes)
        .returning(Account::as_returning())
        .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, id: AccountId) -> QueryResult<usize> {
    diesel::delete(accounts::table.find(id)).execute(conn)
}

pub fn admin_exists(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        accounts::table.filter(accounts::role.eq(Role::Admin)),
    ))
    .get_result(conn)
}

/// Number of admin accounts; bounded by the small number of operators.
pub fn count_admins(conn: &mut PgConnection) -> QueryResult<i64> {
    accounts::table
        .filter(accounts::role.eq(Role::Admin))
        .count()
        .get_result(conn)
}

/// Number of relay domains an account owns (an index-only count on `owner_id`).
pub fn count_owned_domains(conn: &mut PgConnection, id: AccountId) -> QueryResult<i64> {
    relay_domains::table
        .filter(relay_domains::owner_id.eq(id))
        .count()
        .get_result(conn)
}
