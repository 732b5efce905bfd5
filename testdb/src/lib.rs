//! A fresh, migrated database for every test, so tests run in parallel without sharing state.
//!
//! The first test to run migrates a template database named after the migrations' content;
//! every test then clones it with `CREATE DATABASE … TEMPLATE …`, which is much faster than
//! migrating each time. The server is `MXSPOOL_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); databases are dropped when the
//! [`TestDb`] is dropped.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::PgConnection;
use std::time::Duration;

/// Lock id shared by every test process that might build the template at the same time.
const TEMPLATE_LOCK: i64 = 0x6d_7873_706f_6f6c;

/// A database that exists for as long as this value lives.
pub struct TestDb {
    name: String,
    server_url: String,
}

impl TestDb {
    /// Creates a new database cloned from the migrated template. Panics on failure: this is
    /// test set-up, and a clear panic is the most useful report.
    #[allow(clippy::expect_used)]
    pub fn new() -> TestDb {
        let server_url = server_url();
        let template = ensure_template(&server_url);
        let name = format!("mxspool_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect(&server_url, "postgres");
        // Concurrent clones of one template can collide briefly; retry a few times.
        let create = format!("CREATE DATABASE {name} TEMPLATE {template}");
        let mut tries = 0;
        while let Err(e) = conn.batch_execute(&create) {
            tries += 1;
            assert!(tries < 50, "creating test database {name}: {e}");
            std::thread::sleep(Duration::from_millis(100));
        }
        TestDb { name, server_url }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection URL of this database.
    pub fn url(&self) -> String {
        url_for(&self.server_url, &self.name)
    }

    /// A connection to the server's `postgres` database, for statements about this database
    /// itself (e.g. refusing connections to it).
    pub fn connect_server(&self) -> PgConnection {
        connect(&self.server_url, "postgres")
    }

    /// A direct connection, for tests that look at rows.
    pub fn connect(&self) -> PgConnection {
        connect(&self.server_url, &self.name)
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&url_for(&self.server_url, "postgres")) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn server_url() -> String {
    std::env::var("MXSPOOL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Replaces the database name in a `postgres://…/name` URL.
fn url_for(server_url: &str, db: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

#[allow(clippy::expect_used)]
fn connect(server_url: &str, db: &str) -> PgConnection {
    let url = url_for(server_url, db);
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!(
            "cannot connect to the test PostgreSQL at {url}: {e}\n\
             start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set MXSPOOL_TEST_DATABASE_URL"
        )
    })
}

/// Name of the template for the current migrations: an FNV-1a hash of every migration file,
/// so a change to any migration makes a new template.
fn template_name() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, sql) in MIGRATION_SOURCES {
        for b in name.bytes().chain([0]).chain(sql.bytes()).chain([0]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("mxspool_tpl_{hash:016x}")
}

#[allow(clippy::expect_used)]
fn ensure_template(server_url: &str) -> String {
    let template = template_name();
    let mut conn = connect(server_url, "postgres");
    conn.batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .expect("advisory lock");
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{template}')"
    )))
    .get_result(&mut conn)
    .expect("checking for the template database");
    if !exists {
        let building = format!("{template}_building");
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .expect("dropping a half-built template database");
        conn.batch_execute(&format!("CREATE DATABASE {building}"))
            .expect("creating the template database");
        {
            let mut tpl = connect(server_url, &building);
            mxspool_store::pool::run_migrations(&mut tpl).expect("migrating the template");
        }
        conn.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .expect("renaming the template database");
    }
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .expect("advisory unlock");
    template
}

include!(concat!(env!("OUT_DIR"), "/migration_sources.rs"));
