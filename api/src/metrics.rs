//! `GET /metrics`: the process-local counters of [`mxspool_telemetry`] (SMTP intake when the
//! relay runs in this process, HTTP requests) plus figures read from the database at scrape
//! time, so every API process reports the same queue whichever relay nodes fill it.
//!
//! Cost of one scrape (each query bounded, none scans the delivery history):
//! - queue depth by state: one index-only count per active state on `deliveries_state_idx`,
//!   capped at [`COUNT_CAP`] rows per state;
//! - queue depth by domain: the active rows (at most [`COUNT_CAP`]) grouped by domain; the
//!   [`TOP_DOMAINS`] deepest domains get their own label, the rest is summed as `other`;
//! - oldest queued age: `min(id)` per active state on the same index, then one row each;
//! - delivery outcomes: attempts of the last [`OUTCOME_WINDOW_MINUTES`] minutes, read per
//!   domain on `delivery_attempts_domain_idx` (domain, started_at);
//! - targets: the `targets` table (one row per target host), per-target gauges for at most
//!   [`TOP_TARGETS`] targets, down ones first.

use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use mxspool_store::PgPool;
use mxspool_telemetry::{family, sample};

/// Most rows counted per state or domain aggregation; a deeper queue reads as this figure.
pub const COUNT_CAP: i64 = 1_000_000;
/// Domains that get their own `domain` label in the depth by domain.
pub const TOP_DOMAINS: i64 = 20;
/// Targets that get their own `mxspool_target_up` series.
pub const TOP_TARGETS: i64 = 100;
/// Window of `mxspool_delivery_attempts_recent`.
pub const OUTCOME_WINDOW_MINUTES: i32 = 5;

