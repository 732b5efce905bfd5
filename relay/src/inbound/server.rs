//! The accept loop: connection limits (total and per client IP), one task per session, and
//! graceful shutdown.

use super::reply::Reply;
use super::session::handle_session;
use super::{shutdown_signal, IntakeContext};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long [`Inbound::run`] waits, after shutdown, for sessions to finish their command in
/// progress (a DATA transfer and its commit included) before abandoning them.
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Time given to a refused client to take its `421`.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);

/// A bound SMTP listener.
pub struct Inbound {
    listener: TcpListener,
    ctx: Arc<IntakeContext>,
    grace: Duration,
}

impl Inbound {
    /// Binds `addr` (port 0 picks a free port; see [`Inbound::local_addr`]).
    pub async fn bind(addr: SocketAddr, ctx: Arc<IntakeContext>) -> std::io::Result<Inbound> {
        Ok(Inbound {
            listener: TcpListener::bind(addr).await?,
            ctx,
            grace: DEFAULT_SHUTDOWN_GRACE,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Changes how long [`Inbound::run`] waits for open sessions after shutdown (30 s).
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Inbound {
        self.grace = grace;
        self
    }

    /// Serves until shutdown turns true: then stops accepting, answers 421 to open sessions
    /// (at once when idle, after their current command otherwise), lets in-flight commits
    /// finish (bounded wait), returns.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let config = self.ctx.config.clone();
        let limits = Arc::new(Limits::default());
        let mut sessions = JoinSet::new();
        tracing::info!(addr = ?self.listener.local_addr().ok(), "SMTP intake listening");
        loop {
            tokio::select! {
                _ = shutdown_signal(&mut shutdown) => break,
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::warn!(error = %e, "cannot accept a connection");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    mxspool_telemetry::smtp_connection();
                    let ip = peer.ip().to_canonical();
                    match limits.admit(ip, config.max_connections, config.max_connections_per_ip) {
                        Some(slot) => {
                            let ctx = self.ctx.clone();
                            let shutdown = shutdown.clone();
                            sessions.spawn(async move {
                                let _slot = slot;
                                handle_session(stream, peer, ctx, shutdown).await;
                            });
                        }
                        None => {
                            tracing::info!(peer = %ip, "too many connections; refused");
                            sessions.spawn(refuse(stream, ip, config.hostname.clone()));
                        }
                    }
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
        drop(self.listener);
        tracing::info!(open = sessions.len(), "SMTP intake stopping");
        let drain = async { while sessions.join_next().await.is_some() {} };
        if tokio::time::timeout(self.grace, drain).await.is_err() {
            tracing::warn!(
                abandoned = sessions.len(),
                "sessions still open after the shutdown grace period"
            );
            sessions.abort_all();
            while sessions.join_next().await.is_some() {}
        }
        tracing::info!("SMTP intake stopped");
    }
}

/// Answers a connection over a limit with `421` and closes it.
async fn refuse(mut stream: TcpStream, ip: IpAddr, hostname: String) {
    let reply = Reply::new(
        421,
        "4.7.0",
        format!("{hostname} Error: too many connections from {ip}"),
    );
    let mut wire = Vec::new();
    reply.write_to(&mut wire);
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        stream.write_all(&wire).await?;
        stream.shutdown().await
    })
    .await;
}

/// Open sessions, in total and per client IP.
#[derive(Default)]
struct Limits {
    state: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl Limits {
    /// A slot for one more session from `ip`, or `None` when a limit is reached.
    fn admit(self: &Arc<Self>, ip: IpAddr, max_total: usize, max_per_ip: usize) -> Option<Slot> {
        let mut counts = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let from_ip = counts.per_ip.get(&ip).copied().unwrap_or(0);
        if counts.total >= max_total || from_ip >= max_per_ip {
            return None;
        }
        counts.total += 1;
        counts.per_ip.insert(ip, from_ip + 1);
        Some(Slot {
            limits: self.clone(),
            ip,
        })
    }

    fn release(&self, ip: IpAddr) {
        let mut counts = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_ip.remove(&ip);
            }
        }
    }
}

/// One admitted session; frees its place when dropped (also when the task is aborted).
struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limits.release(self.ip);
    }
}
