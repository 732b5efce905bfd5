//! Start-up and shutdown of the long-running subcommands: database (embedded or external),
//! migrations, first-start bootstrap, then the API and/or the relay until a signal.

use crate::config::Config;
use crate::embedded_pg::EmbeddedPostgres;
use anyhow::Context;
use mxspool_api::bootstrap;
use mxspool_store::{build_pool, PgPool};
use std::time::{Duration, Instant};

/// Which parts of mxspool a process runs.
#[derive(Debug, Clone, Copy)]
pub struct Components {
    pub api: bool,
    pub relay: bool,
}

impl Components {
    pub const ALL: Components = Components {
        api: true,
        relay: true,
    };
    pub const API: Components = Components {
        api: true,
        relay: false,
    };
    pub const RELAY: Components = Components {
        api: false,
        relay: true,
    };
    /// Database preparation only (`mxspool migrate`).
    pub const NONE: Components = Components {
        api: false,
        relay: false,
    };
}

/// Runs until SIGINT/SIGTERM (or, with [`Components::NONE`], until migrations are applied).
pub fn run(config: &Config, components: Components) -> anyhow::Result<()> {
    let mut embedded = None;
    let database_url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            let pg = EmbeddedPostgres::start(&config.data_dir)
                .context("starting the embedded PostgreSQL (set DATABASE_URL to use your own)")?;
            tracing::info!(data_dir = %pg.data_dir().display(), "embedded PostgreSQL is running");
            let url = pg.database_url();
            embedded = Some(pg);
            url
        }
    };
    let pool = build_pool(&database_url, config.db_pool_size);
    prepare_database(&pool)?;
    let result = if components.api || components.relay {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(serve(config, components, pool, &database_url))
    } else {
        Ok(())
    };
    if let Some(mut pg) = embedded {
        if let Err(e) = pg.stop() {
            tracing::warn!(error = %e, "stopping the embedded PostgreSQL");
        }
    }
    result
}

