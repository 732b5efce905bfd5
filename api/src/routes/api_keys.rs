//! `/api-keys`: long-lived bearer credentials for automation scripts, created by a logged-in
//! user for its own account, shown once and stored hashed.

use crate::auth::secrets::{digest, new_api_key};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{path_id, ValidJson, ValidQuery};
use crate::pagination::PageRequest;
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use mxspool_store::api_keys::{self, ApiKey, NewApiKey};
use mxspool_store::domains;
use mxspool_store::{AccountId, ApiKeyId, DomainId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// What a key may do. `read` allows GET requests; `write` allows everything the account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
}

/// An API key, without its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    /// When set, the key reaches only these domains.
    pub domain_ids: Option<Vec<DomainId>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A newly created key: the only time its secret is shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "key": {"id": 3, "account_id": 7, "name": "deploy script", "prefix": "mxs_Ab12Cd34",
            "scopes": ["read", "write"], "domain_ids": null, "expires_at": null,
            "last_used_at": null, "created_at": "2026-11-28T10:00:00Z"},
    "secret": "mxs_Ab12Cd34…"
}))]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    /// Send as `Authorization: Bearer <secret>`. It cannot be shown again.
    pub secret: String,
}

crate::page_type!(
    /// One page of API keys.
    ApiKeyPage,
    ApiKeyView
);

/// A new API key.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "deploy script", "scopes": ["read", "write"], "domain_ids": [12], "expires_at": "2027-06-01T00:00:00Z"}))]
pub struct CreateApiKey {
    /// A label for people.
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `["read"]` or `["read", "write"]` (`write` implies `read`).
    #[validate(length(min = 1, max = 2, message = "name at least one scope: read, write"))]
    #[schema(min_items = 1, max_items = 2)]
    pub scopes: Vec<Scope>,
    /// Restrict the key to these domains (which the account must be able to see).
    #[validate(length(
        min = 1,
        max = 1000,
        message = "list 1 to 1000 domains, or leave it out"
    ))]
    #[schema(min_items = 1, max_items = 1000)]
    pub domain_ids: Option<Vec<DomainId>>,
    /// When the key stops working; must be in the future.
    #[schema(example = "2031-01-01T00:00:00Z")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Paging of `GET /api-keys`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn view(key: &ApiKey, domains: Option<Vec<DomainId>>) -> ApiKeyView {
    let scopes = if key.can_write {
        vec![Scope::Read, Scope::Write]
    } else {
        vec![Scope::Read]
    };
    ApiKeyView {
        id: key.id,
        account_id: key.account_id,
        name: key.name.clone(),
        prefix: key.prefix.clone(),
        scopes,
        domain_ids: domains,
        expires_at: key.expires_at,
        last_used_at: key.last_used_at,
        created_at: key.created_at,
    }
}

/// List the caller's API keys (operators: everyone's).
#[utoipa::path(
    tag = "api-keys",
    params(ApiKeyQuery),
    responses((status = 200, description = "One page of keys", body = ApiKeyPage)),
    security(("bearer" = []))
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    caller: Caller,
    query: ValidQuery<ApiKeyQuery>,
) -> Result<web::Json<ApiKeyPage>, ApiError> {
    caller.require_login_token()?;
    let page = PageRequest::new(query.0.limit, query.0.cursor.as_deref())?;
    let owner = (!caller.is_admin()).then_some(caller.id());
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = api_keys::list(conn, owner, page.after.map(ApiKeyId), page.fetch())?;
            let (rows, next) = page.finish(rows, |k| k.id.0);
            let restricted: Vec<ApiKeyId> = rows
                .iter()
                .filter(|k| k.domain_restricted)
                .map(|k| k.id)
                .collect();
            let mut by_key: BTreeMap<ApiKeyId, Vec<DomainId>> = BTreeMap::new();
            for (key, domain) in api_keys::domains_of_many(conn, &restricted)? {
                by_key.entry(key).or_default().push(domain);
            }
            let items = rows
                .iter()
                .map(|k| {
                    let domains = k
                        .domain_restricted
                        .then(|| by_key.remove(&k.id).unwrap_or_default());
                    view(k, domains)
                })
                .collect();
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(ApiKeyPage { items, next_cursor }))
}

/// Create an API key for the caller's account.
///
/// Needs a password login (an API key cannot create keys). The secret is in the response only.
#[utoipa::path(
    tag = "api-keys",
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; the secret is shown once", body = CreatedApiKey),
        (status = 404, description = "A domain in `domain_ids` does not exist or is not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    caller.require_login_token()?;
    let input = body.0;
    if input.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::field("expires_at", "must be in the future"));
    }
    let secret = new_api_key();
    let prefix: String = secret.chars().take(12).collect();
    let hash = digest(&secret);
    let visibility = caller.domain_visibility();
    let account = caller.id();
    let created = state
        .db(move |conn| {
            let mut wanted = input.domain_ids.clone().unwrap_or_default();
            wanted.sort();
            wanted.dedup();
            for (i, id) in input.domain_ids.iter().flatten().enumerate() {
                match domains::find_visible(conn, &visibility, *id) {
                    Ok(_) => {}
                    // Like any other reference to a domain the caller cannot see: 404.
                    Err(diesel::result::Error::NotFound) => {
                        return Err(ApiError::NotFound(format!(
                            "domain_ids[{i}]: domain {id} not found"
                        )))
                    }
                    // A database failure is not the client's mistake: 500/503, not 422.
                    Err(other) => return Err(other.into()),
                }
            }
            let new = NewApiKey {
                account_id: account,
                name: &input.name,
                prefix: &prefix,
                secret_hash: &hash,
                can_write: input.scopes.contains(&Scope::Write),
                domain_restricted: input.domain_ids.is_some(),
                expires_at: input.expires_at,
            };
            let key = api_keys::insert(conn, &new, &wanted)?;
            Ok(view(&key, input.domain_ids.is_some().then_some(wanted)))
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedApiKey {
        key: created,
        secret,
    }))
}

/// Revoke (delete) an API key.
#[utoipa::path(
    tag = "api-keys",
    params(("id" = i64, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such key, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api-keys/{id}")]
pub async fn delete_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require_login_token()?;
    let id = ApiKeyId(path_id(&req, "id")?);
    let owner = (!caller.is_admin()).then_some(caller.id());
    let deleted = state
        .db(move |conn| Ok(api_keys::delete(conn, id, owner)?))
        .await?;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(format!("API key {id} not found")))
    }
}
