//! `/domains/{id}/recipients`: the recipient list of a domain whose `recipient_policy` is
//! `listed` (the relay accepts only these local parts at RCPT time and answers `550 5.1.1` to
//! the others). A list can be kept for any domain, so it can be uploaded before the policy is
//! switched to `listed`.
//!
//! Addresses are given in full (`bob@customer.example`) or as a bare local part (`bob`), which
//! means the same address of this domain. Local parts are compared case-insensitively: they are
//! stored lower-cased, and listed back as stored. An address of another domain, one that is
//! not a dot-atom (quoted local parts, spaces, `%`, `!`), or one that is too long is refused
//! with a 422 naming its position, e.g. `recipients[17]`.
//!
//! Who may do what: whoever may see the domain (see [`crate::routes::domains`]) manages its
//! list; another tenant's domain answers 404.
//!
//! `PUT` replaces the whole list in one transaction with set operations over one array
//! ([`mxspool_store::recipients::replace`]); the routes are mounted in a scope whose JSON
//! limit ([`BULK_JSON_LIMIT`]) fits 100,000 addresses of the longest allowed length.

use crate::auth::Caller;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{path_id, ValidJson, ValidQuery};
use crate::routes::queue::{decode_cursor, encode_cursor};
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use mxspool_store::domains::{self, DomainVisibility, RelayDomain};
use mxspool_store::recipients::{self, MAX_ADDRESS};
use mxspool_store::{names, DomainId, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// Most addresses in one `PUT` or `POST`.
pub const MAX_RECIPIENTS_PER_REQUEST: usize = 100_000;
/// JSON body limit of these routes: 100,000 addresses of 254 octets, quoted and separated.
pub const BULK_JSON_LIMIT: usize = 32 * 1024 * 1024;
/// Invalid addresses reported per request; a list with more errors is refused all the same.
const MAX_REPORTED_ERRORS: usize = 100;
const RECIPIENT_CURSOR: &str = "r1";

/// The routes, mounted by [`crate::routes::configure_api`] in a scope of their own at
/// `/domains/{id}/recipients` whose JSON limit is [`BULK_JSON_LIMIT`].
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_recipients)
        .service(replace_recipients)
        .service(add_recipients)
        .service(delete_recipient);
}

/// One listed recipient.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "address": "bob@customer.example", "local_part": "bob",
    "created_at": "2026-11-28T09:30:00Z"
}))]
pub struct RecipientView {
    /// The full address, lower-cased local part.
    pub address: String,
    /// The local part as stored (lower-cased).
    pub local_part: String,
    pub created_at: DateTime<Utc>,
}

crate::page_type!(
    /// One page of a domain's recipient list, in local-part order.
    RecipientPage,
    RecipientView
);

/// Filters and paging of `GET /domains/{id}/recipients`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// Only local parts starting with this text (case-insensitive), e.g. `sales` finds
    /// `sales@…` and `sales.eu@…`.
    #[validate(length(max = 64, message = "at most 64 characters (the longest local part)"))]
    pub prefix: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One entry of a recipient list: a local part (`bob`), meaning that address of the domain, or
/// a whole address of the domain (`bob@customer.example`). The pattern covers dot-atom local
/// parts of ASCII characters (at most one dot, no `/`, `%` or `!`) with an optional `@` and host
/// name; the server also takes longer local parts, more dots and UTF-8. That the domain after
/// `@` must be the list's own is a rule no pattern can state.
pub struct RecipientEntry;

impl utoipa::PartialSchema for RecipientEntry {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "A local part (`bob`), or a whole address of this domain (`bob@customer.example`).",
            ))
            .min_length(Some(1))
            .max_length(Some(254))
            .pattern(Some(r"^[A-Za-z0-9#$&'*+=?^_`{|}~-]{1,32}(?:\.[A-Za-z0-9#$&'*+=?^_`{|}~-]{1,31})?(?:@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)?$"))
            .into()
    }
}

impl ToSchema for RecipientEntry {}

/// A list of addresses: the whole new list (`PUT`) or addresses to add (`POST`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"recipients": ["alice", "Bob", "sales"]}))]
pub struct RecipientList {
    /// Up to 100,000 local parts (`user`, meaning `user@` this domain), or full addresses of
    /// this domain (`user@customer.example`; an address of another domain is refused). Case
    /// does not matter; duplicates count once.
    #[schema(value_type = Vec<RecipientEntry>)]
    pub recipients: Vec<String>,
}

