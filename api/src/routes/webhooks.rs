//! `/webhooks`: HTTP callbacks an account registers for operational events (a target host
//! down or back, a domain's queue over a threshold, bounced or expired mail, a failed DNS
//! check), with their signed, retried and logged deliveries. How events are produced and sent
//! is in [`crate::webhooks`] and `mxspool_store::webhooks`.

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{path_id, ValidJson, ValidQuery};
use crate::pagination::PageRequest;
use crate::state::AppState;
use crate::webhooks::{sender, signature, Dispatcher};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use mxspool_store::accounts;
use mxspool_store::domains::{DomainReach, DomainVisibility};
use mxspool_store::kinds::Role;
use mxspool_store::webhooks::{
    self as store, ClaimedDelivery, NewWebhook, Webhook, WebhookChanges, WebhookDelivery,
    WebhookEventType,
};
use mxspool_store::AccountId;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// Most webhooks one account may have.
pub const MAX_WEBHOOKS_PER_ACCOUNT: i64 = 50;

/// A webhook. Its secret appears only in the response that created or rotated it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 4, "account_id": 7, "url": "https://hooks.example.com/mxspool",
    "description": "pager", "events": ["target.down", "target.up", "queue.threshold"],
    "domain_ids": null, "enabled": true, "target_down_grace_seconds": 300,
    "queue_threshold_messages": 1000, "queue_threshold_age_seconds": 3600,
    "created_at": "2026-11-28T10:00:00Z", "updated_at": "2026-11-28T10:00:00Z",
    "secret": "whsec_Q2x…"
}))]
pub struct WebhookView {
    pub id: i64,
    /// The account whose domains the webhook reports on.
    pub account_id: AccountId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<WebhookEventType>,
    /// When set, only events about these domains are sent.
    pub domain_ids: Option<Vec<i64>>,
    pub enabled: bool,
    /// `target.down` is sent only when the target stayed down this long, and `target.up` only
    /// after such a down.
    pub target_down_grace_seconds: i32,
    /// `queue.threshold` when a domain has more waiting recipients than this.
    pub queue_threshold_messages: Option<i32>,
    /// `queue.threshold` when a domain's oldest waiting recipient is older than this.
    pub queue_threshold_age_seconds: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signing secret (`whsec_…`): shown only on creation and rotation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secret: Option<String>,
}

crate::page_type!(
    /// One page of webhooks.
    WebhookPage,
    WebhookView
);

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookDeliveryStatus {
    /// Waiting for its first or next attempt (`next_attempt_at`).
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt failed; `resend` starts over.
    Failed,
    /// Not sent: a `target.down` whose target came back within the grace period.
    Cancelled,
}

/// One event sent (or to be sent) to one webhook.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 812, "webhook_id": 4, "event_id": 3310, "event_type": "message.bounced",
    "status": "failed", "attempts": 8, "next_attempt_at": null,
    "last_attempt_at": "2026-11-28T23:40:00Z", "last_status_code": 500,
    "last_response": "internal error", "last_error": "HTTP status 500",
    "created_at": "2026-11-28T10:00:00Z",
    "payload": {"id": 3310, "type": "message.bounced", "created_at": "2026-11-28T10:00:00Z",
                "data": {"recipient": "bob@example.com"}}
}))]
pub struct WebhookDeliveryView {
    pub id: i64,
    pub webhook_id: i64,
    /// The event's id (the payload's `id`): the same for every webhook that got the event.
    pub event_id: Option<i64>,
    /// `target.down`, …, or `ping` for test deliveries.
    pub event_type: String,
    pub status: WebhookDeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer, if one came.
    pub last_status_code: Option<i32>,
    /// The start of the last answer's body (at most 1 KiB).
    pub last_response: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The JSON body sent.
    pub payload: Value,
}

crate::page_type!(
    /// One page of deliveries, newest first.
    WebhookDeliveryPage,
    WebhookDeliveryView
);

