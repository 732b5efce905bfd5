//! The relay as one unit: domain table, STARTTLS, group-commit spool, SMTP intake and
//! delivery, built from a [`RelayConfig`] and a database pool and run until shutdown.

use crate::domains::DomainTable;
use crate::inbound::{Inbound, IntakeContext};
use crate::outbound::{self, OutboundContext};
use crate::spool::Spool;
use crate::RelayConfig;
use mxspool_store::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("loading the relay domains: {0}")]
    Domains(String),
    #[error("STARTTLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A bound relay, not yet serving.
pub struct Relay {
    inbound: Inbound,
    outbound: Arc<OutboundContext>,
    domains: DomainTable,
    pool: PgPool,
}

/// Messages one spool transaction may carry.
const SPOOL_BATCH: usize = 128;
/// Spool writer threads (each holds a connection while committing).
pub const SPOOL_WRITERS: usize = 2;

impl Relay {
    /// Loads the domain table, prepares STARTTLS, starts the spool writers and binds the
    /// SMTP listener on `addr` (port 0 picks a free port). Intake commits and recipient
    /// lookups use `intake_pool`, delivery and housekeeping `pool`: however busy delivery is,
    /// it cannot take the connections intake needs to answer 250.
    pub async fn build(
        config: RelayConfig,
        pool: PgPool,
        intake_pool: PgPool,
        addr: SocketAddr,
    ) -> Result<Relay, RelayError> {
        let config = Arc::new(config);
        let domains = DomainTable::default();
        {
            let domains = domains.clone();
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                domains.refresh(&mut conn).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| RelayError::Domains(e.to_string()))?
            .map_err(RelayError::Domains)?;
        }
        let tls = crate::tls::acceptor(&config)?;
        let wake = Arc::new(Notify::new());
        let spool = Spool::start(
            intake_pool.clone(),
            SPOOL_WRITERS,
            SPOOL_BATCH,
            wake.clone(),
        );
        let intake = Arc::new(IntakeContext {
            config: config.clone(),
            domains: domains.clone(),
            spool,
            pool: intake_pool,
            tls: Some(tls),
            callouts: Default::default(),
        });
        let inbound = Inbound::bind(addr, intake)
            .await
            .map_err(|source| RelayError::Listen { addr, source })?;
        let outbound = Arc::new(OutboundContext {
            config,
            pool: pool.clone(),
            wake,
        });
        Ok(Relay {
            inbound,
            outbound,
            domains,
            pool,
        })
    }

    /// The SMTP address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inbound.local_addr()
    }

    /// Serves SMTP and delivers until `shutdown` turns true, then stops intake (421 to open
    /// sessions, in-flight commits finished) and delivery (in-flight attempts finished).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let watcher = tokio::spawn(self.domains.watch(self.pool, shutdown.clone()));
        let delivery = tokio::spawn(outbound::run(self.outbound, shutdown.clone()));
        self.inbound.run(shutdown).await;
        let _ = delivery.await;
        let _ = watcher.await;
    }
}
