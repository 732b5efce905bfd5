//! mxspool's SMTP side: intake accepts mail for relay domains and commits it to the
//! PostgreSQL queue before answering 250 ([`inbound`], [`spool`]); delivery workers claim due
//! recipients under a lease and forward them to the domains' target hosts ([`outbound`]).
//! The database is the only channel to the API and to other relay nodes.

pub mod config;
pub mod domains;
pub mod inbound;
pub mod outbound;
pub mod service;
pub mod spool;
pub mod tls;

pub use config::RelayConfig;
pub use service::{Relay, RelayError};
