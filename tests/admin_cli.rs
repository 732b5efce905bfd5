//! The admin commands (`mxspool domains|queue|keys`) through the real binary, against a real
//! `mxspool serve` with its own database, with mail sent to its SMTP port for a domain whose
//! target is down, so that it stays in the queue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mxspool_testdb::TestDb;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{tagged_message, Mxspool, SmtpClient};

const PASSWORD: &str = "admin cli test password";

/// A server for one test, with the operator's access token.
struct Server {
    _db: TestDb,
    mx: Mxspool,
    api: String,
    token: String,
}

impl Server {
    fn start() -> Server {
        let db = TestDb::new();
        let mx = Mxspool::start(
            "serve",
            &[
                ("DATABASE_URL", db.url()),
                ("MXSPOOL_ALLOW_PRIVATE_TARGETS", "true".into()),
                ("MXSPOOL_ADMIN_PASSWORD", PASSWORD.into()),
                ("MXSPOOL_HTTP_WORKERS", "2".into()),
                ("MXSPOOL_BOUNCES", "log".into()),
                // The admin commands' settings mean nothing to the server and must not
                // trouble its configuration.
                ("MXSPOOL_URL", "http://127.0.0.1:1".into()),
                ("MXSPOOL_TOKEN", "not-for-the-server".into()),
            ],
        );
        let api = mx.api.clone().expect("the API address");
        let token = login(&api);
        Server {
            _db: db,
            mx,
            api,
            token,
        }
    }

    /// `mxspool ARGS` with the operator's token.
    fn cli(&self, args: &[&str]) -> Run {
        run(
            args,
            &[("MXSPOOL_URL", &self.api), ("MXSPOOL_TOKEN", &self.token)],
        )
    }

    /// `mxspool ARGS` with another token.
    fn cli_as(&self, token: &str, args: &[&str]) -> Run {
        run(
            args,
            &[("MXSPOOL_URL", &self.api), ("MXSPOOL_TOKEN", token)],
        )
    }

    /// `mxspool ARGS --json`, which must succeed; its standard output parsed.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.cli(&all).ok().json()
    }

    fn smtp(&self) -> String {
        self.mx.smtp.clone().expect("the SMTP address")
    }
}

