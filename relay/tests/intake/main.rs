//! SMTP intake tests: sessions over an in-memory stream (command by command), and the real
//! listener on a loopback port driven by lettre and by raw TCP/TLS clients. Every test has its
//! own fresh PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod commands;
mod data;
mod database;
mod limits;
mod policies;
mod recipients;
mod relay_control;
mod tcp;
mod tls;
