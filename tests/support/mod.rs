//! Running the real `mxspool` binary in tests: start it with an environment, read the
//! addresses it prints, stop it with SIGTERM or kill it with SIGKILL.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `mxspool` process.
pub struct Mxspool {
    child: Child,
    /// `http://127.0.0.1:PORT`, when the API runs.
    pub api: Option<String>,
    /// `127.0.0.1:PORT`, when the relay runs.
    pub smtp: Option<String>,
    pub stdout: Vec<String>,
}

impl Mxspool {
    /// Starts `mxspool <command>` on free loopback ports with `env` added to a clean
    /// environment, and waits until it has printed where it listens.
    pub fn start(command: &str, env: &[(&str, String)]) -> Mxspool {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mxspool"));
        cmd.arg(command)
            .env_remove("DATABASE_URL")
            .env_remove("MXSPOOL_CONFIG")
            .env("MXSPOOL_HTTP_ADDR", "127.0.0.1:0")
            .env("MXSPOOL_SMTP_ADDR", "127.0.0.1:0")
            .env("MXSPOOL_HOSTNAME", "backup-mx.mxspool.test")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn mxspool");
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
                    let done = line.starts_with("OpenAPI:")
                        || (command == "relay" && line.starts_with("SMTP:"));
                    lines.push(line);
                    if done {
                        break;
                    }
                }
                Err(_) => panic!("mxspool {command} did not start; it printed {lines:?}"),
            }
        }
        // The first-start block follows the addresses in the same write; give it a moment.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            lines.push(line);
        }
        let find = |prefix: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(prefix))
                .map(|v| v.trim().to_owned())
        };
        let api = find("API:").map(|a| a.trim_end_matches("/api/v1").to_owned());
        let smtp =
            find("SMTP:").map(|s| s.split_whitespace().next().unwrap_or_default().to_owned());
        Mxspool {
            child,
            api,
            smtp,
            stdout: lines,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The operator password printed on first start, if it was generated.
    pub fn generated_password(&self) -> Option<String> {
        self.stdout
            .iter()
            .find_map(|l| l.trim().strip_prefix("password:"))
            .map(|p| p.trim().to_owned())
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) {
        kill(Pid::from_raw(self.pid()), Signal::SIGTERM).unwrap();
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
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: the process dies at once, mid-whatever it was doing.
    pub fn kill9(mut self) {
        kill(Pid::from_raw(self.pid()), Signal::SIGKILL).unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Mxspool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory the `postgres` user can enter (the embedded server runs as it when
/// tests run as root).
pub fn shared_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("mxs")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// True once `path` no longer exists, waiting up to `timeout`.
pub fn gone_within(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while path.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// A minimal SMTP client for tests: one command, one reply.
pub struct SmtpClient {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
}

impl SmtpClient {
    /// Connects and reads the greeting (returned).
    pub async fn connect(addr: &str) -> std::io::Result<(SmtpClient, String)> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let mut client = SmtpClient {
            stream: tokio::io::BufReader::new(stream),
        };
        let banner = client.reply().await?;
        Ok((client, banner))
    }

    /// Reads one (possibly multi-line) reply.
    pub async fn reply(&mut self) -> std::io::Result<String> {
        use tokio::io::AsyncBufReadExt;
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(30), self.stream.read_line(&mut line))
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply"))??;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("connection closed after {all:?}"),
                ));
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return Ok(all);
            }
        }
    }

    /// Sends a command line and returns the reply.
    pub async fn cmd(&mut self, line: &str) -> std::io::Result<String> {
        use tokio::io::AsyncWriteExt;
        self.stream
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        self.reply().await
    }

    /// Writes bytes as they are (message text, pipelined commands).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        self.stream.get_mut().write_all(bytes).await
    }

    /// A whole transaction; returns the reply to the final dot.
    pub async fn send(&mut self, from: &str, to: &[&str], body: &str) -> std::io::Result<String> {
        use tokio::io::AsyncWriteExt;
        let r = self.cmd(&format!("MAIL FROM:<{from}>")).await?;
        if !r.starts_with("250") {
            return Ok(r);
        }
        for rcpt in to {
            let r = self.cmd(&format!("RCPT TO:<{rcpt}>")).await?;
            if !r.starts_with("250") {
                return Ok(r);
            }
        }
        let r = self.cmd("DATA").await?;
        if !r.starts_with("354") {
            return Ok(r);
        }
        let mut text = body.replace("\r\n", "\n").replace('\n', "\r\n");
        if !text.ends_with("\r\n") {
            text.push_str("\r\n");
        }
        text.push_str(".\r\n");
        self.stream.get_mut().write_all(text.as_bytes()).await?;
        self.reply().await
    }
}

/// A message body with a unique tag in its Subject, to find it at the sink.
pub fn tagged_message(tag: &str) -> String {
    format!(
        "From: sender@client.test\r\nTo: rcpt@example.test\r\nSubject: {tag}\r\nMessage-ID: <{tag}@client.test>\r\n\r\nbody of {tag}\r\n"
    )
}

/// The tag of a received message (its Subject).
pub fn tag_of(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .map(|s| s.trim().to_owned())
}

/// Logs in as the operator and creates a relay domain; returns (token, domain id).
pub async fn create_domain(
    api: &str,
    password: &str,
    name: &str,
    target_port: u16,
) -> (String, i64) {
    let client = reqwest::Client::new();
    let tokens: serde_json::Value = client
        .post(format!("{api}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "admin@localhost", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let domain: serde_json::Value = client
        .post(format!("{api}/api/v1/domains"))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"name": name, "target_host": "127.0.0.1",
                                  "target_port": target_port, "tls_policy": "none"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = domain["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no domain in {domain}"));
    (token, id)
}
