//! The real `mxspool` binary with no configuration at all: it runs its own PostgreSQL, creates
//! the operator on first start, stops cleanly on SIGTERM, and keeps its data across restarts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::{shared_tempdir, Mxspool};

fn start(data_dir: &Path) -> Mxspool {
    Mxspool::start(
        "serve",
        &[("MXSPOOL_DATA_DIR", data_dir.display().to_string())],
    )
}

async fn login(client: &reqwest::Client, api: &str, password: &str) -> reqwest::Response {
    client
        .post(format!("{api}/api/v1/auth/login"))
        .json(&json!({"email": "admin@localhost", "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_needs_no_configuration_and_a_restart_keeps_the_data() {
    let dir = shared_tempdir();
    let data = dir.path().join("data");
    let client = reqwest::Client::new();

    let first = tokio::task::spawn_blocking({
        let data = data.clone();
        move || start(&data)
    })
    .await
    .unwrap();
    assert!(
        first.stdout.iter().any(|l| l.contains("/swagger-ui/")),
        "{:?}",
        first.stdout
    );
    let password = first
        .generated_password()
        .unwrap_or_else(|| panic!("no generated password in {:?}", first.stdout));
    assert!(password.len() >= 16);
    let api = first.api.clone().unwrap();

    let ready = client.get(format!("{api}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let tokens: Value = login(&client, &api, &password).await.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let created = client
        .post(format!("{api}/api/v1/domains"))
        .bearer_auth(&token)
        .json(&json!({"name": "kept.example", "target_host": "mail.kept.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // The relay answers on the SMTP port with the configured host name.
    let banner = {
        use tokio::io::AsyncReadExt;
        let mut stream = tokio::net::TcpStream::connect(first.smtp.as_deref().unwrap())
            .await
            .unwrap();
        let mut buf = vec![0u8; 256];
        let n = stream.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(
        banner.starts_with("220 backup-mx.mxspool.test "),
        "banner {banner:?}"
    );

    tokio::task::spawn_blocking(move || first.stop())
        .await
        .unwrap();
    assert!(
        !data.join("pgdata/postmaster.pid").exists(),
        "the embedded PostgreSQL is still running after mxspool stopped"
    );

    let second = tokio::task::spawn_blocking({
        let data = data.clone();
        move || start(&data)
    })
    .await
    .unwrap();
    assert_eq!(
        second.generated_password(),
        None,
        "the password was printed again"
    );
    assert!(!second.stdout.iter().any(|l| l.contains("First start")));
    let api = second.api.clone().unwrap();
    let tokens: Value = login(&client, &api, &password).await.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let list: Value = client
        .get(format!("{api}/api/v1/domains?name=kept.example"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["name"], "kept.example");
    tokio::task::spawn_blocking(move || second.stop())
        .await
        .unwrap();
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_mxspool"))
        .arg("serve")
        .env("MXSPOOL_HTTP_ADDR", "localhost-8080")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MXSPOOL_HTTP_ADDR"), "stderr: {stderr}");
}

#[test]
fn migrate_applies_migrations_to_an_external_database_and_exits() {
    let db = mxspool_testdb::TestDb::new();
    let output = Command::new(env!("CARGO_BIN_EXE_mxspool"))
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    use diesel::prelude::*;
    let mut conn = db.connect();
    let versions: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "SELECT count(*) FROM __diesel_schema_migrations",
    )
    .get_result(&mut conn)
    .unwrap();
    assert!(versions >= 2);
}

#[test]
fn openapi_prints_the_committed_spec() {
    let output = Command::new(env!("CARGO_BIN_EXE_mxspool"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout) == committed,
        "openapi/openapi.json is out of date: run `cargo run -- openapi --output openapi/openapi.json`"
    );
}