/// A new webhook.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://hooks.example.com/mxspool", "description": "pager",
    "events": ["target.down", "target.up", "queue.threshold", "message.bounced"],
    "target_down_grace_seconds": 300, "queue_threshold_messages": 1000,
    "queue_threshold_age_seconds": 3600
}))]
pub struct CreateWebhook {
    /// Where events are POSTed: an absolute `http` or `https` URL of at most 2000 characters,
    /// without credentials or fragment, whose host is not a private or loopback address (unless
    /// the operator allows private targets). The pattern covers host names and IPv4 addresses
    /// with an optional port, path and query; other URLs the server can use are accepted too.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^https?://(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?|(?:22[0-3]|2[01][0-9]|1[0-9]{2}|[1-9][0-9]?)(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(?::[1-9][0-9]{0,3})?(?:/[A-Za-z0-9._~/-]*)?(?:\?[A-Za-z0-9._~=&-]*)?$"
    )]
    pub url: String,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub description: Option<String>,
    /// The event types to send (at least one).
    #[schema(min_items = 1)]
    #[validate(length(min = 1, message = "name at least one event type"))]
    pub events: Vec<WebhookEventType>,
    /// Only events about these domains (1 to 1000, which the account must be able to see);
    /// leave it out (or `null`) for events about every domain the account sees. An empty
    /// list is refused rather than read as "every domain", which it would look like it denies.
    #[schema(min_items = 1, max_items = 1000)]
    #[validate(length(
        min = 1,
        max = 1000,
        message = "list 1 to 1000 domains, or leave it out"
    ))]
    pub domain_ids: Option<Vec<i64>>,
    /// Default true.
    pub enabled: Option<bool>,
    /// 0 to 86400; default 300.
    #[schema(minimum = 0, maximum = 86400)]
    #[validate(range(min = 0, max = 86400, message = "must be between 0 and 86400"))]
    pub target_down_grace_seconds: Option<i32>,
    /// 1 to 10,000,000.
    #[schema(minimum = 1, maximum = 10_000_000)]
    #[validate(range(min = 1, max = 10_000_000, message = "must be between 1 and 10000000"))]
    pub queue_threshold_messages: Option<i32>,
    /// 60 to 2,592,000 (30 days).
    #[schema(minimum = 60, maximum = 2_592_000)]
    #[validate(range(min = 60, max = 2_592_000, message = "must be between 60 and 2592000"))]
    pub queue_threshold_age_seconds: Option<i32>,
}

/// Changes to a webhook; absent fields stay, `null` clears the nullable ones.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": false, "queue_threshold_messages": null, "rotate_secret": true}))]
pub struct UpdateWebhook {
    /// The same rules as a new webhook's `url`.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^https?://(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?|(?:22[0-3]|2[01][0-9]|1[0-9]{2}|[1-9][0-9]?)(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(?::[1-9][0-9]{0,3})?(?:/[A-Za-z0-9._~/-]*)?(?:\?[A-Za-z0-9._~=&-]*)?$"
    )]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// At least one event type.
    #[schema(min_items = 1)]
    pub events: Option<Vec<WebhookEventType>>,
    /// 1 to 1000 domains, or `null` for every domain the account sees.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<i64>>, nullable, min_items = 1, max_items = 1000)]
    pub domain_ids: Option<Option<Vec<i64>>>,
    pub enabled: Option<bool>,
    /// 0 to 86400.
    #[schema(minimum = 0, maximum = 86400)]
    #[validate(range(min = 0, max = 86400, message = "must be between 0 and 86400"))]
    pub target_down_grace_seconds: Option<i32>,
    /// 1 to 10,000,000, or `null` to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>, nullable, minimum = 1, maximum = 10_000_000)]
    pub queue_threshold_messages: Option<Option<i32>>,
    /// 60 to 2,592,000 (30 days), or `null` to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>, nullable, minimum = 60, maximum = 2_592_000)]
    pub queue_threshold_age_seconds: Option<Option<i32>>,
    /// Replace the signing secret; the new one is in the response, only there.
    pub rotate_secret: Option<bool>,
}

/// `Some(None)` for an explicit `null`, so PATCH can clear a field.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Paging of the lists.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn view(w: &Webhook, secret: Option<String>) -> WebhookView {
    WebhookView {
        id: w.id,
        account_id: w.account_id,
        url: w.url.clone(),
        description: w.description.clone(),
        events: w
            .events
            .iter()
            .filter_map(|e| WebhookEventType::parse(e))
            .collect(),
        domain_ids: w.domain_ids.clone(),
        enabled: w.enabled,
        target_down_grace_seconds: w.target_down_grace_seconds,
        queue_threshold_messages: w.queue_threshold_messages,
        queue_threshold_age_seconds: w.queue_threshold_age_seconds,
        created_at: w.created_at,
        updated_at: w.updated_at,
        secret,
    }
}

