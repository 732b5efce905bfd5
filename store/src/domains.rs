//! Relay domains and their domain administrators.

use crate::ids::{AccountId, DomainId};
use crate::kinds::{DnsStatus, DomainType, RecipientPolicy, Service, TlsPolicy, VerifyFallback};
use crate::schema::{accounts, domain_admins, relay_domains};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// One row of `relay_domains`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = relay_domains, check_for_backend(diesel::pg::Pg))]
pub struct RelayDomain {
    pub id: DomainId,
    pub name: String,
    pub domain_type: DomainType,
    pub owner_id: AccountId,
    pub target_host: String,
    pub target_port: i32,
    pub service: Service,
    pub enabled: bool,
    pub tls_policy: TlsPolicy,
    pub max_message_size: i64,
    pub queue_lifetime_seconds: i32,
    pub recipient_policy: RecipientPolicy,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accept_only_when_primary_down: bool,
    pub verify_valid_ttl_seconds: i32,
    pub verify_invalid_ttl_seconds: i32,
    pub verify_fallback: VerifyFallback,
    pub dns_status: Option<DnsStatus>,
    pub dns_checked_at: Option<DateTime<Utc>>,
    pub dns_check: Option<serde_json::Value>,
}

/// Insert form of [`RelayDomain`].
#[derive(Debug, Insertable)]
#[diesel(table_name = relay_domains)]
pub struct NewDomain {
    pub name: String,
    pub domain_type: DomainType,
    pub owner_id: AccountId,
    pub target_host: String,
    pub target_port: i32,
    pub service: Service,
    pub enabled: bool,
    pub tls_policy: TlsPolicy,
    pub max_message_size: i64,
    pub queue_lifetime_seconds: i32,
    pub recipient_policy: RecipientPolicy,
    pub accept_only_when_primary_down: bool,
    pub verify_valid_ttl_seconds: i32,
    pub verify_invalid_ttl_seconds: i32,
    pub verify_fallback: VerifyFallback,
}

/// Update form of [`RelayDomain`]; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = relay_domains)]
pub struct DomainChanges {
    pub name: Option<String>,
    pub owner_id: Option<AccountId>,
    pub target_host: Option<String>,
    pub target_port: Option<i32>,
    pub enabled: Option<bool>,
    pub tls_policy: Option<TlsPolicy>,
    pub max_message_size: Option<i64>,
    pub queue_lifetime_seconds: Option<i32>,
    pub recipient_policy: Option<RecipientPolicy>,
    pub accept_only_when_primary_down: Option<bool>,
    pub verify_valid_ttl_seconds: Option<i32>,
    pub verify_invalid_ttl_seconds: Option<i32>,
    pub verify_fallback: Option<VerifyFallback>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Which domains a caller may see. Every domain query goes through this, so "who may read
/// domain X" is decided here and nowhere else.
#[derive(Debug, Clone)]
pub struct DomainVisibility {
    pub reach: DomainReach,
    /// An API key restricted to these domains narrows the reach further.
    pub only: Option<Vec<DomainId>>,
}

/// The role-based part of [`DomainVisibility`].
#[derive(Debug, Clone, Copy)]
pub enum DomainReach {
    All,
    OwnedBy(AccountId),
    AdministeredBy(AccountId),
}

/// Filters of the domain listing.
#[derive(Debug, Default, Clone)]
pub struct DomainFilter {
    pub name: Option<String>,
    pub owner_id: Option<AccountId>,
    pub enabled: Option<bool>,
    /// Overall status of the latest DNS check.
    pub dns_status: Option<DnsStatus>,
}

type BoxedDomains<'a> = relay_domains::BoxedQuery<'a, diesel::pg::Pg>;

fn visible(visibility: &DomainVisibility) -> BoxedDomains<'_> {
    let mut query = relay_domains::table.into_boxed();
    query = match visibility.reach {
        DomainReach::All => query,
        DomainReach::OwnedBy(owner) => query.filter(relay_domains::owner_id.eq(owner)),
        DomainReach::AdministeredBy(account) => query.filter(
            relay_domains::id.eq_any(
                domain_admins::table
                    .filter(domain_admins::account_id.eq(account))
                    .select(domain_admins::domain_id),
            ),
        ),
    };
    if let Some(only) = &visibility.only {
        query = query.filter(relay_domains::id.eq_any(only.clone()));
    }
    query
}

pub fn insert(conn: &mut PgConnection, new: &NewDomain) -> QueryResult<RelayDomain> {
    diesel::insert_into(relay_domains::table)
        .values(new)
        .returning(RelayDomain::as_returning())
        .get_result(conn)
}

