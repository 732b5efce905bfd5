//! Liveness and readiness probes for orchestrators and load balancers.

use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Probe result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    pub status: String,
    /// `/readyz`: `ok` once the database answered and has every migration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// `/readyz`: delivery workers of the relay running in this process; absent when this
    /// process runs no relay (`mxspool api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_workers: Option<u64>,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, description = "Up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".to_owned(),
        database: None,
        relay_workers: None,
    })
}

/// Ready: the database answers with every migration, and this process's relay (if any) runs.
///
/// The body names the database and the relay's delivery workers; a stopped relay answers 503.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or not migrated, or the relay in this process stopped", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    let pending = state
        .db(|conn| {
            mxspool_store::pool::has_pending_migrations(conn)
                .map_err(|e| ApiError::Unavailable(format!("cannot read migrations: {e}")))
        })
        .await?;
    if pending {
        return Err(ApiError::Unavailable(
            "the database lacks migrations; run `mxspool migrate`".to_owned(),
        ));
    }
    let relay_workers = mxspool_telemetry::relay_workers();
    if relay_workers == Some(0) {
        return Err(ApiError::Unavailable(
            "the relay's delivery workers are not running".to_owned(),
        ));
    }
    Ok(web::Json(Health {
        status: "ok".to_owned(),
        database: Some("ok".to_owned()),
        relay_workers,
    }))
}