fn delivery_view(d: WebhookDelivery) -> WebhookDeliveryView {
    let status = match d.status.as_str() {
        "succeeded" => WebhookDeliveryStatus::Succeeded,
        "failed" => WebhookDeliveryStatus::Failed,
        "cancelled" => WebhookDeliveryStatus::Cancelled,
        _ => WebhookDeliveryStatus::Pending,
    };
    WebhookDeliveryView {
        id: d.id,
        webhook_id: d.webhook_id,
        event_id: d.event_id,
        event_type: d.event_type,
        status,
        attempts: d.attempts,
        next_attempt_at: d
            .next_attempt_at
            .filter(|_| status == WebhookDeliveryStatus::Pending),
        last_attempt_at: d.last_attempt_at,
        last_status_code: d.last_status_code,
        last_response: d.last_response,
        last_error: d.last_error,
        created_at: d.created_at,
        payload: d.payload,
    }
}

/// Whose webhooks the caller reaches: its own; operators everyone's.
fn owner_filter(caller: &Caller) -> Option<AccountId> {
    (!caller.is_admin()).then_some(caller.id())
}

fn event_names(events: &[WebhookEventType]) -> Vec<String> {
    let mut names: Vec<String> = events.iter().map(|e| e.as_str().to_owned()).collect();
    names.sort();
    names.dedup();
    names
}

/// The domains an account may see (webhooks report what their account sees, whoever edits).
fn visibility_of(
    conn: &mut mxspool_store::PgConnection,
    account: AccountId,
) -> Result<DomainVisibility, ApiError> {
    let account = accounts::find(conn, account)?;
    let reach = match account.role {
        Role::Admin => DomainReach::All,
        Role::Customer => DomainReach::OwnedBy(account.id),
        Role::DomainAdmin => DomainReach::AdministeredBy(account.id),
    };
    Ok(DomainVisibility { reach, only: None })
}

/// Checks the rules that span fields, on the webhook as it would be stored.
fn check_whole(
    conn: &mut mxspool_store::PgConnection,
    account: AccountId,
    events: &[String],
    domain_ids: Option<&[i64]>,
    threshold_messages: Option<i32>,
    threshold_age: Option<i32>,
) -> Result<(), ApiError> {
    if events
        .iter()
        .any(|e| e == WebhookEventType::QueueThreshold.as_str())
        && threshold_messages.is_none()
        && threshold_age.is_none()
    {
        return Err(ApiError::field(
            "queue_threshold_messages",
            "queue.threshold needs queue_threshold_messages or queue_threshold_age_seconds",
        ));
    }
    if let Some(ids) = domain_ids {
        let visibility = visibility_of(conn, account)?;
        let missing = store::invisible_domains(conn, &visibility, ids)?;
        if let Some(first) = missing.first() {
            let index = ids.iter().position(|id| id == first).unwrap_or(0);
            return Err(ApiError::field(
                format!("domain_ids[{index}]"),
                format!("domain {first} not found"),
            ));
        }
    }
    Ok(())
}

fn check_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    sender::validate_url(url, state.config.allow_private_targets)
        .map(|u| u.to_string())
        .map_err(|e| ApiError::field("url", e))
}

/// List webhooks: the caller's own (operators: everyone's).
#[utoipa::path(
    tag = "webhooks",
    params(WebhookQuery),
    responses((status = 200, description = "One page of webhooks (without secrets)", body = WebhookPage)),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    query: ValidQuery<WebhookQuery>,
) -> Result<web::Json<WebhookPage>, ApiError> {
    caller.require_unrestricted()?;
    let page = PageRequest::new(query.0.limit, query.0.cursor.as_deref())?;
    let owner = owner_filter(&caller);
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = store::list(conn, owner, page.after, page.fetch())?;
            let (rows, next) = page.finish(rows, |w| w.id);
            Ok((rows.iter().map(|w| view(w, None)).collect(), next))
        })
        .await?;
    Ok(web::Json(WebhookPage { items, next_cursor }))
}

