//! `/domains`: relay domains and their administrators (their DNS: [`super::dns`]).
//!
//! Who may do what: operators everything; a customer creates domains for itself within
//! `max_domains` and manages what it owns; a domain administrator reads and changes the
//! delivery settings of the domains it was given, but not their name or owner. Every lookup
//! goes through [`DomainVisibility`], so another tenant's domain answers 404.

use crate::auth::Caller;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{path_id, ValidJson, ValidQuery};
use crate::pagination::PageRequest;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::Connection;
use mxspool_store::domains::{
    self, DomainChanges, DomainFilter, DomainVisibility, NewDomain, RelayDomain,
};
use mxspool_store::kinds::{
    DnsStatus, DomainType, RecipientPolicy, Role, Service, TlsPolicy, VerifyFallback,
};
use mxspool_store::{accounts, names, AccountId, DomainId, PgConnection};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// Default message size limit: 50 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: i64 = 50 * 1024 * 1024;
/// Largest per-domain message size limit (a PostgreSQL `bytea` holds at most 1 GB).
pub const MAX_MESSAGE_SIZE: i64 = 512 * 1024 * 1024;
/// Default queue lifetime: 5 days.
pub const DEFAULT_QUEUE_LIFETIME: i32 = 5 * 24 * 3600;
/// Longest queue lifetime: 30 days.
pub const MAX_QUEUE_LIFETIME: i32 = 30 * 24 * 3600;
/// Default time a positive callout answer is trusted: 7 days.
pub const DEFAULT_VERIFY_VALID_TTL: i32 = 7 * 24 * 3600;
/// Default time a negative callout answer is trusted: 1 day.
pub const DEFAULT_VERIFY_INVALID_TTL: i32 = 24 * 3600;
/// MX preference the backup should publish: higher than any primary's.
pub const MX_PRIORITY: u16 = 90;
/// TTL suggested for the MX record.
pub const MX_TTL: u32 = 1800;

/// A relay domain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "name": "customer.example", "type": "relay", "target_host": "mail.customer.example",
    "target_port": 25, "service": "smtp", "enabled": true, "tls_policy": "opportunistic",
    "max_message_size": 52428800, "queue_lifetime_seconds": 432000, "recipient_policy": "any",
    "accept_only_when_primary_down": false, "verify_valid_ttl_seconds": 604800,
    "verify_invalid_ttl_seconds": 86400, "verify_fallback": "tempfail",
    "last_dns_check": {"status": "ok", "checked_at": "2026-11-28T10:05:00Z"},
    "owner_id": 7, "admin_ids": [], "created_at": "2026-11-28T10:00:00Z",
    "updated_at": "2026-11-28T10:00:00Z"
}))]
pub struct DomainView {
    pub id: DomainId,
    /// Normalised: lower case, A-labels, no trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub domain_type: DomainType,
    /// The primary mail server that relayed mail is delivered to.
    pub target_host: String,
    pub target_port: u16,
    pub service: Service,
    /// A disabled domain's mail is refused at RCPT time.
    pub enabled: bool,
    pub tls_policy: TlsPolicy,
    /// Largest message accepted for this domain, in bytes.
    pub max_message_size: i64,
    /// How long undeliverable mail is kept before it bounces, in seconds.
    pub queue_lifetime_seconds: i32,
    pub recipient_policy: RecipientPolicy,
    /// Backup-only mode: while the target host is up, the relay answers RCPT for this domain
    /// with `451 4.7.1` (use the primary); mail is accepted only while the target is down.
    pub accept_only_when_primary_down: bool,
    /// `verify` policy: seconds a callout's "recipient exists" answer is cached.
    pub verify_valid_ttl_seconds: i32,
    /// `verify` policy: seconds a callout's "no such recipient" answer is cached.
    pub verify_invalid_ttl_seconds: i32,
    /// `verify` policy: the answer while the target cannot be asked and nothing is cached:
    /// `accept`, or `tempfail` (`450 4.4.3`, the sender retries).
    pub verify_fallback: VerifyFallback,
    /// Summary of the latest live DNS check (`GET /domains/{id}/dns` for the details); null
    /// until the first check.
    pub last_dns_check: Option<DnsCheckSummary>,
    pub owner_id: AccountId,
    /// Accounts with the `domain_admin` role that manage this domain.
    pub admin_ids: Vec<AccountId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// When the domain's DNS was last checked, and the overall result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DnsCheckSummary {
    /// The worst result of the named checks.
    pub status: DnsStatus,
    pub checked_at: DateTime<Utc>,
}

