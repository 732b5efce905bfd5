//! The `mxspool` binary's library: command line, configuration, the embedded PostgreSQL and
//! start-up. Everything testable lives here; `main.rs` only calls [`cli::main`].

pub mod admin;
pub mod cli;
pub mod config;
pub mod embedded_pg;
pub mod server;
pub mod telemetry;
