//! Connection pool and embedded migrations.

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

/// The r2d2 pool every component draws connections from.
pub type PgPool = Pool<ConnectionManager<PgConnection>>;
/// One connection checked out of [`PgPool`].
pub type PooledConn = PooledConnection<ConnectionManager<PgConnection>>;

/// The SQL migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Builds a pool without opening connections eagerly, so start-up errors come from
/// [`check_connection`] with a clear message rather than from r2d2's retry loop.
pub fn build_pool(database_url: &str, max_size: u32) -> PgPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(true)
        .build_unchecked(ConnectionManager::new(database_url))
}

/// Error from applying or inspecting migrations.
pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration; returns the versions applied.
pub fn run_migrations(conn: &mut PgConnection) -> Result<Vec<String>, MigrationError> {
    let applied = conn.run_pending_migrations(MIGRATIONS)?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// True when the database lacks a migration this binary knows about.
pub fn has_pending_migrations(conn: &mut PgConnection) -> Result<bool, MigrationError> {
    conn.has_pending_migration(MIGRATIONS)
}