/// What a `PUT` changed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"added": 120, "removed": 7, "unchanged": 4873, "total": 4993}))]
pub struct ReplaceResult {
    /// Addresses that were not listed before.
    pub added: i64,
    /// Listed addresses that were not in the new list.
    pub removed: i64,
    /// Addresses that were already listed.
    pub unchanged: i64,
    /// Addresses listed now.
    pub total: i64,
}

/// What a `POST` changed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"added": 2, "unchanged": 1}))]
pub struct AddResult {
    /// Addresses that were not listed before.
    pub added: i64,
    /// Addresses that were already listed.
    pub unchanged: i64,
}

fn not_found(id: DomainId) -> ApiError {
    ApiError::NotFound(format!("domain {id} not found"))
}

fn find_visible(
    conn: &mut PgConnection,
    visibility: &DomainVisibility,
    id: DomainId,
) -> Result<RelayDomain, ApiError> {
    domains::find_visible(conn, visibility, id).map_err(|e| match e {
        diesel::result::Error::NotFound => not_found(id),
        other => other.into(),
    })
}

/// The stored local part of `input`, an address of `domain` or a bare local part.
fn local_part_of(input: &str, domain: &str) -> Result<String, String> {
    if input.len() > MAX_ADDRESS {
        return Err(format!(
            "longer than {MAX_ADDRESS} octets, the longest address"
        ));
    }
    let local = match input.rsplit_once('@') {
        None => input,
        // The domain as stored (the usual case) needs no IDNA processing.
        Some((local, host)) if host.eq_ignore_ascii_case(domain) => local,
        Some((local, host)) => {
            match names::normalize_mail_domain(host) {
                Some(name) if name == domain => {}
                Some(name) => {
                    return Err(format!(
                        "{input:?} is an address of {name}, not of {domain}"
                    ))
                }
                None => return Err(format!("{input:?} has no valid domain after @")),
            }
            local
        }
    };
    recipients::normalize_local_part(local).map_err(|e| format!("{input:?}: {e}"))
}