/// Waits up to 30 s for the database, then applies pending migrations.
fn prepare_database(pool: &PgPool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        match pool.get() {
            Ok(conn) => break conn,
            Err(e) if Instant::now() < deadline => {
                tracing::warn!(error = %e, "database not reachable yet; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => return Err(e).context("cannot connect to the database (DATABASE_URL)"),
        }
    };
    let applied = mxspool_store::pool::run_migrations(&mut conn)
        .map_err(|e| anyhow::anyhow!("applying database migrations: {e}"))?;
    if applied.is_empty() {
        tracing::info!("database schema is up to date");
    } else {
        tracing::info!(?applied, "applied database migrations");
    }
    Ok(())
}

async fn serve(
    config: &Config,
    components: Components,
    pool: PgPool,
    database_url: &str,
) -> anyhow::Result<()> {
    let (stop_relay, relay_stopped) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut api_handle = None;
    let mut lines = Vec::new();

    if components.api {
        let (secret, admin) = {
            let pool = pool.clone();
            let configured = config.jwt_secret.clone();
            let email = config.admin_email.clone();
            let password = config.admin_password.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let mut conn = pool.get()?;
                let secret = bootstrap::jwt_secret(&mut conn, configured.as_deref())?;
                let admin = bootstrap::ensure_admin(&mut conn, &email, password.as_deref())?;
                Ok((secret, admin))
            })
            .await??
        };
        let listener = std::net::TcpListener::bind(config.http_addr)
            .with_context(|| format!("cannot listen on MXSPOOL_HTTP_ADDR {}", config.http_addr))?;
        let mut api_config = mxspool_api::ApiConfig::new(config.hostname.clone(), secret);
        api_config.allow_private_targets = config.allow_private_targets;
        api_config.workers = config.http_workers;
        api_config.dns_servers = config.dns_servers.clone();
        api_config.egress_ips = config.egress_ips.clone();
        api_config.metrics_token = config.metrics_token.clone();
        let app = mxspool_api::Application::build(api_config, pool.clone(), listener)?;
        let base = format!(
            "http://{}",
            std::net::SocketAddr::new(config.http_addr.ip(), app.port())
        );
        lines.push(format!("API:        {base}/api/v1"));
        lines.push(format!("Swagger UI: {base}/swagger-ui/"));
        lines.push(format!(
            "OpenAPI:    {base}{}",
            mxspool_api::openapi::SPEC_PATH
        ));
        if let Some(admin) = admin {
            match admin.generated_password {
                Some(password) => lines.push(format!(
                    "\nFirst start: created the operator account\n  e-mail:   {}\n  password: {password}\n\
                     The password is shown only this once; change it with PATCH /api/v1/accounts/{{id}}.",
                    admin.email
                )),
                None => lines.push(format!(
                    "\nFirst start: created the operator account {} with MXSPOOL_ADMIN_PASSWORD.",
                    admin.email
                )),
            }
        }
        api_handle = Some(app.handle());
        tasks.spawn(async move { app.run_until_stopped().await.context("HTTP server") });
    }

    if components.relay {
        let relay = mxspool_relay::Relay::build(
            relay_config(config),
            pool.clone(),
            build_pool(database_url, INTAKE_CONNECTIONS),
            config.smtp_addr,
        )
        .await
        .map_err(|e| match e {
            mxspool_relay::RelayError::Listen { addr, source } => {
                anyhow::anyhow!("cannot listen on MXSPOOL_SMTP_ADDR {addr}: {source}")
            }
            other => anyhow::anyhow!("starting the relay: {other}"),
        })?;
        let smtp_addr = relay.local_addr()?;
        lines.insert(0, format!("SMTP:       {smtp_addr}"));
        mxspool_telemetry::set_relay_workers(config.relay_workers);
        tasks.spawn(async move {
            relay.run(relay_stopped).await;
            mxspool_telemetry::set_relay_workers(0);
            Ok(())
        });
    }

    if !config.hostname.contains('.') {
        tracing::warn!(hostname = %config.hostname,
            "MXSPOOL_HOSTNAME is not a fully qualified name; set it to the backup MX's public host name");
    }
    println!(
        "mxspool {} is running\n{}",
        env!("CARGO_PKG_VERSION"),
        lines.join("\n")
    );
    tracing::info!("started");

    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down"),
        Some(result) = tasks.join_next() => {
            // A component ended on its own: that is a failure; stop the rest.
            let _ = stop_relay.send(true);
            if let Some(handle) = &api_handle {
                handle.stop(true).await;
            }
            return result?.and_then(|()| Err(anyhow::anyhow!("a component stopped unexpectedly")));
        }
    }
    let _ = stop_relay.send(true);
    if let Some(handle) = api_handle {
        handle.stop(true).await;
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok(())
}

/// Connections reserved for SMTP intake: spool writers plus recipient lookups.
const INTAKE_CONNECTIONS: u32 = mxspool_relay::service::SPOOL_WRITERS as u32 + 4;

/// The relay's settings from the process configuration.
fn relay_config(config: &Config) -> mxspool_relay::RelayConfig {
    use mxspool_relay::config::{BouncePolicy, TlsFiles};
    let mut relay = mxspool_relay::RelayConfig::new(config.hostname.clone());
    relay.max_connections = config.max_connections;
    relay.max_connections_per_ip = config.max_connections_per_ip;
    relay.tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    relay.lease = Duration::from_secs(config.lease_seconds);
    relay.workers = config.relay_workers;
    if let Some(schedule) = &config.retry_schedule {
        relay.retry_schedule = schedule.iter().map(|s| Duration::from_secs(*s)).collect();
    }
    relay.probe_initial = Duration::from_secs_f64(config.probe_interval_seconds);
    relay.probe_max = Duration::from_secs_f64(config.probe_max_seconds);
    relay.bounces = if config.bounces_log_only {
        BouncePolicy::Log
    } else {
        BouncePolicy::Send
    };
    relay.dns_servers = config.dns_servers.clone();
    relay.mx_port = config.mx_port;
    relay.allow_private_targets = config.allow_private_targets;
    relay
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops mxspool");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