/// The domain with this id if the caller may see it, `NotFound` otherwise (so another
/// tenant's domain is indistinguishable from a missing one).
pub fn find_visible(
    conn: &mut PgConnection,
    visibility: &DomainVisibility,
    id: DomainId,
) -> QueryResult<RelayDomain> {
    visible(visibility)
        .filter(relay_domains::id.eq(id))
        .select(RelayDomain::as_select())
        .first(conn)
}

pub fn find(conn: &mut PgConnection, id: DomainId) -> QueryResult<RelayDomain> {
    relay_domains::table
        .find(id)
        .select(RelayDomain::as_select())
        .first(conn)
}

/// Keyset page of visible domains with `id > after`, ordered by id.
pub fn list(
    conn: &mut PgConnection,
    visibility: &DomainVisibility,
    filter: &DomainFilter,
    after: Option<DomainId>,
    limit: i64,
) -> QueryResult<Vec<RelayDomain>> {
    let mut query = visible(visibility)
        .select(RelayDomain::as_select())
        .order(relay_domains::id.asc())
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(relay_domains::id.gt(after));
    }
    if let Some(name) = &filter.name {
        query = query.filter(relay_domains::name.eq(name.clone()));
    }
    if let Some(owner) = filter.owner_id {
        query = query.filter(relay_domains::owner_id.eq(owner));
    }
    if let Some(enabled) = filter.enabled {
        query = query.filter(relay_domains::enabled.eq(enabled));
    }
    if let Some(status) = filter.dns_status {
        query = query.filter(relay_domains::dns_status.eq(status));
    }
    query.load(conn)
}

pub fn update(
    conn: &mut PgConnection,
    id: DomainId,
    changes: &DomainChanges,
) -> QueryResult<RelayDomain> {
    diesel::update(relay_domains::table.find(id))
        .set(changes)
        .returning(RelayDomain::as_returning())
        .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, id: DomainId) -> QueryResult<usize> {
    diesel::delete(relay_domains::table.find(id)).execute(conn)
}

/// Gives `account` administration of `domain`; idempotent.
pub fn add_admin(conn: &mut PgConnection, domain: DomainId, account: AccountId) -> QueryResult<()> {
    diesel::insert_into(domain_admins::table)
        .values((
            domain_admins::domain_id.eq(domain),
            domain_admins::account_id.eq(account),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(drop)
}

/// Takes administration of `domain` away from `account`; returns whether it had it.
pub fn remove_admin(
    conn: &mut PgConnection,
    domain: DomainId,
    account: AccountId,
) -> QueryResult<bool> {
    diesel::delete(domain_admins::table.find((domain, account)))
        .execute(conn)
        .map(|n| n > 0)
}

/// Takes `domain` away from the domain administrators that another customer than `owner`
/// created, for when the domain changes hands: a customer's delegates must not keep managing
/// a domain it no longer owns (nor could the new owner see or remove them). Administrators an
/// operator created (no parent) stay. Returns how many assignments were dropped.
pub fn drop_foreign_admins(
    conn: &mut PgConnection,
    domain: DomainId,
    owner: AccountId,
) -> QueryResult<usize> {
    let foreign = accounts::table
        .filter(accounts::parent_id.is_not_null())
        .filter(accounts::parent_id.ne(owner))
        .select(accounts::id);
    diesel::delete(
        domain_admins::table
            .filter(domain_admins::domain_id.eq(domain))
            .filter(domain_admins::account_id.eq_any(foreign)),
    )
    .execute(conn)
}

/// Ids of the domain administrators of each given domain, for the API's `admin_ids` field.
pub fn admins_of(
    conn: &mut PgConnection,
    domains: &[DomainId],
) -> QueryResult<Vec<(DomainId, AccountId)>> {
    domain_admins::table
        .filter(domain_admins::domain_id.eq_any(domains))
        .select((domain_admins::domain_id, domain_admins::account_id))
        .order((domain_admins::domain_id, domain_admins::account_id))
        .load(conn)
}

/// Stores the result of a live DNS check on the domain (without touching `updated_at`, which
/// tracks changes made by people).
pub fn record_dns_check(
    conn: &mut PgConnection,
    id: DomainId,
    status: DnsStatus,
    checked_at: DateTime<Utc>,
    result: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::update(relay_domains::table.find(id))
        .set((
            relay_domains::dns_status.eq(Some(status)),
            relay_domains::dns_checked_at.eq(Some(checked_at)),
            relay_domains::dns_check.eq(Some(result)),
        ))
        .execute(conn)
}