fn login(api: &str) -> String {
    let tokens: Value = reqwest::blocking::Client::new()
        .post(format!("{api}/api/v1/auth/login"))
        .json(&json!({"email": "admin@localhost", "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts exit code 0.
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    /// Asserts the exit code.
    fn code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "expected exit code {code}: {self:#?}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// The error line: standard error must be exactly one line.
    fn error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one error line expected: {self:#?}");
        lines[0]
    }
}

/// Runs the binary with only `env` of the admin settings (none inherited).
fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mxspool"));
    cmd.args(args)
        .env_remove("MXSPOOL_URL")
        .env_remove("MXSPOOL_TOKEN")
        .env_remove("MXSPOOL_CONFIG")
        .env_remove("MXSPOOL_PASSWORD")
        .env_remove("MXSPOOL_EMAIL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run mxspool");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A loopback port with nothing listening: a target that is down.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("a page of items")
}

/// Sends one message to `rcpts` over SMTP, retrying while the relay has not yet loaded a
/// just-created domain; returns the queue (message) id from the reply.
fn send_mail(smtp: &str, rcpts: &[&str], tag: &str) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (mut c, _) = SmtpClient::connect(smtp).await.unwrap();
            c.cmd("EHLO client.test").await.unwrap();
            let reply = c
                .send("sender@client.test", rcpts, &tagged_message(tag))
                .await
                .unwrap();
            let _ = c.cmd("QUIT").await;
            if reply.starts_with("250") {
                let id = reply.trim().rsplit(' ').next().unwrap();
                return id
                    .parse()
                    .unwrap_or_else(|_| panic!("no queue id in {reply}"));
            }
            assert!(Instant::now() < deadline, "the relay refused: {reply}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// Polls `queue list --json` until `done` holds for its items.
fn wait_for_queue(s: &Server, args: &[&str], done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = vec!["queue", "list", "--all"];
        all.extend_from_slice(args);
        let page = s.json(&all);
        let list = items(&page).clone();
        if done(&list) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "the queue never got there: {list:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `n` recipients waiting (queued or deferred), none being delivered.
fn settled(n: usize) -> impl Fn(&[Value]) -> bool {
    move |list| {
        list.len() == n
            && list
                .iter()
                .all(|q| q["state"] == "queued" || q["state"] == "deferred")
    }
}

#[test]
fn domains_are_added_listed_shown_and_removed_by_name_or_id() {
    let s = Server::start();

    let created = s.json(&[
        "domains",
        "add",
        "Example.TEST",
        "--target",
        "mail.example.test",
        "--port",
        "2526",
        "--tls",
        "required",
        "--lifetime",
        "3600",
    ]);
    assert_eq!(created["name"], "example.test");
    assert_eq!(created["target_host"], "mail.example.test");
    assert_eq!(created["target_port"], 2526);
    assert_eq!(created["tls_policy"], "required");
    assert_eq!(created["queue_lifetime_seconds"], 3600);
    assert_eq!(created["enabled"], true);
    let id = created["id"].as_i64().unwrap();

    // People get a confirmation and the domain's settings.
    let human = s
        .cli(&[
            "domains",
            "add",
            "second.test",
            "--target",
            "10.0.0.25",
            "--disabled",
        ])
        .ok();
    assert!(
        human.stdout.starts_with("Added second.test (id "),
        "{human:#?}"
    );
    assert!(
        human.stdout.contains("target:           10.0.0.25:25"),
        "{human:#?}"
    );
    assert!(human.stdout.contains("enabled:          no"), "{human:#?}");

    let page = s.json(&["domains", "list"]);
    let names: Vec<&str> = items(&page)
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["example.test", "second.test"]);
    assert_eq!(page["next_cursor"], Value::Null);
    let only_enabled = s.json(&["domains", "list", "--enabled", "false"]);
    assert_eq!(items(&only_enabled).len(), 1);
    assert_eq!(items(&only_enabled)[0]["name"], "second.test");

    let table = s.cli(&["domains", "list"]).ok();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{table:#?}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ID",
            "NAME",
            "TARGET",
            "TLS",
            "ENABLED",
            "RECIPIENTS",
            "OWNER"
        ]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        row,
        [
            id.to_string().as_str(),
            "example.test",
            "mail.example.test:2526",
            "required",
            "yes",
            "any",
            "1"
        ]
    );
    // Columns are aligned: every row's NAME starts where the header's does.
    let at = lines[0].find("NAME").unwrap();
    assert!(lines[1..]
        .iter()
        .all(|l| l[at..].starts_with(|c: char| c.is_ascii_lowercase())));

    // By name (any spelling the API normalises) or by id: the same domain.
    let by_name = s.json(&["domains", "show", "EXAMPLE.test."]);
    let by_id = s.json(&["domains", "show", &id.to_string()]);
    assert_eq!(by_name, by_id);
    assert_eq!(by_name["id"], id);

    let shown = s.cli(&["domains", "show", "example.test"]).ok();
    assert!(
        shown
            .stdout
            .contains("MX record:        example.test. 1800 IN MX 90 backup-mx.mxspool.test."),
        "{shown:#?}"
    );
    assert!(
        shown
            .stdout
            .contains("queue:            0 queued, 0 deferred, 0 held, 0 delivering"),
        "{shown:#?}"
    );

    let removed = s.cli(&["domains", "rm", "example.test"]).ok();
    assert_eq!(
        removed.stdout.trim(),
        format!("Deleted example.test (id {id}).")
    );
    let gone = s.cli(&["domains", "show", "example.test"]).code(3);
    assert_eq!(gone.error_line(), "mxspool: no domain named example.test");
    let gone = s.cli(&["domains", "show", &id.to_string()]).code(3);
    assert_eq!(
        gone.error_line(),
        format!("mxspool: Not found (404): domain {id} not found")
    );

    let second = by_name_id(&s, "second.test");
    let removed = s.json(&["domains", "rm", &second.to_string()]);
    assert_eq!(
        removed,
        json!({"deleted": [{"id": second, "domain": second.to_string()}]})
    );
    assert!(items(&s.json(&["domains", "list"])).is_empty());
    assert_eq!(s.cli(&["domains", "list"]).ok().stdout, "No domains.\n");
}

fn by_name_id(s: &Server, name: &str) -> i64 {
    s.json(&["domains", "show", name])["id"].as_i64().unwrap()
}

#[test]
fn api_errors_are_one_line_naming_the_field_with_exit_codes_for_scripts() {
    let s = Server::start();
    s.json(&["domains", "add", "taken.test", "--target", "mx.taken.test"]);

    // 422: the field is named.
    let bad = s
        .cli(&["domains", "add", "bad..test", "--target", "mx.example.test"])
        .code(5);
    let line = bad.error_line();
    assert!(
        line.starts_with("mxspool: Invalid input (422): name: "),
        "{line}"
    );
    let bad = s
        .cli(&[
            "domains",
            "add",
            "ok.test",
            "--target",
            "mx.ok.test",
            "--tls",
            "maybe",
        ])
        .code(5);
    assert!(
        bad.error_line()
            .starts_with("mxspool: Invalid input (422): tls_policy: "),
        "{bad:#?}"
    );
    let bad = s.cli(&["queue", "list", "--before", "yesterday"]).code(5);
    assert!(
        bad.error_line()
            .starts_with("mxspool: Invalid input (422): received_before: "),
        "{bad:#?}"
    );
    // 409.
    let dup = s
        .cli(&["domains", "add", "taken.test", "--target", "mx.taken.test"])
        .code(5);
    assert_eq!(
        dup.error_line(),
        "mxspool: Conflict (409): the domain taken.test is already registered"
    );
    // 404.
    s.cli(&["domains", "show", "424242"]).code(3);
    s.cli(&["domains", "rm", "nowhere.test"]).code(3);
    s.cli(&["queue", "show", "424242"]).code(3);
    s.cli(&["queue", "flush", "nowhere.test"]).code(3);
    s.cli(&["keys", "revoke", "424242"]).code(3);
    // 401: a token that is not one, or none the server issued.
    let denied = s.cli_as("garbage", &["domains", "list"]).code(4);
    assert!(
        denied
            .error_line()
            .starts_with("mxspool: Authentication required (401): "),
        "{denied:#?}"
    );
    s.cli_as(
        "mxs_000000000000000000000000000000000000000",
        &["queue", "list"],
    )
    .code(4);
    // 403: a read-only API key may not change anything, and keys cannot manage keys.
    let key = s.json(&["keys", "create", "reader"]);
    let secret = key["secret"].as_str().unwrap();
    let forbidden = s
        .cli_as(
            secret,
            &["domains", "add", "new.test", "--target", "mx.new.test"],
        )
        .code(4);
    assert!(
        forbidden
            .error_line()
            .starts_with("mxspool: Not allowed (403): "),
        "{forbidden:#?}"
    );
    s.cli_as(secret, &["keys", "list"]).code(4);

    // Usage and configuration: 2, and nothing is sent.
    let none = run(&["domains", "list"], &[("MXSPOOL_URL", &s.api)]).code(2);
    assert!(none.error_line().contains("MXSPOOL_TOKEN"), "{none:#?}");
    let bad_url = run(
        &[
            "domains",
            "list",
            "--url",
            "localhost:8080",
            "--token",
            &s.token,
        ],
        &[],
    )
    .code(2);
    assert!(bad_url.error_line().contains("--url"), "{bad_url:#?}");
    s.cli(&["domains", "add", "missing-target.test"]).code(2);
    s.cli(&["domains", "frobnicate"]).code(2);
    s.cli(&["queue", "show", "not-a-number"]).code(2);
    let unfiltered = s.cli(&["queue", "hold"]).code(2);
    assert!(unfiltered.error_line().contains("--all"), "{unfiltered:#?}");
    s.cli(&["queue", "rm", "1", "--domain", "taken.test"])
        .code(2);
    s.cli(&["queue", "retry", "1", "--dry-run"]).code(2);
    // Nothing listens: 1.
    let down = run(
        &["domains", "list"],
        &[
            (
                "MXSPOOL_URL",
                &format!("http://127.0.0.1:{}", closed_port()),
            ),
            ("MXSPOOL_TOKEN", &s.token),
        ],
    )
    .code(1);
    assert!(down.error_line().contains("cannot connect"), "{down:#?}");

    // The flags win over the environment, and the URL may name /api/v1.
    let page = run(
        &[
            "domains",
            "list",
            "--json",
            "--url",
            &format!("{}/api/v1/", s.api),
            "--token",
            &s.token,
        ],
        &[
            ("MXSPOOL_URL", "http://127.0.0.1:1"),
            ("MXSPOOL_TOKEN", "stale"),
        ],
    )
    .ok()
    .json();
    assert_eq!(items(&page).len(), 1);
}

#[test]
fn admin_commands_need_no_server_configuration() {
    let s = Server::start();
    // Server settings that would stop `serve` at start-up do not concern the admin commands.
    let page = run(
        &["domains", "list", "--json"],
        &[
            ("MXSPOOL_URL", &s.api),
            ("MXSPOOL_TOKEN", &s.token),
            ("MXSPOOL_HTTP_ADDR", "not-an-address"),
            ("MXSPOOL_CONFIG", "/nonexistent/mxspool.toml"),
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
        ],
    )
    .ok()
    .json();
    assert_eq!(page, json!({"items": [], "next_cursor": null}));
    // And the server (started with MXSPOOL_URL / MXSPOOL_TOKEN set) still prints its spec.
    let spec = run(
        &["openapi"],
        &[("MXSPOOL_URL", "http://x.invalid"), ("MXSPOOL_TOKEN", "t")],
    )
    .ok();
    assert!(spec.stdout.contains("\"openapi\""));
}

#[test]
fn login_prints_an_access_token_for_the_other_commands() {
    let s = Server::start();
    let url = s.api.as_str();
    // The password from the environment.
    let token = run(
        &["login"],
        &[("MXSPOOL_URL", url), ("MXSPOOL_PASSWORD", PASSWORD)],
    )
    .ok()
    .stdout;
    assert_eq!(token.lines().count(), 1);
    let page = s
        .cli_as(token.trim(), &["domains", "list", "--json"])
        .ok()
        .json();
    assert_eq!(page, json!({"items": [], "next_cursor": null}));

    // From standard input, with the whole token response.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxspool"))
        .args([
            "login",
            "--json",
            "--email",
            "ADMIN@localhost",
            "--url",
            url,
        ])
        .env_remove("MXSPOOL_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let tokens: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"]
        .as_str()
        .unwrap()
        .starts_with("mxr_"));
    s.cli_as(tokens["access_token"].as_str().unwrap(), &["keys", "list"])
        .ok();

    let wrong = run(
        &["login"],
        &[
            ("MXSPOOL_URL", url),
            ("MXSPOOL_PASSWORD", "not the password"),
        ],
    )
    .code(4);
    assert!(
        wrong
            .error_line()
            .starts_with("mxspool: Authentication required (401): "),
        "{wrong:#?}"
    );
    assert_eq!(wrong.stdout, "");
    // No password at all (empty standard input): a usage error, nothing sent.
    run(&["login"], &[("MXSPOOL_URL", url)]).code(2);
}

#[test]
fn a_csv_file_adds_many_domains_with_progress_and_lists_them_by_cursor() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();

    // A file with a mistake adds nothing.
    let broken = dir.path().join("broken.csv");
    std::fs::write(
        &broken,
        "name,target_host,target_port\na.test,mx.a.test,25\nb.test,mx.b.test,twenty-five\n",
    )
    .unwrap();
    let refused = s
        .cli(&["domains", "add", "--from-csv", broken.to_str().unwrap()])
        .code(2);
    assert!(
        refused
            .error_line()
            .ends_with("broken.csv line 3: target_port: \"twenty-five\" is not a number"),
        "{refused:#?}"
    );
    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "name,target,port\na.test,mx.a.test,25\n").unwrap();
    let refused = s
        .cli(&["domains", "add", "--from-csv", unknown.to_str().unwrap()])
        .code(2);
    assert!(refused.error_line().contains("unknown column \"target\""));
    assert!(items(&s.json(&["domains", "list"])).is_empty());

    // 120 rows, one of them already registered, and one the API refuses.
    s.json(&[
        "domains",
        "add",
        "d005.bulk.test",
        "--target",
        "mx.bulk.test",
    ]);
    let mut csv =
        String::from("# operator export\nname,target_host,target_port,tls_policy,enabled\n");
    for i in 0..120 {
        let enabled = if i % 2 == 0 { "true" } else { "false" };
        csv.push_str(&format!(
            "d{i:03}.bulk.test,mx{i}.bulk.test,25,none,{enabled}\n"
        ));
    }
    csv.push_str("\"bad..bulk.test\",mx.bulk.test,,,\n");
    let file = dir.path().join("domains.csv");
    std::fs::write(&file, &csv).unwrap();
    let added = s
        .cli(&["domains", "add", "--from-csv", file.to_str().unwrap()])
        .code(5);
    // Standard output: the summary. Standard error: the progress (not a terminal: a line at
    // each tenth) and one line per refused row, naming its line, domain and field.
    assert_eq!(added.stdout, "Added 119 of 121 domains, 2 failed.\n");
    let progress: Vec<&str> = added
        .stderr
        .lines()
        .filter(|l| l.starts_with("adding domains: "))
        .collect();
    assert_eq!(progress.len(), 10, "{added:#?}");
    assert_eq!(progress[0], "adding domains: 13/121");
    assert_eq!(progress[9], "adding domains: 121/121");
    let errors: Vec<&str> = added
        .stderr
        .lines()
        .filter(|l| l.starts_with("mxspool: "))
        .collect();
    let path = file.display();
    assert_eq!(
        errors,
        [
            format!("mxspool: {path} line 8 (d005.bulk.test): Conflict (409): the domain d005.bulk.test is already registered"),
            format!("mxspool: {path} line 123 (bad..bulk.test): Invalid input (422): name: name contains an empty label (two dots in a row, or a leading dot)"),
            "mxspool: 2 of 121 domains failed".to_owned(),
        ]
    );

    // Run again with --skip-existing: the registered ones are skipped, the bad one still fails.
    let again = s
        .cli(&[
            "domains",
            "add",
            "--from-csv",
            file.to_str().unwrap(),
            "--skip-existing",
            "--json",
            "--quiet",
        ])
        .code(5);
    let summary = again.json();
    assert_eq!(summary["created"], json!([]));
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 120);
    assert_eq!(summary["failed"][0]["line"], 123);
    assert_eq!(summary["failed"][0]["status"], 422);
    assert_eq!(
        summary["failed"][0]["problem"]["errors"][0]["field"],
        "name"
    );
    assert_eq!(
        again
            .stderr
            .lines()
            .filter(|l| l.starts_with("adding"))
            .count(),
        0
    );

    // Standard input works too, and a clean file exits 0.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxspool"))
        .args(["domains", "add", "--from-csv", "-", "--json"])
        .env("MXSPOOL_URL", &s.api)
        .env("MXSPOOL_TOKEN", &s.token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"name,target_host,max_message_size\nstdin.bulk.test,mx.bulk.test,4096\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["created"][0]["name"], "stdin.bulk.test");
    assert_eq!(summary["created"][0]["max_message_size"], 4096);

    // 121 domains: --all follows the cursors, reporting each page on standard error.
    let listed = s
        .cli(&["domains", "list", "--all", "--limit", "50", "--json"])
        .ok();
    let all = listed.json();
    assert_eq!(items(&all).len(), 121);
    assert_eq!(all["next_cursor"], Value::Null);
    let mut names: Vec<&str> = items(&all)
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 121);
    assert_eq!(
        listed.stderr.lines().collect::<Vec<_>>(),
        [
            "fetching domains: 50",
            "fetching domains: 100",
            "fetching domains: 121"
        ]
    );
    let disabled = s.json(&["domains", "list", "--all", "--enabled", "false"]);
    // Odd rows are disabled, but for d005, which was there before, enabled.
    assert_eq!(items(&disabled).len(), 59);

    // One page: the next cursor is offered on standard error and works.
    let first = s.cli(&["domains", "list", "--limit", "100"]).ok();
    assert_eq!(first.stdout.lines().count(), 101);
    let hint = first.error_line();
    let cursor = hint
        .split_whitespace()
        .skip_while(|w| *w != "--cursor")
        .nth(1)
        .unwrap();
    let rest = s.json(&["domains", "list", "--limit", "100", "--cursor", cursor]);
    assert_eq!(items(&rest).len(), 21);
}