impl DomainView {
    fn new(d: RelayDomain, admin_ids: Vec<AccountId>) -> Self {
        let last_dns_check = match (d.dns_status, d.dns_checked_at) {
            (Some(status), Some(checked_at)) => Some(DnsCheckSummary { status, checked_at }),
            _ => None,
        };
        DomainView {
            id: d.id,
            name: d.name,
            domain_type: d.domain_type,
            target_host: d.target_host,
            target_port: u16::try_from(d.target_port).unwrap_or(25),
            service: d.service,
            enabled: d.enabled,
            tls_policy: d.tls_policy,
            max_message_size: d.max_message_size,
            queue_lifetime_seconds: d.queue_lifetime_seconds,
            recipient_policy: d.recipient_policy,
            accept_only_when_primary_down: d.accept_only_when_primary_down,
            verify_valid_ttl_seconds: d.verify_valid_ttl_seconds,
            verify_invalid_ttl_seconds: d.verify_invalid_ttl_seconds,
            verify_fallback: d.verify_fallback,
            last_dns_check,
            owner_id: d.owner_id,
            admin_ids,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

crate::page_type!(
    /// One page of relay domains.
    DomainPage,
    DomainView
);

/// A new relay domain. Only `name` and `target_host` are required.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "customer.example", "target_host": "mail.customer.example", "target_port": 25,
    "tls_policy": "opportunistic", "recipient_policy": "any"
}))]
pub struct CreateDomain {
    /// The mail domain to relay for: dot-separated labels of letters, digits and hyphens (at
    /// most 63 characters each, none starting or ending with a hyphen), at least two, the last
    /// starting with a letter, one trailing dot allowed. IDNs are accepted too (as U-labels or
    /// A-labels; the pattern does not cover them) and stored as A-labels.
    #[schema(
        min_length = 1,
        max_length = 253,
        pattern = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$"
    )]
    #[validate(length(min = 1, max = 300, message = "must be 1 to 253 characters"))]
    pub name: String,
    /// Only `relay` (the default).
    #[serde(rename = "type")]
    pub domain_type: Option<DomainType>,
    /// Host name (as `name`) or IP address of the primary mail server. The pattern covers host
    /// names and dotted-quad IPv4 addresses outside 0/8, multicast and 240/4; IPv6 addresses and
    /// IDNs are accepted too. Loopback, private, link-local and other non-public addresses (and
    /// `localhost`) are refused unless the operator allows private targets.
    #[schema(
        min_length = 1,
        max_length = 253,
        pattern = r"^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?|(?:22[0-3]|2[01][0-9]|1[0-9]{2}|[1-9][0-9]?)(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})$"
    )]
    #[validate(length(min = 1, max = 300, message = "must be 1 to 253 characters"))]
    pub target_host: String,
    /// Default 25.
    #[schema(minimum = 1, maximum = 65535)]
    #[validate(range(min = 1, max = 65535, message = "must be a port number, 1 to 65535"))]
    pub target_port: Option<i32>,
    /// Only `smtp` (the default).
    pub service: Option<Service>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Default `opportunistic`.
    pub tls_policy: Option<TlsPolicy>,
    /// Bytes, 1024 to 536870912 (default 52428800, 50 MiB).
    #[schema(minimum = 1024, maximum = 536870912)]
    #[validate(range(
        min = 1024,
        max = 536870912,
        message = "must be between 1024 and 536870912 bytes"
    ))]
    pub max_message_size: Option<i64>,
    /// Seconds, 60 to 2592000 (30 days; default 432000, 5 days).
    #[schema(minimum = 60, maximum = 2592000)]
    #[validate(range(
        min = 60,
        max = 2592000,
        message = "must be between 60 and 2592000 seconds (30 days)"
    ))]
    pub queue_lifetime_seconds: Option<i32>,
    /// Default `any`.
    pub recipient_policy: Option<RecipientPolicy>,
    /// Default false: accept mail whether or not the primary is up.
    pub accept_only_when_primary_down: Option<bool>,
    /// Seconds, 60 to 2592000 (default 604800, 7 days).
    #[schema(minimum = 60, maximum = 2592000)]
    #[validate(range(
        min = 60,
        max = 2592000,
        message = "must be between 60 and 2592000 seconds (30 days)"
    ))]
    pub verify_valid_ttl_seconds: Option<i32>,
    /// Seconds, 60 to 2592000 (default 86400, 1 day).
    #[schema(minimum = 60, maximum = 2592000)]
    #[validate(range(
        min = 60,
        max = 2592000,
        message = "must be between 60 and 2592000 seconds (30 days)"
    ))]
    pub verify_invalid_ttl_seconds: Option<i32>,
    /// Default `tempfail`.
    pub verify_fallback: Option<VerifyFallback>,
    /// Operators may create a domain for a customer; customers own what they create.
    pub owner_id: Option<AccountId>,
}

