//! mxspool's control API: relay domains, accounts, API keys, and (with the relay) the queue,
//! as JSON under `/api/v1`, described by an OpenAPI spec served beside Swagger UI.

pub mod auth;
pub mod bootstrap;
pub mod dns_check;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod resolver;
pub mod routes;
pub mod startup;
pub mod state;
pub mod webhooks;
pub mod whitelist;

pub use startup::Application;
pub use state::{ApiConfig, AppState};
