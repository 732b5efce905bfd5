//! Real network peers for mxspool's tests and benchmarks, on loopback: an SMTP server that
//! records what it receives and answers as told ([`SinkServer`]), and a DNS server serving the
//! MX and address records a test describes ([`DnsServer`], [`Zone`]).

pub mod dns;
pub mod smtp;

pub use dns::{DnsServer, Zone};
pub use smtp::{Received, SinkServer};