/// Changes to a relay domain; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target_host": "mx2.customer.example", "enabled": false}))]
pub struct UpdateDomain {
    /// Operators and the owner only. The same rules as a new domain's `name`.
    #[schema(
        min_length = 1,
        max_length = 253,
        pattern = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$"
    )]
    #[validate(length(min = 1, max = 300, message = "must be 1 to 253 characters"))]
    pub name: Option<String>,
    /// The same rules as a new domain's `target_host`.
    #[schema(
        min_length = 1,
        max_length = 253,
        pattern = r"^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?|(?:22[0-3]|2[01][0-9]|1[0-9]{2}|[1-9][0-9]?)(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})$"
    )]
    #[validate(length(min = 1, max = 300, message = "must be 1 to 253 characters"))]
    pub target_host: Option<String>,
    #[schema(minimum = 1, maximum = 65535)]
    #[validate(range(min = 1, max = 65535, message = "must be a port number, 1 to 65535"))]
    pub target_port: Option<i32>,
    pub enabled: Option<bool>,
    pub tls_policy: Option<TlsPolicy>,
    #[schema(minimum = 1024, maximum = 536870912)]
    #[validate(range(
        min = 1024,
        max = 536870912,
        message = "must be between 1024 and 536870912 bytes"
    ))]
    pub max_message_size: Option<i64>,
    #[schema(minimum = 60, maximum = 2592000)]
    #[validate(range(
        min = 60,
        max = 2592000,
        message = "must be between 60 and 2592000 seconds (30 days)"
    ))]
    pub queue_lifetime_seconds: Option<i32>,
    pub recipient_policy: Option<RecipientPolicy>,
    pub accept_only_when_primary_down: Option<bool>,
    /// Seconds, 60 to 2592000.
    #[schema(minimum = 60, maximum = 2592000)]
    #[validate(range(
        min = 60,
        max = 2592000,
        message = "must be between 60 and 2592000 seconds (30 days)"
    ))]
    pub verify_valid_ttl_seconds: Option<i32>,
    /// Seconds, 60 to 2592000.
    #[schema(minimum = 60, maximum = 2592000)]
    #[validate(range(
        min = 60,
        max = 2592000,
        message = "must be between 60 and 2592000 seconds (30 days)"
    ))]
    pub verify_invalid_ttl_seconds: Option<i32>,
    pub verify_fallback: Option<VerifyFallback>,
    /// Operators only: give the domain to another customer.
    pub owner_id: Option<AccountId>,
}

