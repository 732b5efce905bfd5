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
