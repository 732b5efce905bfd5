//! First-start set-up kept in the database: the JWT secret and the bootstrap operator.

use crate::auth::{password, secrets};
use mxspool_store::accounts::{self, NewAccount};
use mxspool_store::kinds::Role;
use mxspool_store::{settings, PgConnection};

/// Settings key of the generated JWT secret.
const JWT_SECRET_KEY: &str = "jwt_secret";

/// The configured JWT secret, or the one generated on first start and kept in the database so
/// that tokens survive restarts and every node signs alike.
pub fn jwt_secret(
    conn: &mut PgConnection,
    configured: Option<&str>,
) -> diesel::QueryResult<String> {
    match configured {
        Some(secret) => Ok(secret.to_owned()),
        None => settings::get_or_insert(conn, JWT_SECRET_KEY, &secrets::random_jwt_secret()),
    }
}

/// An operator account created at start-up.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub email: String,
    /// Present when it was generated (to be printed once); `None` when configured.
    pub generated_password: Option<String>,
}

/// Errors of [`ensure_admin`].
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("hashing the password: {0}")]
    Hash(String),
    #[error("MXSPOOL_ADMIN_PASSWORD is too short: use at least 12 characters")]
    WeakPassword,
}

/// Creates the bootstrap operator when no operator exists; `None` when one already does.
/// Runs under an advisory lock so that several nodes starting together create one.
pub fn ensure_admin(
    conn: &mut PgConnection,
    email: &str,
    configured_password: Option<&str>,
) -> Result<Option<BootstrapAdmin>, BootstrapError> {
    use diesel::connection::Connection;
    use diesel::RunQueryDsl;
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7305)").execute(conn)?;
        if accounts::admin_exists(conn)? {
            return Ok(None);
        }
        let (password, generated) = match configured_password {
            Some(p) if p.chars().count() < 12 => return Err(BootstrapError::WeakPassword),
            Some(p) => (p.to_owned(), None),
            None => {
                let p = secrets::random_password();
                (p.clone(), Some(p))
            }
        };
        let hash = password::hash(&password).map_err(|e| BootstrapError::Hash(e.to_string()))?;
        let email = email.trim().to_lowercase();
        accounts::insert(
            conn,
            &NewAccount {
                email: &email,
                password_hash: &hash,
                role: Role::Admin,
                parent_id: None,
                max_domains: None,
                may_create_domain_admins: None,
            },
        )?;
        Ok(Some(BootstrapAdmin {
            email,
            generated_password: generated,
        }))
    })
}