/// Filters and paging of `GET /domains`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DomainQuery {
    /// Exact domain name (normalised before matching, so `Example.COM.` finds `example.com`).
    /// A value that cannot be a domain name (empty, an IP address) matches nothing.
    pub name: Option<String>,
    /// Domains of this owner.
    pub owner_id: Option<i64>,
    pub enabled: Option<bool>,
    /// Domains whose latest DNS check had this overall status.
    pub dns_status: Option<DnsStatus>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn not_found(id: DomainId) -> ApiError {
    ApiError::NotFound(format!("domain {id} not found"))
}

/// The domain if the caller may see it; 404 otherwise.
pub(crate) fn find_visible(
    conn: &mut PgConnection,
    visibility: &DomainVisibility,
    id: DomainId,
) -> Result<RelayDomain, ApiError> {
    domains::find_visible(conn, visibility, id).map_err(|e| match e {
        diesel::result::Error::NotFound => not_found(id),
        other => other.into(),
    })
}

/// Whether the caller may rename, re-own or delete the domain (not only configure it).
fn is_owner_or_admin(caller: &Caller, domain: &RelayDomain) -> bool {
    caller.is_admin() || (caller.role() == Role::Customer && domain.owner_id == caller.id())
}

fn with_admins(
    conn: &mut PgConnection,
    rows: Vec<RelayDomain>,
) -> Result<Vec<DomainView>, ApiError> {
    let ids: Vec<DomainId> = rows.iter().map(|d| d.id).collect();
    let mut admins: BTreeMap<DomainId, Vec<AccountId>> = BTreeMap::new();
    for (domain, account) in domains::admins_of(conn, &ids)? {
        admins.entry(domain).or_default().push(account);
    }
    Ok(rows
        .into_iter()
        .map(|d| {
            let a = admins.remove(&d.id).unwrap_or_default();
            DomainView::new(d, a)
        })
        .collect())
}

/// Checks a would-be owner: it must exist and be a customer or operator, and a customer must
/// have room in its plan. Locks the owner row so concurrent creations cannot overshoot.
fn check_owner(conn: &mut PgConnection, owner: AccountId) -> Result<(), ApiError> {
    // Both refusals depend on the accounts that exist now, not on the request's form: 404 for
    // an owner that does not exist, 409 for one whose role cannot own domains.
    let account = accounts::lock(conn, owner).map_err(|e| match e {
        diesel::result::Error::NotFound => {
            ApiError::NotFound(format!("owner_id: account {owner} does not exist"))
        }
        other => other.into(),
    })?;
    match account.role {
        Role::Admin => Ok(()),
        Role::DomainAdmin => Err(ApiError::Conflict(format!(
            "owner_id: account {owner} is a domain_admin, which cannot own domains; give it \
             administration instead"
        ))),
        Role::Customer => {
            let max = i64::from(account.max_domains.unwrap_or(0));
            let owned = accounts::count_owned_domains(conn, owner)?;
            if owned >= max {
                Err(ApiError::Forbidden(format!(
                    "the plan allows {max} domain(s) and {owned} exist; ask the operator for a larger plan"
                )))
            } else {
                Ok(())
            }
        }
    }
}

fn name_conflict(e: diesel::result::Error, name: &str) -> ApiError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => ApiError::Conflict(format!("the domain {name} is already registered")),
        other => other.into(),
    }
}