#[test]
fn queue_commands_act_on_mail_waiting_for_a_down_target() {
    let s = Server::start();
    let port = closed_port().to_string();
    let domain = s.json(&[
        "domains",
        "add",
        "down.test",
        "--target",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "none",
    ]);
    let domain_id = domain["id"].as_i64().unwrap();
    let smtp = s.smtp();
    // The target refuses connections: the first message is tried once and deferred, the
    // target marked down; the mail after it waits for the target without attempts.
    let m1 = send_mail(&smtp, &["alice@down.test", "bob@down.test"], "first");
    wait_for_queue(&s, &[], |list| {
        list.len() == 2 && list.iter().all(|q| q["state"] == "deferred")
    });
    let m2 = send_mail(&smtp, &["carol@down.test"], "second");
    let m3 = send_mail(&smtp, &["dave@down.test"], "third");
    let queued = wait_for_queue(&s, &[], settled(4));
    assert!(queued.iter().all(|q| q["domain_id"] == domain_id));
    let mut recipients: Vec<&str> = queued
        .iter()
        .map(|q| q["recipient"].as_str().unwrap())
        .collect();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            "alice@down.test",
            "bob@down.test",
            "carol@down.test",
            "dave@down.test"
        ]
    );

    // Filters, the domain by name; and the table.
    let carol = s.json(&[
        "queue",
        "list",
        "--domain",
        "down.test",
        "--recipient",
        "carol@down.test",
    ]);
    assert_eq!(items(&carol).len(), 1);
    assert_eq!(items(&carol)[0]["message_id"], m2);
    let table = s.cli(&["queue", "list", "--domain", "down.test"]).ok();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{table:#?}");
    assert!(lines[0].starts_with("MESSAGE  RECIPIENT"), "{table:#?}");
    let alice_row = lines
        .iter()
        .find(|l| l.contains("alice@down.test"))
        .unwrap();
    let cells: Vec<&str> = alice_row.split_whitespace().collect();
    assert_eq!(
        cells[..4],
        [m1.to_string().as_str(), "alice@down.test", "deferred", "1"]
    );
    assert!(alice_row.contains("sender@client.test"), "{alice_row}");
    assert!(alice_row.contains("Connection refused"), "{alice_row}");
    let carol_row = lines
        .iter()
        .find(|l| l.contains("carol@down.test"))
        .unwrap();
    assert!(carol_row.starts_with(&format!("{m2} ")), "{carol_row}");

    // One message in detail.
    let shown = s.json(&["queue", "show", &m1.to_string()]);
    assert_eq!(shown["id"], m1);
    assert_eq!(shown["headers"]["subject"], "first");
    assert_eq!(shown["recipients"].as_array().unwrap().len(), 2);
    assert!(!shown["attempts"].as_array().unwrap().is_empty());
    let human = s.cli(&["queue", "show", &m1.to_string()]).ok();
    assert!(human.stdout.contains("subject:    first"), "{human:#?}");
    assert!(human.stdout.contains("alice@down.test"), "{human:#?}");
    assert!(human.stdout.contains("deferred"), "{human:#?}");

    // Hold two messages by id, with progress.
    let held = s
        .cli(&["queue", "hold", &m1.to_string(), &m2.to_string(), "--json"])
        .ok();
    assert_eq!(
        held.json(),
        json!({"matched": 3, "affected": 3, "in_delivery": 0, "dry_run": false})
    );
    assert_eq!(
        held.stderr.lines().collect::<Vec<_>>(),
        ["queue hold: 1/2", "queue hold: 2/2"]
    );
    let list = s.json(&["queue", "list", "--state", "held"]);
    assert_eq!(items(&list).len(), 3);
    let human = s.cli(&["queue", "hold", &m3.to_string()]).ok();
    assert_eq!(
        human.stdout,
        "hold: 1 matched, 1 held, 0 being delivered (left alone).\n"
    );

    // Release by filter: a dry run first changes nothing.
    let dry = s
        .cli(&[
            "queue",
            "release",
            "--domain",
            "down.test",
            "--state",
            "held",
            "--dry-run",
        ])
        .ok();
    assert_eq!(
        dry.stdout,
        "release: 4 matched, 4 would be released, 0 being delivered (left alone).\n"
    );
    assert_eq!(
        dry.stderr,
        format!("queue release (dry run): domain_id={domain_id} state=held …\n")
    );
    assert_eq!(
        items(&s.json(&["queue", "list", "--state", "held"])).len(),
        4
    );
    let released = s.json(&[
        "queue",
        "release",
        "--domain",
        &domain_id.to_string(),
        "--state",
        "held",
    ]);
    assert_eq!(released["matched"], 4);
    assert_eq!(released["affected"], 4);
    assert!(items(&s.json(&["queue", "list", "--state", "held"])).is_empty());
    wait_for_queue(&s, &[], settled(4));

    // Retry by id and flush by name: the target is still down, so nothing is delivered.
    let retried = s.json(&["queue", "retry", &m3.to_string()]);
    assert_eq!(retried["matched"], 1);
    wait_for_queue(&s, &[], settled(4));
    let flushed = s.cli(&["queue", "flush", "down.test", "--json"]).ok();
    let result = flushed.json();
    assert_eq!(result["matched"], 4);
    assert_eq!(result["target_host"], "127.0.0.1");
    assert_eq!(result["target_port"], port.parse::<i64>().unwrap());
    assert_eq!(
        flushed.stderr,
        format!("queue flush: down.test (id {domain_id}) …\n")
    );
    wait_for_queue(&s, &[], settled(4));
    let human = s
        .cli(&["queue", "flush", &domain_id.to_string(), "-q"])
        .ok();
    assert!(
        human
            .stdout
            .starts_with(&format!("flush {domain_id}: 4 queued or deferred, ")),
        "{human:#?}"
    );
    assert_eq!(human.stderr, "");
    let stats = s.cli(&["domains", "show", "down.test"]).ok();
    assert!(stats.stdout.contains("0 held"), "{stats:#?}");
    wait_for_queue(&s, &[], settled(4));

    // Delete one message by id (a missing one is reported and fails the run), then the rest
    // by filter.
    let removed = s
        .cli(&["queue", "rm", &m1.to_string(), "999999", "--json"])
        .code(3);
    assert_eq!(removed.json()["matched"], 2);
    assert!(removed.stderr.contains(
        "mxspool: message 999999: Not found (404): message 999999 not found in the queue"
    ));
    assert!(
        removed
            .stderr
            .ends_with("mxspool: 1 of 2 messages failed\n"),
        "{removed:#?}"
    );
    s.cli(&["queue", "show", &m1.to_string()]).code(3);
    let rest = s.json(&["queue", "rm", "--domain", "down.test"]);
    assert_eq!(rest["matched"], 2);
    let _ = wait_for_queue(&s, &[], |list| list.is_empty());
    assert_eq!(
        s.cli(&["queue", "list"]).ok().stdout,
        "The queue is empty.\n"
    );
    // --all with no filter is the whole visible queue (now empty).
    let everything = s.json(&["queue", "retry", "--all"]);
    assert_eq!(everything["matched"], 0);
}