/// Register a webhook for the caller's account.
///
/// The response holds the signing secret; it is not shown again (rotate it with
/// `PATCH … {"rotate_secret": true}`). Each request is signed:
/// `X-Mxspool-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; the secret is shown once", body = WebhookView),
        (status = 409, description = "The account has the most webhooks allowed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidJson<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    caller.require_unrestricted()?;
    let input = body.0;
    let url = check_url(&state, &input.url)?;
    let account = caller.id();
    let secret = signature::new_secret();
    let created = {
        let secret = secret.clone();
        state
            .db(move |conn| {
                let events = event_names(&input.events);
                let mut domain_ids = input.domain_ids.clone();
                if let Some(ids) = &mut domain_ids {
                    ids.sort_unstable();
                    ids.dedup();
                }
                check_whole(
                    conn,
                    account,
                    &events,
                    input.domain_ids.as_deref(),
                    input.queue_threshold_messages,
                    input.queue_threshold_age_seconds,
                )?;
                if store::list(conn, Some(account), None, MAX_WEBHOOKS_PER_ACCOUNT)?.len()
                    >= usize::try_from(MAX_WEBHOOKS_PER_ACCOUNT).unwrap_or(usize::MAX)
                {
                    return Err(ApiError::Conflict(format!(
                        "an account may have at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks"
                    )));
                }
                let new = NewWebhook {
                    account_id: account,
                    url,
                    description: input.description,
                    events,
                    domain_ids,
                    enabled: input.enabled.unwrap_or(true),
                    secret,
                    target_down_grace_seconds: input.target_down_grace_seconds.unwrap_or(300),
                    queue_threshold_messages: input.queue_threshold_messages,
                    queue_threshold_age_seconds: input.queue_threshold_age_seconds,
                };
                Ok(store::insert(conn, &new)?)
            })
            .await?
    };
    Ok(HttpResponse::Created().json(view(&created, Some(secret))))
}

/// Show a webhook (without its secret).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook", body = WebhookView),
        (status = 404, description = "No such webhook, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<WebhookView>, ApiError> {
    caller.require_unrestricted()?;
    let id = path_id(&req, "id")?;
    let owner = owner_filter(&caller);
    let hook = state.db(move |conn| find(conn, id, owner)).await?;
    Ok(web::Json(view(&hook, None)))
}

fn find(
    conn: &mut mxspool_store::PgConnection,
    id: i64,
    owner: Option<AccountId>,
) -> Result<Webhook, ApiError> {
    match store::find(conn, id, owner) {
        Err(diesel::result::Error::NotFound) => {
            Err(ApiError::NotFound(format!("webhook {id} not found")))
        }
        other => Ok(other?),
    }
}

/// Change a webhook; `rotate_secret: true` replaces its secret (shown in this response only).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The changed webhook; with `secret` when rotated", body = WebhookView),
        (status = 404, description = "No such webhook, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ValidJson<UpdateWebhook>,
) -> Result<web::Json<WebhookView>, ApiError> {
    caller.require_unrestricted()?;
    let id = path_id(&req, "id")?;
    let input = body.0;
    if input.events.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::field("events", "name at least one event type"));
    }
    if let Some(Some(ids)) = &input.domain_ids {
        if ids.is_empty() || ids.len() > 1000 {
            return Err(ApiError::field(
                "domain_ids",
                "list 1 to 1000 domains, or null for all",
            ));
        }
    }
    if let Some(Some(n)) = input.queue_threshold_messages {
        if !(1..=10_000_000).contains(&n) {
            return Err(ApiError::field(
                "queue_threshold_messages",
                "must be between 1 and 10000000",
            ));
        }
    }
    if let Some(Some(t)) = input.queue_threshold_age_seconds {
        if !(60..=2_592_000).contains(&t) {
            return Err(ApiError::field(
                "queue_threshold_age_seconds",
                "must be between 60 and 2592000",
            ));
        }
    }
    if let Some(Some(d)) = &input.description {
        if d.chars().count() > 200 {
            return Err(ApiError::field(
                "description",
                "must be at most 200 characters",
            ));
        }
    }
    let url = input
        .url
        .as_deref()
        .map(|u| check_url(&state, u))
        .transpose()?;
    let secret = input
        .rotate_secret
        .unwrap_or(false)
        .then(signature::new_secret);
    let owner = owner_filter(&caller);
    let (hook, secret) = {
        let secret = secret.clone();
        state
            .db(move |conn| {
                use diesel::Connection;
                conn.transaction(|conn| {
                    let current = find(conn, id, owner)?;
                    let events = input.events.as_deref().map(event_names);
                    let mut domain_ids = input.domain_ids.clone();
                    if let Some(Some(ids)) = &mut domain_ids {
                        ids.sort_unstable();
                        ids.dedup();
                    }
                    let final_events = events.clone().unwrap_or(current.events.clone());
                    let final_domains = domain_ids.clone().unwrap_or(current.domain_ids.clone());
                    check_whole(
                        conn,
                        current.account_id,
                        &final_events,
                        final_domains.as_deref(),
                        input
                            .queue_threshold_messages
                            .unwrap_or(current.queue_threshold_messages),
                        input
                            .queue_threshold_age_seconds
                            .unwrap_or(current.queue_threshold_age_seconds),
                    )?;
                    let changes = WebhookChanges {
                        url,
                        description: input.description,
                        events,
                        domain_ids,
                        enabled: input.enabled,
                        secret: secret.clone(),
                        target_down_grace_seconds: input.target_down_grace_seconds,
                        queue_threshold_messages: input.queue_threshold_messages,
                        queue_threshold_age_seconds: input.queue_threshold_age_seconds,
                        updated_at: Some(Utc::now()),
                    };
                    Ok((store::update(conn, id, &changes)?, secret))
                })
            })
            .await?
    };
    Ok(web::Json(view(&hook, secret)))
}