/// List the relay domains the caller may see.
#[utoipa::path(
    tag = "domains",
    params(DomainQuery),
    responses((status = 200, description = "One page of domains", body = DomainPage)),
    security(("bearer" = []))
)]
#[get("/domains")]
pub async fn list_domains(
    state: web::Data<AppState>,
    caller: Caller,
    query: ValidQuery<DomainQuery>,
) -> Result<web::Json<DomainPage>, ApiError> {
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let name = match q.name {
        // A value that cannot be a relay domain's name (empty, an IP literal, ...) matches no
        // domain: the page is empty, as for any other name nobody registered.
        Some(n) => match names::normalize_domain(&n) {
            Ok(name) => Some(name),
            Err(_) => {
                return Ok(web::Json(DomainPage {
                    items: Vec::new(),
                    next_cursor: None,
                }))
            }
        },
        None => None,
    };
    let filter = DomainFilter {
        name,
        owner_id: q.owner_id.map(AccountId),
        enabled: q.enabled,
        dns_status: q.dns_status,
    };
    let visibility = caller.domain_visibility();
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = domains::list(
                conn,
                &visibility,
                &filter,
                page.after.map(DomainId),
                page.fetch(),
            )?;
            let (rows, next) = page.finish(rows, |d| d.id.0);
            Ok((with_admins(conn, rows)?, next))
        })
        .await?;
    Ok(web::Json(DomainPage { items, next_cursor }))
}

/// Add a relay domain.
///
/// A customer's domain counts against its plan's `max_domains`.
#[utoipa::path(
    tag = "domains",
    request_body = CreateDomain,
    responses(
        (status = 201, description = "Created", body = DomainView),
        (status = 404, description = "`owner_id` names no account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The domain is already registered, or `owner_id` names a domain_admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/domains")]
pub async fn create_domain(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidJson<CreateDomain>,
) -> Result<HttpResponse, ApiError> {
    caller.require_unrestricted()?;
    let input = body.0;
    let owner = match (caller.role(), input.owner_id) {
        (Role::Admin, owner) => owner.unwrap_or(caller.id()),
        (Role::Customer, None) => caller.id(),
        (Role::Customer, Some(owner)) if owner == caller.id() => owner,
        (Role::Customer, Some(_)) => {
            return Err(ApiError::Forbidden(
                "customers can only create domains they own themselves".to_owned(),
            ))
        }
        (Role::DomainAdmin, _) => {
            return Err(ApiError::Forbidden(
                "domain administrators cannot create domains".to_owned(),
            ))
        }
    };
    let allow_private = state.config.allow_private_targets;
    let mut errors = Vec::new();
    let name = names::normalize_domain(&input.name)
        .map_err(|e| errors.push(FieldError::new("name", e.to_string())))
        .ok();
    let target_host = names::normalize_target_host(&input.target_host, allow_private)
        .map_err(|e| errors.push(FieldError::new("target_host", e.to_string())))
        .ok();
    let (Some(name), Some(target_host)) = (name, target_host) else {
        return Err(ApiError::Validation(errors));
    };
    let new = NewDomain {
        name,
        domain_type: input.domain_type.unwrap_or(DomainType::Relay),
        owner_id: owner,
        target_host,
        target_port: input.target_port.unwrap_or(25),
        service: input.service.unwrap_or(Service::Smtp),
        enabled: input.enabled.unwrap_or(true),
        tls_policy: input.tls_policy.unwrap_or(TlsPolicy::Opportunistic),
        max_message_size: input.max_message_size.unwrap_or(DEFAULT_MAX_MESSAGE_SIZE),
        queue_lifetime_seconds: input
            .queue_lifetime_seconds
            .unwrap_or(DEFAULT_QUEUE_LIFETIME),
        recipient_policy: input.recipient_policy.unwrap_or(RecipientPolicy::Any),
        accept_only_when_primary_down: input.accept_only_when_primary_down.unwrap_or(false),
        verify_valid_ttl_seconds: input
            .verify_valid_ttl_seconds
            .unwrap_or(DEFAULT_VERIFY_VALID_TTL),
        verify_invalid_ttl_seconds: input
            .verify_invalid_ttl_seconds
            .unwrap_or(DEFAULT_VERIFY_INVALID_TTL),
        verify_fallback: input.verify_fallback.unwrap_or(VerifyFallback::Tempfail),
    };
    let domain = state
        .db(move |conn| {
            conn.transaction::<_, ApiError, _>(|conn| {
                check_owner(conn, new.owner_id)?;
                domains::insert(conn, &new).map_err(|e| name_conflict(e, &new.name))
            })
        })
        .await?;
    tracing::info!(domain = %domain.name, id = %domain.id, "relay domain created");
    Ok(HttpResponse::Created().json(DomainView::new(domain, Vec::new())))
}