#[test]
fn flush_wait_follows_a_domain_until_its_primary_is_back_and_has_its_mail() {
    let s = Server::start();
    let port = closed_port();
    let id = s.json(&[
        "domains",
        "add",
        "back.test",
        "--target",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--tls",
        "none",
    ])["id"]
        .as_i64()
        .unwrap();
    let smtp = s.smtp();
    send_mail(&smtp, &["alice@back.test", "bob@back.test"], "first");
    wait_for_queue(&s, &[], |list| {
        list.len() == 2 && list.iter().all(|q| q["state"] == "deferred")
    });
    send_mail(&smtp, &["carol@back.test"], "second");
    wait_for_queue(&s, &[], settled(3));

    // The primary is still down: --wait gives up after its timeout, saying what is left.
    let waited = s
        .cli(&["queue", "flush", "back.test", "--wait", "--timeout", "1"])
        .code(1);
    assert!(
        waited
            .stdout
            .starts_with("flush back.test: 3 queued or deferred, "),
        "{waited:#?}"
    );
    let lines: Vec<&str> = waited.stderr.lines().collect();
    assert_eq!(lines[0], format!("queue flush: back.test (id {id}) …"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("queue flush back.test: 3 waiting (")),
        "{waited:#?}"
    );
    assert_eq!(
        lines.last().copied(),
        Some("mxspool: back.test: 3 recipients still waiting after 1 s")
    );

    // The primary comes back on its port: the flush probes it now and the mail goes.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = rt
        .block_on(mxspool_testsink::SinkServer::start_on(
            format!("127.0.0.1:{port}").parse().unwrap(),
        ))
        .unwrap();
    let sent = s
        .cli(&["queue", "flush", "back.test", "--wait", "--timeout", "120"])
        .ok();
    let out: Vec<&str> = sent.stdout.lines().collect();
    assert_eq!(out.len(), 2, "{sent:#?}");
    assert!(
        out[1].starts_with("back.test: all mail sent after "),
        "{sent:#?}"
    );
    assert_eq!(
        sent.stderr.lines().last(),
        Some("queue flush back.test: 0 waiting (0 queued, 0 deferred, 0 being delivered)")
    );
    assert!(rt.block_on(sink.wait_for(2, Duration::from_secs(10))));
    let mut tags: Vec<String> = sink
        .messages()
        .iter()
        .filter_map(|m| support::tag_of(&m.data))
        .collect();
    tags.sort();
    assert_eq!(tags, ["first", "second"]);
    assert!(items(&s.json(&["queue", "list"])).is_empty());
}

