//! Shared state of the API workers and the one way handlers reach the database.

use crate::auth::rate_limit::LoginLimiter;
use crate::auth::tokens::TokenKeys;
use crate::error::ApiError;
use actix_web::web;
use mxspool_store::{PgConnection, PgPool};
use std::num::NonZeroU32;
use std::time::Duration;

/// Settings of the control API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The backup MX host name customers publish (MXSPOOL_HOSTNAME).
    pub hostname: String,
    /// HS256 secret for access tokens.
    pub jwt_secret: String,
    /// Accept loopback/private target hosts (tests, labs).
    pub allow_private_targets: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub login_attempts_per_ip_per_minute: NonZeroU32,
    pub login_attempts_per_account_per_minute: NonZeroU32,
    /// HTTP worker threads.
    pub workers: usize,
    /// Nameservers for live DNS checks and PTR lookups; `None`: the system resolver.
    pub dns_servers: Option<Vec<std::net::SocketAddr>>,
    /// The relay's outgoing addresses (MXSPOOL_EGRESS_IPS); empty: the addresses of `hostname`.
    pub egress_ips: Vec<std::net::IpAddr>,
    /// Sending and retrying webhooks.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// Bearer token that `GET /metrics` requires (MXSPOOL_METRICS_TOKEN); `None`: 404.
    pub metrics_token: Option<String>,
}

impl ApiConfig {
    /// Defaults from DESIGN.md (15 min access tokens, 30 d refresh tokens).
    pub fn new(hostname: String, jwt_secret: String) -> Self {
        ApiConfig {
            hostname,
            jwt_secret,
            allow_private_targets: false,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            login_attempts_per_ip_per_minute: NonZeroU32::MIN.saturating_add(29),
            login_attempts_per_account_per_minute: NonZeroU32::MIN.saturating_add(9),
            workers: 2,
            dns_servers: None,
            egress_ips: Vec::new(),
            webhooks: crate::webhooks::WebhookConfig::default(),
            metrics_token: None,
        }
    }
}

/// What every handler can reach.
pub struct AppState {
    pub pool: PgPool,
    pub config: ApiConfig,
    pub keys: TokenKeys,
    pub login_limiter: LoginLimiter,
}

impl AppState {
    pub fn new(pool: PgPool, config: ApiConfig) -> Self {
        AppState {
            keys: TokenKeys::new(config.jwt_secret.as_bytes()),
            login_limiter: LoginLimiter::new(
                config.login_attempts_per_ip_per_minute,
                config.login_attempts_per_account_per_minute,
            ),
            pool,
            config,
        }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, never on the async
    /// workers (diesel is synchronous).
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}
