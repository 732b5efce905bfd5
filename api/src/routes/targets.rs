//! `/targets`: the health of the target hosts relayed mail goes to, as the relay sees it, and
//! each target's up/down timeline.
//!
//! A customer or domain administrator sees the targets of its domains (with only its own
//! domain ids), and a target it has no domain for answers 404; an operator sees every target
//! of every domain and every host the relay keeps health for.

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::ValidQuery;
use crate::pagination::PageRequest;
use crate::routes::queue::{decode_cursor, encode_cursor, time_from_key, time_key};
use crate::state::AppState;
use actix_web::{get, web, HttpRequest};
use chrono::{DateTime, Utc};
use mxspool_store::names;
use mxspool_store::queue_admin::{self, TargetEventRow, TargetRow};
use mxspool_store::targets::TargetState;
use mxspool_store::DomainId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

fn state_of(word: &str) -> TargetState {
    word.parse().unwrap_or(TargetState::Unknown)
}

/// A target host (a domain's primary mail server) and its health.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "host": "mail.customer.example", "port": 25, "state": "down",
    "changed_at": "2026-11-28T09:58:00Z", "last_probe_at": "2026-11-28T10:04:30Z",
    "next_probe_at": "2026-11-28T10:05:30Z",
    "last_error": "connection refused (203.0.113.25:25)", "domain_count": 2,
    "domain_ids": [12, 15]
}))]
pub struct TargetView {
    pub host: String,
    pub port: i32,
    /// `unknown` too when the relay has not tried the target yet.
    pub state: TargetState,
    /// When the state last changed; `null` when the relay has no record of the target.
    pub changed_at: Option<DateTime<Utc>>,
    pub last_probe_at: Option<DateTime<Utc>>,
    /// When the prober checks the target next (while it is down).
    pub next_probe_at: Option<DateTime<Utc>>,
    /// Why the last connection or probe failed.
    pub last_error: Option<String>,
    /// How many of the caller's domains relay to this target.
    pub domain_count: i64,
    /// Those domains' ids, by id (at most 100).
    pub domain_ids: Vec<DomainId>,
}

impl From<TargetRow> for TargetView {
    fn from(t: TargetRow) -> Self {
        TargetView {
            state: state_of(&t.state),
            host: t.host,
            port: t.port,
            changed_at: t.changed_at,
            last_probe_at: t.last_probe_at,
            next_probe_at: t.next_probe_at,
            last_error: t.last_error,
            domain_count: t.domain_count,
            domain_ids: t.domain_ids.into_iter().map(DomainId).collect(),
        }
    }
}

crate::page_type!(
    /// One page of targets.
    TargetPage,
    TargetView
);

/// One change of a target's health.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 311, "host": "mail.customer.example", "port": 25, "state": "up",
    "at": "2026-11-28T10:05:31Z", "detail": "220 mail.customer.example ESMTP"
}))]
pub struct TargetEvent {
    pub id: i64,
    pub host: String,
    pub port: i32,
    /// The state the target changed to: `up` or `down`.
    pub state: TargetState,
    pub at: DateTime<Utc>,
    /// The greeting or the error that decided it.
    pub detail: Option<String>,
}

impl From<TargetEventRow> for TargetEvent {
    fn from(e: TargetEventRow) -> Self {
        TargetEvent {
            state: state_of(&e.state),
            id: e.id,
            host: e.host,
            port: e.port,
            at: e.at,
            detail: e.detail,
        }
    }
}

crate::page_type!(
    /// One page of a target's health changes, newest first.
    TargetEventPage,
    TargetEvent
);

/// Paging of `GET /targets`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Port filter and paging of `GET /targets/{host}/events`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TargetEventQuery {
    /// Only this port's events (default: every port of the host the caller may see).
    #[validate(range(min = 1, max = 65535, message = "must be a port number, 1 to 65535"))]
    #[param(minimum = 1, maximum = 65535)]
    pub port: Option<i32>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const TARGET_CURSOR: &str = "t1";
const EVENT_CURSOR: &str = "e1";

fn bad_cursor() -> ApiError {
    ApiError::field(
        "cursor",
        "not a cursor from this listing; pass next_cursor unchanged",
    )
}