#[derive(QueryableByName)]
struct StateCount {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct DomainCount {
    #[diesel(sql_type = Text)]
    domain: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Age {
    #[diesel(sql_type = Nullable<Double>)]
    seconds: Option<f64>,
}

#[derive(QueryableByName)]
struct Target {
    #[diesel(sql_type = Text)]
    host: String,
    #[diesel(sql_type = Integer)]
    port: i32,
    #[diesel(sql_type = Text)]
    state: String,
}

/// Appends the database figures in the Prometheus text format.
pub fn render_database(conn: &mut PgConnection, out: &mut String) -> diesel::QueryResult<()> {
    let states = diesel::sql_query(
        "SELECT s.state, (SELECT count(*) FROM (SELECT 1 FROM deliveries d \
           WHERE d.state = s.state LIMIT $1) capped) AS n \
         FROM unnest(ARRAY['queued', 'deferred', 'delivering', 'held']) AS s(state)",
    )
    .bind::<BigInt, _>(COUNT_CAP)
    .load::<StateCount>(conn)?;
    family(
        out,
        "mxspool_queue_depth",
        "gauge",
        "Recipients in the queue by state (counted up to 1000000 per state).",
    );
    for s in &states {
        sample(
            out,
            "mxspool_queue_depth",
            &[("state", &s.state)],
            s.n as f64,
        );
    }

    let domains = diesel::sql_query(
        "WITH active AS (SELECT domain_id FROM deliveries \
             WHERE state IN ('queued', 'deferred', 'delivering', 'held') LIMIT $1), \
         per AS (SELECT domain_id, count(*) AS n FROM active GROUP BY domain_id), \
         ranked AS (SELECT domain_id, n, row_number() OVER (ORDER BY n DESC, domain_id) AS r FROM per) \
         SELECT CASE WHEN r <= $2 THEN coalesce(d.name, '(none)') ELSE 'other' END AS domain, \
                sum(n)::int8 AS n \
         FROM ranked LEFT JOIN relay_domains d ON d.id = ranked.domain_id \
         GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .bind::<BigInt, _>(COUNT_CAP)
    .bind::<BigInt, _>(TOP_DOMAINS)
    .load::<DomainCount>(conn)?;
    family(
        out,
        "mxspool_queue_depth_by_domain",
        "gauge",
        "Recipients queued, deferred, delivering or held per domain: the 20 deepest domains, \
         the rest as domain=\"other\"; \"(none)\" holds bounces to senders.",
    );
    for d in &domains {
        sample(
            out,
            "mxspool_queue_depth_by_domain",
            &[("domain", &d.domain)],
            d.n as f64,
        );
    }

    let age = diesel::sql_query(
        "SELECT extract(epoch FROM now() - min(d.created_at))::float8 AS seconds \
         FROM deliveries d WHERE d.id IN ( \
           SELECT (SELECT min(id) FROM deliveries x WHERE x.state = s.state) \
           FROM unnest(ARRAY['queued', 'deferred', 'held']) AS s(state))",
    )
    .get_result::<Age>(conn)?;
    family(
        out,
        "mxspool_queue_oldest_age_seconds",
        "gauge",
        "Age of the oldest recipient waiting (queued, deferred or held); 0 when none waits.",
    );
    sample(
        out,
        "mxspool_queue_oldest_age_seconds",
        &[],
        age.seconds.unwrap_or(0.0).max(0.0),
    );

    let outcomes = diesel::sql_query(
        "SELECT o.outcome AS state, count(a.outcome) AS n \
         FROM unnest(ARRAY['delivered', 'deferred', 'bounced']) AS o(outcome) \
         LEFT JOIN ( \
           SELECT x.outcome FROM relay_domains d CROSS JOIN LATERAL ( \
             SELECT outcome FROM delivery_attempts a WHERE a.domain_id = d.id \
               AND a.started_at > now() - make_interval(mins => $1)) x \
           UNION ALL \
           SELECT outcome FROM delivery_attempts a WHERE a.domain_id IS NULL \
               AND a.started_at > now() - make_interval(mins => $1) \
         ) a ON a.outcome = o.outcome GROUP BY o.outcome ORDER BY o.outcome",
    )
    .bind::<Integer, _>(OUTCOME_WINDOW_MINUTES)
    .load::<StateCount>(conn)?;
    family(
        out,
        "mxspool_delivery_attempts_recent",
        "gauge",
        "Delivery attempts of the last 5 minutes by outcome (delivered, deferred, bounced).",
    );
    for o in &outcomes {
        sample(
            out,
            "mxspool_delivery_attempts_recent",
            &[("outcome", &o.state)],
            o.n as f64,
        );
    }

    let by_state = diesel::sql_query(
        "SELECT s.state, (SELECT count(*) FROM targets t WHERE t.state = s.state) AS n \
         FROM unnest(ARRAY['up', 'down', 'unknown']) AS s(state)",
    )
    .load::<StateCount>(conn)?;
    family(
        out,
        "mxspool_targets",
        "gauge",
        "Target hosts by health state (up, down, unknown: not probed yet).",
    );
    for s in &by_state {
        sample(out, "mxspool_targets", &[("state", &s.state)], s.n as f64);
    }
    let targets = diesel::sql_query(
        "SELECT host, port, state FROM targets \
         ORDER BY (state = 'down') DESC, host, port LIMIT $1",
    )
    .bind::<BigInt, _>(TOP_TARGETS)
    .load::<Target>(conn)?;
    family(
        out,
        "mxspool_target_up",
        "gauge",
        "1 when the target host answers, 0 when down or not probed yet (100 targets at most, \
         down ones first).",
    );
    for t in &targets {
        let target = format!("{}:{}", t.host, t.port);
        let up = if t.state == "up" { 1.0 } else { 0.0 };
        sample(out, "mxspool_target_up", &[("target", &target)], up);
    }
    Ok(())
}

/// Connections of the API's database pool.
pub fn render_pool(pool: &PgPool, out: &mut String) {
    let state = pool.state();
    family(
        out,
        "mxspool_db_pool_connections",
        "gauge",
        "Database connections of the API's pool by state (idle, in_use) and its maximum (max).",
    );
    let idle = f64::from(state.idle_connections);
    let open = f64::from(state.connections);
    sample(
        out,
        "mxspool_db_pool_connections",
        &[("state", "idle")],
        idle,
    );
    sample(
        out,
        "mxspool_db_pool_connections",
        &[("state", "in_use")],
        open - idle,
    );
    sample(
        out,
        "mxspool_db_pool_connections",
        &[("state", "max")],
        f64::from(pool.max_size()),
    );
}

/// `GET /metrics` (outside `/api/v1` and the OpenAPI spec): `Authorization: Bearer
/// <MXSPOOL_METRICS_TOKEN>` required; 404 when no token is configured, so an API exposed to
/// customers does not reveal operational figures by default.
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: actix_web::web::Data<crate::state::AppState>,
) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    use crate::error::ApiError;
    let Some(expected) = state.config.metrics_token.clone() else {
        return Err(ApiError::NotFound(
            "no such endpoint: /metrics (set MXSPOOL_METRICS_TOKEN to enable it)".to_owned(),
        ));
    };
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(presented) = presented else {
        return Err(ApiError::MissingCredentials(
            "GET /metrics needs `Authorization: Bearer <MXSPOOL_METRICS_TOKEN>`".to_owned(),
        ));
    };
    if !same_secret(presented.trim().as_bytes(), expected.as_bytes()) {
        return Err(ApiError::Unauthorized(
            "the metrics token is not MXSPOOL_METRICS_TOKEN".to_owned(),
        ));
    }
    let mut out = String::new();
    mxspool_telemetry::render(&mut out);
    render_pool(&state.pool, &mut out);
    let body = state
        .db(move |conn| {
            render_database(conn, &mut out)
                .map_err(|e| ApiError::Unavailable(format!("cannot read queue figures: {e}")))?;
            Ok(out)
        })
        .await?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

/// Compares without stopping at the first differing byte.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