/// Normalises a whole list, naming each invalid entry by position.
fn local_parts(list: &[String], domain: &str) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_RECIPIENTS_PER_REQUEST {
        return Err(ApiError::field(
            "recipients",
            format!(
                "{} addresses; at most {MAX_RECIPIENTS_PER_REQUEST} per request",
                list.len()
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut locals = Vec::with_capacity(list.len());
    for (i, input) in list.iter().enumerate() {
        match local_part_of(input, domain) {
            Ok(local) => locals.push(local),
            Err(message) if errors.len() < MAX_REPORTED_ERRORS => {
                errors.push(FieldError::new(format!("recipients[{i}]"), message));
            }
            Err(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(locals)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The domain's name, if the caller may see it.
async fn domain_name(state: &AppState, caller: &Caller, id: DomainId) -> Result<String, ApiError> {
    let visibility = caller.domain_visibility();
    state
        .db(move |conn| Ok(find_visible(conn, &visibility, id)?.name))
        .await
}

/// List the recipients of a domain.
///
/// In local-part order, optionally only those starting with `prefix`.
#[utoipa::path(
    tag = "recipients",
    params(("id" = i64, Path, description = "Domain id"), RecipientQuery),
    responses(
        (status = 200, description = "One page of recipients", body = RecipientPage),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("")]
pub async fn list_recipients(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: ValidQuery<RecipientQuery>,
) -> Result<web::Json<RecipientPage>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let q = query.0;
    let limit = q.limit.unwrap_or(crate::pagination::DEFAULT_LIMIT);
    if !(1..=crate::pagination::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be between 1 and {}", crate::pagination::MAX_LIMIT),
        ));
    }
    let after = q
        .cursor
        .as_deref()
        .map(|c| decode_cursor(RECIPIENT_CURSOR, c, "cursor"))
        .transpose()?;
    let prefix = q.prefix.map(|p| p.to_lowercase());
    let visibility = caller.domain_visibility();
    let (name, mut rows) = state
        .db(move |conn| {
            let domain = find_visible(conn, &visibility, id)?;
            let rows = recipients::list(conn, id, prefix.as_deref(), after.as_deref(), limit + 1)?;
            Ok((domain.name, rows))
        })
        .await?;
    let page = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > page {
        rows.truncate(page);
        rows.last()
            .map(|r| encode_cursor(RECIPIENT_CURSOR, &r.local_part))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| RecipientView {
            address: format!("{}@{name}", r.local_part),
            local_part: r.local_part,
            created_at: r.created_at,
        })
        .collect();
    Ok(web::Json(RecipientPage { items, next_cursor }))
}

/// Replace the recipient list of a domain.
///
/// The list becomes exactly the addresses sent (up to 100,000), in one transaction; the answer
/// counts what changed. Sending the same list again changes nothing (`added` and `removed` 0).
/// An empty list empties it. One invalid address refuses the whole request, with every invalid
/// position named (the first 100).
#[utoipa::path(
    tag = "recipients",
    params(("id" = i64, Path, description = "Domain id")),
    request_body = RecipientList,
    responses(
        (status = 200, description = "The list was replaced", body = ReplaceResult),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("")]
pub async fn replace_recipients(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ValidJson<RecipientList>,
) -> Result<web::Json<ReplaceResult>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let name = domain_name(&state, &caller, id).await?;
    let locals = web::block(move || local_parts(&body.0.recipients, &name)).await??;
    let visibility = caller.domain_visibility();
    let counts = state
        .db(move |conn| {
            find_visible(conn, &visibility, id)?;
            Ok(recipients::replace(conn, id, &locals)?)
        })
        .await?;
    tracing::info!(
        domain = %id,
        added = counts.added,
        removed = counts.removed,
        unchanged = counts.unchanged,
        "recipient list replaced"
    );
    Ok(web::Json(ReplaceResult {
        added: counts.added,
        removed: counts.removed,
        unchanged: counts.unchanged,
        total: counts.added + counts.unchanged,
    }))
}

/// Add recipients to a domain's list.
///
/// Addresses already listed are counted as `unchanged`.
#[utoipa::path(
    tag = "recipients",
    params(("id" = i64, Path, description = "Domain id")),
    request_body = RecipientList,
    responses(
        (status = 200, description = "The addresses are listed", body = AddResult),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("")]
pub async fn add_recipients(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ValidJson<RecipientList>,
) -> Result<web::Json<AddResult>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let name = domain_name(&state, &caller, id).await?;
    let mut locals = web::block(move || local_parts(&body.0.recipients, &name)).await??;
    locals.sort_unstable();
    locals.dedup();
    let unique = i64::try_from(locals.len()).unwrap_or(i64::MAX);
    let visibility = caller.domain_visibility();
    let added = state
        .db(move |conn| {
            find_visible(conn, &visibility, id)?;
            Ok(recipients::add(conn, id, &locals)?)
        })
        .await?;
    Ok(web::Json(AddResult {
        added,
        unchanged: unique - added,
    }))
}

/// Remove one recipient from a domain's list.
#[utoipa::path(
    tag = "recipients",
    params(
        ("id" = i64, Path, description = "Domain id"),
        ("address" = String, Path, description = "The local part (`bob`) or the whole address (`bob@customer.example`, of this domain), any case; the pattern covers plain ASCII local parts only", example = "bob", min_length = 1, max_length = 254, pattern = r"^[A-Za-z0-9#$&'*+=?^_`{|}~-]{1,32}(?:\.[A-Za-z0-9#$&'*+=?^_`{|}~-]{1,31})?$"),
    ),
    responses(
        (status = 204, description = "The address is no longer listed"),
        (status = 404, description = "No such domain or listed address, or the domain is not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/{address}")]
pub async fn delete_recipient(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let address = req
        .match_info()
        .get("address")
        .unwrap_or_default()
        .to_owned();
    let name = domain_name(&state, &caller, id).await?;
    let local = local_part_of(&address, &name).map_err(|e| ApiError::field("address", e))?;
    let visibility = caller.domain_visibility();
    state
        .db(move |conn| {
            find_visible(conn, &visibility, id)?;
            if recipients::remove(conn, id, &local)? {
                Ok(())
            } else {
                Err(ApiError::NotFound(format!(
                    "{local}@{name} is not on the recipient list"
                )))
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
