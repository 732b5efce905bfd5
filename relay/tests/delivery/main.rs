//! Delivery tests: the real `outbound::run` on a fresh PostgreSQL database per test, real
//! SMTP targets (test sinks on loopback ports), a real DNS server for the senders' MX and a
//! sink behind it receiving the DSNs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod claims;
mod delivered;
mod dsn;
mod health;
mod leases;
mod outages;
mod outcomes;
mod parking;
mod renewal;
mod source_ip;
mod throughput;
mod tls;
mod wakeup;