/// Delete a webhook and its delivery log; pending deliveries are not sent.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require_unrestricted()?;
    let id = path_id(&req, "id")?;
    let owner = owner_filter(&caller);
    if state
        .db(move |conn| Ok(store::delete(conn, id, owner)?))
        .await?
    {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(format!("webhook {id} not found")))
    }
}

/// A webhook's deliveries, newest first: event, status, attempts, last answer, next attempt.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id"), WebhookQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = WebhookDeliveryPage),
        (status = 404, description = "No such webhook, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: ValidQuery<WebhookQuery>,
) -> Result<web::Json<WebhookDeliveryPage>, ApiError> {
    caller.require_unrestricted()?;
    let id = path_id(&req, "id")?;
    let page = PageRequest::new(query.0.limit, query.0.cursor.as_deref())?;
    let owner = owner_filter(&caller);
    let (items, next_cursor) = state
        .db(move |conn| {
            find(conn, id, owner)?;
            // The cursor holds the last id shown; older deliveries have smaller ids.
            let rows = store::list_deliveries(conn, id, page.after, page.fetch())?;
            let (rows, next) = page.finish(rows, |d| d.id);
            Ok((rows.into_iter().map(delivery_view).collect(), next))
        })
        .await?;
    Ok(web::Json(WebhookDeliveryPage { items, next_cursor }))
}

/// Send a delivery again: it becomes due now with a fresh attempt budget, whatever its status.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = i64, Path, description = "Webhook id"),
        ("delivery_id" = i64, Path, description = "Delivery id"),
    ),
    responses(
        (status = 202, description = "Queued for sending", body = WebhookDeliveryView),
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/resend")]
pub async fn resend_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require_unrestricted()?;
    let id = path_id(&req, "id")?;
    let delivery = path_id(&req, "delivery_id")?;
    let owner = owner_filter(&caller);
    let resent = state
        .db(move |conn| {
            find(conn, id, owner)?;
            match store::resend(conn, id, delivery) {
                Err(diesel::result::Error::NotFound) => Err(ApiError::NotFound(format!(
                    "delivery {delivery} of webhook {id} not found"
                ))),
                other => Ok(other?),
            }
        })
        .await?;
    Ok(HttpResponse::Accepted().json(delivery_view(resent)))
}

/// Send a `ping` event now and report the outcome (status, answer, error). Test pings are
/// logged with the deliveries but not retried.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The ping's delivery: `succeeded` or `failed` with the reason", body = WebhookDeliveryView),
        (status = 404, description = "No such webhook, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<WebhookDeliveryView>, ApiError> {
    caller.require_unrestricted()?;
    let id = path_id(&req, "id")?;
    let owner = owner_filter(&caller);
    let config = state.config.webhooks.clone();
    let lease = config.lease;
    let (hook, delivery) = state
        .db(move |conn| {
            let hook = find(conn, id, owner)?;
            let delivery = store::insert_ping(conn, &hook, lease)?;
            Ok((hook, delivery))
        })
        .await?;
    let dispatcher = Dispatcher::new(
        state.pool.clone(),
        config,
        state.config.allow_private_targets,
    );
    let claimed = ClaimedDelivery {
        delivery,
        url: hook.url,
        secret: hook.secret,
    };
    let result = dispatcher.send(&claimed).await;
    let delivery_id = claimed.delivery.id;
    let recorded = state
        .db(move |conn| Ok(store::record_attempt(conn, delivery_id, &result, None)?))
        .await?;
    Ok(web::Json(delivery_view(recorded)))
}