/// List target hosts and their health.
///
/// The targets of the caller's domains, by host and port; for an operator also the hosts the
/// relay keeps health for that no domain uses (such as the mail servers DSNs went to).
#[utoipa::path(
    tag = "targets",
    params(TargetQuery),
    responses((status = 200, description = "One page of targets", body = TargetPage)),
    security(("bearer" = []))
)]
#[get("/targets")]
pub async fn list_targets(
    state: web::Data<AppState>,
    caller: Caller,
    query: ValidQuery<TargetQuery>,
) -> Result<web::Json<TargetPage>, ApiError> {
    let q = query.0;
    let page = PageRequest::new(q.limit, None)?;
    let after = match q.cursor.as_deref() {
        Some(c) => {
            let text = decode_cursor(TARGET_CURSOR, c, "cursor")?;
            let (port, host) = text.split_once(':').ok_or_else(bad_cursor)?;
            Some((
                host.to_owned(),
                port.parse::<i32>().map_err(|_| bad_cursor())?,
            ))
        }
        None => None,
    };
    let visibility = caller.domain_visibility();
    let mut rows = state
        .db(move |conn| {
            let after = after.as_ref().map(|(h, p)| (h.as_str(), *p));
            Ok(queue_admin::list_targets(
                conn,
                &visibility,
                after,
                page.fetch(),
            )?)
        })
        .await?;
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|t| encode_cursor(TARGET_CURSOR, &format!("{}:{}", t.port, t.host)))
    } else {
        None
    };
    Ok(web::Json(TargetPage {
        items: rows.into_iter().map(TargetView::from).collect(),
        next_cursor,
    }))
}

/// A target's up/down timeline.
///
/// Every recorded change of the target's health, newest first. `{host}` is written as in the
/// domain's `target_host` (host name or IP address; it is normalised the same way).
#[utoipa::path(
    tag = "targets",
    params(
        ("host" = String, Path, description = "Target host name or IP address"),
        TargetEventQuery,
    ),
    responses(
        (status = 200, description = "One page of health changes, newest first", body = TargetEventPage),
        (status = 404, description = "None of the caller's domains relays to this host (for an operator: nothing is known about it)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/targets/{host}/events")]
pub async fn target_events(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: ValidQuery<TargetEventQuery>,
) -> Result<web::Json<TargetEventPage>, ApiError> {
    let raw = req.match_info().get("host").unwrap_or_default();
    // A host that could not be any domain's target names nothing this API knows of: 404, as
    // for any other unknown host, with the reason.
    let host = names::normalize_target_host(raw, true)
        .map_err(|e| ApiError::NotFound(format!("no target {raw:?}: {e}")))?;
    let q = query.0;
    let page = PageRequest::new(q.limit, None)?;
    let before = match q.cursor.as_deref() {
        Some(c) => {
            let text = decode_cursor(EVENT_CURSOR, c, "cursor")?;
            let (at, id) = text.split_once(':').ok_or_else(bad_cursor)?;
            let at = at
                .parse::<i64>()
                .ok()
                .and_then(time_from_key)
                .ok_or_else(bad_cursor)?;
            Some((at, id.parse::<i64>().map_err(|_| bad_cursor())?))
        }
        None => None,
    };
    let visibility = caller.domain_visibility();
    let port = q.port;
    let mut rows = state
        .db(move |conn| {
            let ports = queue_admin::target_ports(conn, &visibility, &host, port)?
                .ok_or_else(|| ApiError::NotFound(format!("target {host} not found")))?;
            let ports = match (ports, port) {
                (Some(ports), _) => Some(ports),
                (None, Some(p)) => Some(vec![p]),
                (None, None) => None,
            };
            Ok(queue_admin::target_events(
                conn,
                &host,
                ports.as_deref(),
                before,
                page.fetch(),
            )?)
        })
        .await?;
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|e| encode_cursor(EVENT_CURSOR, &format!("{}:{}", time_key(e.at), e.id)))
    } else {
        None
    };
    Ok(web::Json(TargetEventPage {
        items: rows.into_iter().map(TargetEvent::from).collect(),
        next_cursor,
    }))
}
