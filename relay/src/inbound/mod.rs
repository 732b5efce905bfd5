//! SMTP intake: the relay's port 25.
//!
//! Mail is accepted only for enabled relay domains ([`rcpt`]), kept to the limits of the
//! recipient domains, and answered `250` only once [`crate::spool::Spool::commit`] reports it
//! durable in PostgreSQL ([`data`]). Postfix configured as a backup MX is the yardstick for
//! replies and limits.
//!
//! Where to look: the accept loop and connection limits are in [`server`], the per-connection
//! state machine in [`session`], one file per command (`ehlo`, `mail`, `rcpt`, `data`,
//! `starttls`), the `Received:` header in [`received`], address syntax in [`address`].

mod address;
mod callout;
mod command;
mod conn;
mod data;
mod ehlo;
mod mail;
mod rcpt;
mod received;
mod reply;
mod server;
mod session;
mod starttls;

pub use callout::Callouts;
pub use server::Inbound;
pub use session::handle_session;

use crate::config::RelayConfig;
use crate::domains::DomainTable;
use crate::spool::Spool;
use mxspool_store::PgPool;
use std::sync::Arc;
use tokio::sync::watch;

/// Everything an SMTP session needs, shared by all sessions.
pub struct IntakeContext {
    pub config: Arc<RelayConfig>,
    /// Relay domains, looked up on every RCPT TO.
    pub domains: DomainTable,
    /// Where accepted messages are committed.
    pub spool: Spool,
    /// For recipient lists (`listed` policy) looked up at RCPT time.
    pub pool: PgPool,
    /// STARTTLS is offered only when this is set.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Callout answers of `verify` domains (`Callouts::default()` to start with none).
    pub callouts: Callouts,
}

/// Resolves once `shutdown` is true. If the sender is gone no shutdown can come any more, so
/// it never resolves.
pub(crate) async fn shutdown_signal(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}
