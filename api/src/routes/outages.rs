//! `/domains/{id}/outages`: each period the domain's target was down and what became of the
//! mail received meanwhile — the report a customer asks for after an incident.
//!
//! The outages are those of the domain's *current* target (host and port): after a change of
//! target, the old target's outages are no longer listed. What is counted and what it costs is
//! in [`mxspool_store::outages`]. Visibility is that of every domain endpoint: a domain the
//! caller may not see answers 404.

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{path_id, ValidQuery};
use crate::pagination::PageRequest;
use crate::routes::queue::{decode_cursor, encode_cursor, time_from_key, time_key};
use crate::state::AppState;
use actix_web::{get, web, HttpRequest};
use chrono::{DateTime, Utc};
use mxspool_store::domains;
use mxspool_store::outages::{self, OutageQuery, OutageRow};
use mxspool_store::DomainId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// One period the domain's target was down, and the domain's mail received during it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 311, "started_at": "2026-11-28T09:58:00Z", "ended_at": "2026-11-28T10:41:30Z",
    "ongoing": false, "duration_seconds": 2610.0,
    "reason": "connection refused (203.0.113.25:25)",
    "messages": 42, "recipients": 57, "delivered": 55, "bounced": 1, "expired": 0,
    "pending": 1, "max_delay_seconds": 2583.4
}))]
pub struct Outage {
    /// Id of the target event that began the outage.
    pub id: i64,
    /// When the relay found the target down.
    pub started_at: DateTime<Utc>,
    /// When the target answered again; `null` while it is still down.
    pub ended_at: Option<DateTime<Utc>>,
    /// The target is still down.
    pub ongoing: bool,
    /// From start to end, or to now while the outage lasts.
    pub duration_seconds: f64,
    /// The error that took the target down.
    pub reason: Option<String>,
    /// Messages received for the domain during the outage (at or after its start, before its
    /// end).
    pub messages: i64,
    /// The domain's recipients of those messages; the counts below are of recipients.
    pub recipients: i64,
    /// Recipients delivered since.
    pub delivered: i64,
    /// Recipients the target refused permanently (a DSN went to the sender).
    pub bounced: i64,
    /// Recipients whose queue lifetime ran out before they could be delivered.
    pub expired: i64,
    /// Recipients still in the queue (waiting, held or being delivered).
    pub pending: i64,
    /// Longest time a recipient waited: from receipt to delivery (to the bounce or expiry for
    /// those; to now for those still in the queue). `null` when no mail came in.
    pub max_delay_seconds: Option<f64>,
}

impl From<OutageRow> for Outage {
    fn from(r: OutageRow) -> Self {
        let end = r.ended_at.unwrap_or(r.now);
        let duration = (end - r.started_at)
            .to_std()
            .map_or(0.0, |d| d.as_secs_f64());
        Outage {
            id: r.id,
            started_at: r.started_at,
            ended_at: r.ended_at,
            ongoing: r.ended_at.is_none(),
            duration_seconds: duration,
            reason: r.reason,
            messages: r.messages,
            recipients: r.recipients,
            delivered: r.delivered,
            bounced: r.bounced,
            expired: r.expired,
            pending: (r.recipients - r.delivered - r.bounced - r.expired).max(0),
            max_delay_seconds: r.max_delay_seconds.map(|s| s.max(0.0)),
        }
    }
}

/// One page of a domain's outage report, newest outage first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "domain_id": 12, "target_host": "mail.customer.example", "target_port": 25,
    "items": [{
        "id": 311, "started_at": "2026-11-28T09:58:00Z", "ended_at": "2026-11-28T10:41:30Z",
        "ongoing": false, "duration_seconds": 2610.0,
        "reason": "connection refused (203.0.113.25:25)",
        "messages": 42, "recipients": 57, "delivered": 55, "bounced": 1, "expired": 0,
        "pending": 1, "max_delay_seconds": 2583.4
    }],
    "next_cursor": null
}))]
pub struct OutageReport {
    pub domain_id: DomainId,
    /// The domain's current target, whose outages these are.
    pub target_host: String,
    pub target_port: i32,
    pub items: Vec<Outage>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Time range and paging of `GET /domains/{id}/outages`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutageQueryParams {
    /// Only outages going on at or after this time: ended after it, or not ended (RFC 3339,
    /// e.g. `2026-11-28T00:00:00Z`).
    pub since: Option<DateTime<Utc>>,
    /// Only outages that began before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const OUTAGE_CURSOR: &str = "o1";

fn bad_cursor() -> ApiError {
    ApiError::field(
        "cursor",
        "not a cursor from this listing; pass next_cursor unchanged",
    )
}

/// A relay domain's outage report.
///
/// Each period the domain's current target was down, newest first: when it started and
/// ended (`null` while the target is still down), how long it lasted, the messages received
/// for the domain meanwhile, and what became of their recipients (delivered, bounced, expired,
/// still pending) with the longest delay any of them saw. Outages of a target the domain used
/// before a change of target are not listed.
#[utoipa::path(
    tag = "domains",
    params(
        ("id" = i64, Path, description = "Domain id"),
        OutageQueryParams,
    ),
    responses(
        (status = 200, description = "One page of outages, newest first", body = OutageReport),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/domains/{id}/outages")]
pub async fn domain_outages(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: ValidQuery<OutageQueryParams>,
) -> Result<web::Json<OutageReport>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let q = query.0;
    if let (Some(since), Some(until)) = (q.since, q.until) {
        if since > until {
            return Err(ApiError::field("until", "must not be before since"));
        }
    }
    let page = PageRequest::new(q.limit, None)?;
    let before = match q.cursor.as_deref() {
        Some(c) => {
            let text = decode_cursor(OUTAGE_CURSOR, c, "cursor")?;
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
    let (domain, mut rows) = state
        .db(move |conn| {
            let domain = domains::find_visible(conn, &caller.domain_visibility(), id).map_err(
                |e| match e {
                    diesel::result::Error::NotFound => {
                        ApiError::NotFound(format!("domain {id} not found"))
                    }
                    other => other.into(),
                },
            )?;
            let rows = outages::domain_outages(
                conn,
                &OutageQuery {
                    domain: id,
                    host: &domain.target_host,
                    port: domain.target_port,
                    since: q.since,
                    until: q.until,
                    before,
                    limit: page.fetch(),
                },
            )?;
            Ok((domain, rows))
        })
        .await?;
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|o| {
            encode_cursor(
                OUTAGE_CURSOR,
                &format!("{}:{}", time_key(o.started_at), o.id),
            )
        })
    } else {
        None
    };
    Ok(web::Json(OutageReport {
        domain_id: id,
        target_host: domain.target_host,
        target_port: domain.target_port,
        items: rows.into_iter().map(Outage::from).collect(),
        next_cursor,
    }))
}
