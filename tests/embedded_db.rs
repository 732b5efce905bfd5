//! The real `mxspool` binary with no configuration at all: it runs its own PostgreSQL, creates
//! the operator on first start, stops cleanly on SIGTERM, and keeps its data across restarts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Running {
    child: Child,
    api: String,
    smtp: String,
    stdout: Vec<String>,
}

/// Starts `mxspool serve` on free ports with its data under `data_dir`, and waits until it has
/// printed where it listens.
fn start(data_dir: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxspool"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("MXSPOOL_CONFIG")
        .env("MXSPOOL_DATA_DIR", data_dir)
        .env("MXSPOOL_HTTP_ADDR", "127.0.0.1:0")
        .env("MXSPOOL_SMTP_ADDR", "127.0.0.1:0")
        .env("MXSPOOL_HOSTNAME", "backup-mx.mxspool.test")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mxspool");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.starts_with("OpenAPI:");
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(_) => panic!("mxspool did not start; it printed {lines:?}"),
        }
    }
    // The first-start block follows the addresses in the same write; give it a moment.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        lines.push(line);
    }
    let find = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {prefix:?} line in {lines:?}"))
    };
    let api = find("API:").trim_end_matches("/api/v1").to_owned();
    let smtp = find("SMTP:").split_whitespace().next().unwrap().to_owned();
    Running {
        child,
        api,
        smtp,
        stdout: lines,
    }
}

impl Running {
    fn generated_password(&self) -> Option<String> {
        self.stdout
            .iter()
            .find_map(|l| l.trim().strip_prefix("password:"))
            .map(|p| p.trim().to_owned())
    }

    /// SIGTERM, then wait for a clean exit.
    fn stop(mut self) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "mxspool exited with {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mxspool did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("mxs")
        .tempdir_in("/tmp")
        .unwrap();
    // The embedded server runs as the postgres user when the tests run as root.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
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
    let dir = data_dir();
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

    let ready = client
        .get(format!("{}/readyz", first.api))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let tokens: Value = login(&client, &first.api, &password)
        .await
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let created = client
        .post(format!("{}/api/v1/domains", first.api))
        .bearer_auth(&token)
        .json(&json!({"name": "kept.example", "target_host": "mail.kept.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Until the relay lands, the SMTP port answers with a temporary refusal.
    let banner = {
        use tokio::io::AsyncReadExt;
        let mut stream = tokio::net::TcpStream::connect(&first.smtp).await.unwrap();
        let mut buf = vec![0u8; 256];
        let n = stream.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(banner.starts_with("421 "), "banner {banner:?}");

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
    let tokens: Value = login(&client, &second.api, &password)
        .await
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let list: Value = client
        .get(format!("{}/api/v1/domains?name=kept.example", second.api))
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
