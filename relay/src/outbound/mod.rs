//! Delivery: forwarding queued mail to the relay domains' target hosts (and DSNs to the
//! senders' MX hosts).
//!
//! [`run`] starts, on every relay node:
//! - delivery workers ([`worker`]) that claim due recipients under a lease, group them per
//!   message and target, and deliver each group in one SMTP transaction ([`deliver`] over
//!   reused connections from [`client`]), then record every attempt;
//! - the target prober ([`health`]), which checks targets found down and flushes their queue
//!   the moment one greets again;
//! - housekeeping ([`housekeeping`]): expired leases taken back, mail past its queue lifetime
//!   expired, and DSNs ([`dsn`]) for messages that failed;
//! - a LISTEN connection ([`listen`]) that wakes the workers when another process (intake on
//!   another node, the API) changes the queue.
//!
//! The database is the only channel between nodes; nothing here assumes a single node.
//! Queries run on the blocking pool ([`Engine::db`]), never on the async worker threads.

mod client;
mod deliver;
mod dsn;
mod health;
mod housekeeping;
mod listen;
mod resolve;
mod worker;

pub use dsn::{build_report, Report};

use crate::config::RelayConfig;
use diesel::PgConnection;
use mxspool_store::PgPool;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

/// How long in-flight deliveries may run on after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the delivery side needs from the rest of the relay.
pub struct OutboundContext {
    pub config: Arc<RelayConfig>,
    pub pool: PgPool,
    /// Notified by intake after each commit, so local workers start at once.
    pub wake: Arc<Notify>,
}

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("no database connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// State shared by the delivery tasks of one node.
pub(crate) struct Engine {
    pub(crate) ctx: Arc<OutboundContext>,
    pub(crate) dns: resolve::Dns,
    pub(crate) connections: client::Connections,
    /// Recipients this node claimed and has not yet recorded or released; what is left here
    /// when shutdown gives up on a worker is released so other nodes need not wait for the
    /// lease to run out.
    held: Mutex<HashSet<i64>>,
    /// Held by the one worker of this node that is claiming (see `worker::run`); holds when
    /// the last claim came back short (the due queue was empty), to pace the next one.
    pub(crate) claiming: tokio::sync::Mutex<Option<std::time::Instant>>,
    /// Notified when an operator's flush asks for a down target to be probed now.
    pub(crate) probe_now: Arc<Notify>,
    stop: watch::Receiver<bool>,
}

impl Engine {
    fn new(ctx: Arc<OutboundContext>, stop: watch::Receiver<bool>) -> Engine {
        let dns = resolve::Dns::new(ctx.config.dns_servers.as_deref());
        let connections = client::Connections::new(ctx.config.workers.max(1));
        Engine {
            ctx,
            dns,
            connections,
            held: Mutex::new(HashSet::new()),
            claiming: tokio::sync::Mutex::new(None),
            probe_now: Arc::new(Notify::new()),
            stop,
        }
    }

    pub(crate) fn config(&self) -> &RelayConfig {
        &self.ctx.config
    }

    /// True once shutdown has begun: claim nothing more.
    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves when shutdown begins.
    pub(crate) async fn stopped(&self) {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|s| *s).await;
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub(crate) async fn db<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> diesel::QueryResult<T> + Send + 'static,
    {
        let pool = self.ctx.pool.clone();
        tokio::task::spawn_blocking(move || -> Result<T, DbError> {
            let mut conn = pool.get()?;
            Ok(f(&mut conn)?)
        })
        .await?
    }

    pub(crate) fn hold(&self, ids: impl IntoIterator<Item = i64>) {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(ids);
    }

    pub(crate) fn unhold(&self, ids: impl IntoIterator<Item = i64>) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            held.remove(&id);
        }
    }

    fn take_held(&self) -> Vec<i64> {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect()
    }
}

/// Runs delivery workers, housekeeping (lease reaping, expiry, DSNs) and the target prober
/// until shutdown; on shutdown stops claiming, finishes in-flight deliveries (bounded by a few
/// seconds) and releases what it claimed but did not attempt.
pub async fn run(ctx: Arc<OutboundContext>, mut shutdown: watch::Receiver<bool>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let engine = Arc::new(Engine::new(ctx.clone(), stop_rx));
    let listener =
        listen::Listener::spawn(ctx.pool.clone(), ctx.wake.clone(), engine.probe_now.clone());

    let mut workers = JoinSet::new();
    for n in 0..ctx.config.workers.max(1) {
        workers.spawn(worker::run(engine.clone(), n));
    }
    let housekeeping = tokio::spawn(housekeeping::run(engine.clone()));
    let prober = tokio::spawn(health::run_prober(engine.clone()));
    tracing::info!(
        node = %ctx.config.node_id,
        workers = ctx.config.workers.max(1),
        "delivery started"
    );

    let _ = shutdown.wait_for(|stop| *stop).await;
    tracing::info!("delivery stopping: finishing in-flight deliveries");
    let _ = stop_tx.send(true);

    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while workers.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!("in-flight deliveries did not finish in time; abandoning them");
        workers.abort_all();
        while workers.join_next().await.is_some() {}
    }
    housekeeping.abort();
    prober.abort();

    let leftovers = engine.take_held();
    if !leftovers.is_empty() {
        let owner = ctx.config.node_id.clone();
        let count = leftovers.len();
        let released = engine
            .db(move |conn| mxspool_store::queue::release(conn, &owner, &leftovers))
            .await;
        match released {
            Ok(n) => tracing::info!(
                claimed = count,
                released = n,
                "released unattempted recipients"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not release claimed recipients; their lease will run out")
            }
        }
    }
    listener.stop();
    engine.connections.close_all().await;
    tracing::info!("delivery stopped");
}