/// Show a relay domain.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "Domain id")),
    responses(
        (status = 200, description = "The domain", body = DomainView),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/domains/{id}")]
pub async fn get_domain(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<DomainView>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let visibility = caller.domain_visibility();
    let view = state
        .db(move |conn| {
            let d = find_visible(conn, &visibility, id)?;
            Ok(with_admins(conn, vec![d])?.pop())
        })
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(web::Json(view))
}

/// Change a relay domain.
///
/// Domain administrators may change the delivery settings; renaming needs the owner or an
/// operator, and changing the owner an operator. A domain given to another owner loses the
/// domain administrators that belong to the previous owner.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "Domain id")),
    request_body = UpdateDomain,
    responses(
        (status = 200, description = "The changed domain", body = DomainView),
        (status = 404, description = "No such domain, or not visible to the caller, or `owner_id` names no account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new name is already registered, or `owner_id` names a domain_admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/domains/{id}")]
pub async fn update_domain(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ValidJson<UpdateDomain>,
) -> Result<web::Json<DomainView>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let input = body.0;
    let allow_private = state.config.allow_private_targets;
    let mut errors = Vec::new();
    let name = input
        .name
        .as_deref()
        .map(|n| {
            names::normalize_domain(n)
                .map_err(|e| errors.push(FieldError::new("name", e.to_string())))
        })
        .transpose()
        .ok()
        .flatten();
    let target_host = input
        .target_host
        .as_deref()
        .map(|h| {
            names::normalize_target_host(h, allow_private)
                .map_err(|e| errors.push(FieldError::new("target_host", e.to_string())))
        })
        .transpose()
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let visibility = caller.domain_visibility();
    let view = state
        .db(move |conn| {
            conn.transaction::<_, ApiError, _>(|conn| {
                let current = find_visible(conn, &visibility, id)?;
                if name.is_some() && !is_owner_or_admin(&caller, &current) {
                    return Err(ApiError::Forbidden(
                        "only the owner or an operator can rename a domain".to_owned(),
                    ));
                }
                if let Some(owner) = input.owner_id {
                    if !caller.is_admin() {
                        return Err(ApiError::Forbidden(
                            "only an operator can give a domain to another owner".to_owned(),
                        ));
                    }
                    if owner != current.owner_id {
                        check_owner(conn, owner)?;
                    }
                }
                let changes = DomainChanges {
                    name: name.clone(),
                    owner_id: input.owner_id,
                    target_host,
                    target_port: input.target_port,
                    enabled: input.enabled,
                    tls_policy: input.tls_policy,
                    max_message_size: input.max_message_size,
                    queue_lifetime_seconds: input.queue_lifetime_seconds,
                    recipient_policy: input.recipient_policy,
                    accept_only_when_primary_down: input.accept_only_when_primary_down,
                    verify_valid_ttl_seconds: input.verify_valid_ttl_seconds,
                    verify_invalid_ttl_seconds: input.verify_invalid_ttl_seconds,
                    verify_fallback: input.verify_fallback,
                    updated_at: Some(Utc::now()),
                };
                let updated = domains::update(conn, id, &changes)
                    .map_err(|e| name_conflict(e, name.as_deref().unwrap_or_default()))?;
                if updated.owner_id != current.owner_id {
                    domains::drop_foreign_admins(conn, id, updated.owner_id)?;
                }
                // Mail parked behind the old target (it was down) goes to the new one now;
                // after the update, in its transaction, so parking cannot race it.
                if (&updated.target_host, updated.target_port)
                    != (&current.target_host, current.target_port)
                {
                    mxspool_store::targets::unpark_domain(conn, id)?;
                }
                Ok(with_admins(conn, vec![updated])?.pop())
            })
        })
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(web::Json(view))
}