#[test]
fn api_keys_are_created_listed_used_and_revoked() {
    let s = Server::start();
    let a = s.json(&["domains", "add", "a.keys.test", "--target", "mx.keys.test"]);
    s.json(&["domains", "add", "b.keys.test", "--target", "mx.keys.test"]);

    // A write key restricted to one domain, named by name.
    let created = s.json(&[
        "keys",
        "create",
        "deploy script",
        "--write",
        "--domain",
        "a.keys.test",
        "--expires",
        "2099-01-01T00:00:00Z",
    ]);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mxs_"), "{created}");
    assert_eq!(created["key"]["name"], "deploy script");
    assert_eq!(created["key"]["scopes"], json!(["read", "write"]));
    assert_eq!(created["key"]["domain_ids"], json!([a["id"]]));
    let key_id = created["key"]["id"].as_i64().unwrap();

    // People see the secret once, with a reminder on standard error.
    let human = s.cli(&["keys", "create", "reader"]).ok();
    assert!(human.stdout.contains("scopes:  read\n"), "{human:#?}");
    assert!(human.stdout.contains("domains: all\n"), "{human:#?}");
    assert!(human.stdout.contains("secret:  mxs_"), "{human:#?}");
    assert!(human.stderr.contains("shown only this once"), "{human:#?}");

    let list = s.json(&["keys", "list"]);
    assert_eq!(items(&list).len(), 2);
    assert!(items(&list).iter().all(|k| k.get("secret").is_none()));
    let table = s.cli(&["keys", "list"]).ok();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{table:#?}");
    assert!(lines[0].starts_with("ID  ACCOUNT  NAME"), "{table:#?}");
    let row = lines.iter().find(|l| l.contains("deploy script")).unwrap();
    assert!(row.contains("read,write"), "{row}");
    assert!(row.contains(&secret[..12]), "{row}");
    assert!(row.contains("2099-01-01 00:00:00"), "{row}");
    let all = s.json(&["keys", "list", "--all", "--limit", "1"]);
    assert_eq!(items(&all).len(), 2);

    // The key works as MXSPOOL_TOKEN and sees only its domain.
    let seen = s
        .cli_as(&secret, &["domains", "list", "--json"])
        .ok()
        .json();
    let names: Vec<&str> = items(&seen)
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.keys.test"]);
    s.cli_as(&secret, &["domains", "show", "b.keys.test"])
        .code(3);
    s.cli_as(&secret, &["queue", "flush", "a.keys.test"]).ok();

    let revoked = s.cli(&["keys", "revoke", &key_id.to_string()]).ok();
    assert_eq!(revoked.stdout, format!("Revoked API key {key_id}.\n"));
    s.cli_as(&secret, &["domains", "list"]).code(4);
    let again = s.cli(&["keys", "revoke", &key_id.to_string()]).code(3);
    assert_eq!(
        again.stderr,
        format!(
            "mxspool: API key {key_id}: Not found (404): API key {key_id} not found\nmxspool: 1 of 1 API keys failed\n"
        )
    );
    // An unknown domain in the restriction is refused before anything is created.
    s.cli(&["keys", "create", "x", "--domain", "nowhere.test"])
        .code(3);
    assert_eq!(items(&s.json(&["keys", "list"])).len(), 1);
}
