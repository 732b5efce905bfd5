//! mxspool's PostgreSQL layer: the diesel schema, one model module per table group, and
//! plain query functions taking `&mut PgConnection`. The API and the relay share it; the
//! database is the only channel between them.

pub mod accounts;
pub mod api_keys;
pub mod domains;
pub mod ids;
pub mod kinds;
pub mod names;
pub mod outages;
pub mod pool;
pub mod queue;
pub mod queue_admin;
pub mod recipients;
pub mod refresh_tokens;
pub mod schema;
pub mod settings;
pub mod targets;
pub mod webhooks;
pub mod whitelist;

pub use diesel::PgConnection;
pub use ids::{AccountId, ApiKeyId, DomainId, MessageId};
pub use pool::{build_pool, PgPool, PooledConn};