/// Delete a relay domain, with its queued mail.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "Domain id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/domains/{id}")]
pub async fn delete_domain(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let visibility = caller.domain_visibility();
    state
        .db(move |conn| {
            let current = find_visible(conn, &visibility, id)?;
            if !is_owner_or_admin(&caller, &current) {
                return Err(ApiError::Forbidden(
                    "only the owner or an operator can delete a domain".to_owned(),
                ));
            }
            domains::delete(conn, id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Resolves the domain and the domain_admin account for the admin assignment endpoints.
fn admin_assignment(
    conn: &mut PgConnection,
    caller: &Caller,
    domain: DomainId,
    account: AccountId,
) -> Result<(RelayDomain, accounts::Account), ApiError> {
    let current = find_visible(conn, &caller.domain_visibility(), domain)?;
    if !is_owner_or_admin(caller, &current) {
        return Err(ApiError::Forbidden(
            "only the owner or an operator can change a domain's administrators".to_owned(),
        ));
    }
    let target = crate::routes::accounts::find_visible(conn, caller, account)?;
    // The request is well-formed; the account's current role is what stands in the way.
    if target.role != Role::DomainAdmin {
        return Err(ApiError::Conflict(format!(
            "account {account} is a {}, not a domain_admin",
            target.role
        )));
    }
    Ok((current, target))
}

/// Make a domain administrator manage this domain (idempotent).
///
/// The account must have the `domain_admin` role and, if a customer created it, belong to the
/// domain's owner (409 otherwise).
#[utoipa::path(
    tag = "domains",
    params(
        ("id" = i64, Path, description = "Domain id"),
        ("account_id" = i64, Path, description = "Id of an account with the domain_admin role"),
    ),
    responses(
        (status = 204, description = "The account administers the domain"),
        (status = 404, description = "No such domain or account, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is not a domain_admin, or belongs to another customer than the domain's owner", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/domains/{id}/admins/{account_id}")]
pub async fn add_domain_admin(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let account = AccountId(path_id(&req, "account_id")?);
    state
        .db(move |conn| {
            let (domain, target) = admin_assignment(conn, &caller, id, account)?;
            // Only an operator can see another customer's accounts, but not even it may hand
            // one customer's delegate a domain of another.
            if target
                .parent_id
                .is_some_and(|parent| parent != domain.owner_id)
            {
                return Err(ApiError::Conflict(format!(
                    "account {account} belongs to another customer than the domain's owner"
                )));
            }
            Ok(domains::add_admin(conn, id, account)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stop a domain administrator managing this domain.
#[utoipa::path(
    tag = "domains",
    params(
        ("id" = i64, Path, description = "Domain id"),
        ("account_id" = i64, Path, description = "Id of an account with the domain_admin role"),
    ),
    responses(
        (status = 204, description = "The account no longer administers the domain"),
        (status = 404, description = "No such domain, account or assignment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is not a domain_admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/domains/{id}/admins/{account_id}")]
pub async fn remove_domain_admin(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let account = AccountId(path_id(&req, "account_id")?);
    state
        .db(move |conn| {
            admin_assignment(conn, &caller, id, account)?;
            if domains::remove_admin(conn, id, account)? {
                Ok(())
            } else {
                Err(ApiError::NotFound(format!(
                    "account {account} does not administer domain {id}"
                )))
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
