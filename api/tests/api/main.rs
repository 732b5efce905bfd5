//! End-to-end tests of the control API: each test starts the real server on a free loopback
//! port with its own database and talks to it over HTTP.

mod helpers;

mod accounts;
mod api_keys;
mod auth;
mod dns;
mod domains;
mod errors;
mod health;
mod metrics;
mod openapi;
mod outages;
mod queue;
mod recipients;
mod targets;
mod webhooks;
mod whitelist;
