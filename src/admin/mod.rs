//! The admin commands, `mxspool domains|queue|keys|login …`: the REST API from a shell.
//!
//! They need no server configuration and no database: only the API's URL (`--url` /
//! `MXSPOOL_URL`, default `http://127.0.0.1:8080`) and a bearer token (`--token` /
//! `MXSPOOL_TOKEN`: a JWT access token from `POST /auth/login` or an `mxs_…` API key).
//! `--json` prints the API's JSON for scripts; without it people get tables. Progress of long
//! operations goes to standard error, so standard output stays parseable.
//!
//! Exit codes, for scripts (see [`CliError::exit_code`]):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the API failed (5xx, 429), could not be reached, or answered something unexpected |
//! | 2 | usage or configuration: bad arguments, no token, unreadable or malformed CSV file |
//! | 3 | not found (404, or no domain by that name) |
//! | 4 | not authenticated or not allowed (401, 403) |
//! | 5 | refused input: validation or conflict (400, 409, 413, 415, 422) |

mod client;
mod domains;
mod keys;
mod output;
mod queue;

pub use client::Client;
pub use domains::DomainsCommand;
pub use keys::KeysCommand;
pub use queue::QueueCommand;

use serde_json::Value;
use std::process::ExitCode;

/// Everything went through.
pub const EXIT_OK: u8 = 0;
/// The API failed or could not be reached.
pub const EXIT_ERROR: u8 = 1;
/// Bad arguments or configuration (also clap's code for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// The object named does not exist or is not visible to the caller.
pub const EXIT_NOT_FOUND: u8 = 3;
/// 401 or 403.
pub const EXIT_AUTH: u8 = 4;
/// The API refused the input: 400, 409, 413, 415, 422.
pub const EXIT_INVALID: u8 = 5;

/// Why an admin command failed; [`exit_code`](CliError::exit_code) is what scripts see.
#[derive(Debug)]
pub enum CliError {
    /// Arguments or configuration the user must fix.
    Usage(String),
    /// No answer from the API (connection refused, timeout, TLS).
    Transport(String),
    /// The API answered with an error status.
    Api {
        status: u16,
        /// One line, naming the fields of a validation problem.
        message: String,
        problem: Option<Value>,
    },
    /// Found nothing by that name, without an HTTP 404 behind it.
    NotFound(String),
    /// Some items of a bulk operation failed (each already reported); `code` is the first
    /// failure's.
    Partial {
        code: u8,
        message: String,
    },
    Other(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Transport(_) | CliError::Other(_) => EXIT_ERROR,
            CliError::NotFound(_) => EXIT_NOT_FOUND,
            CliError::Partial { code, .. } => *code,
            CliError::Api { status, .. } => match status {
                404 => EXIT_NOT_FOUND,
                401 | 403 => EXIT_AUTH,
                400 | 409 | 413 | 415 | 422 => EXIT_INVALID,
                _ => EXIT_ERROR,
            },
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CliError::Usage(m)
            | CliError::Transport(m)
            | CliError::NotFound(m)
            | CliError::Other(m)
            | CliError::Partial { message: m, .. }
            | CliError::Api { message: m, .. } => m,
        }
    }

    /// Whether a bulk operation should stop rather than go on with the next item: nothing
    /// after a failed login, a forbidden action or an unreachable server can succeed either.
    pub fn is_fatal(&self) -> bool {
        match self {
            CliError::Transport(_) | CliError::Usage(_) | CliError::Other(_) => true,
            CliError::Api { status, .. } => matches!(status, 401 | 403) || *status >= 500,
            CliError::NotFound(_) | CliError::Partial { .. } => false,
        }
    }
}

/// Where the API is and how to talk to it; accepted by every admin command, before or after
/// the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The API's base URL (the `/api/v1` suffix is optional).
    #[arg(
        long,
        global = true,
        help_heading = "API connection",
        env = "MXSPOOL_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// Bearer token: a JWT access token or an `mxs_…` API key.
    #[arg(
        long,
        global = true,
        help_heading = "API connection",
        env = "MXSPOOL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true, help_heading = "Output")]
    pub json: bool,
    /// No progress output on standard error.
    #[arg(long, short, global = true, help_heading = "Output")]
    pub quiet: bool,
}

/// `mxspool domains …`
#[derive(Debug, clap::Args)]
pub struct DomainsArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: DomainsCommand,
}

/// `mxspool queue …`
#[derive(Debug, clap::Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: QueueCommand,
}

/// `mxspool keys …`
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// `mxspool login`
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The API's base URL (the `/api/v1` suffix is optional).
    #[arg(
        long,
        env = "MXSPOOL_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// The account's e-mail address.
    #[arg(
        long,
        env = "MXSPOOL_EMAIL",
        value_name = "EMAIL",
        default_value = "admin@localhost"
    )]
    pub email: String,
    /// Print the API's token response (with the refresh token) instead of the access token.
    #[arg(long)]
    pub json: bool,
}

/// What a subcommand works with.
pub struct Ctx {
    pub client: Client,
    pub json: bool,
    pub quiet: bool,
}

impl Ctx {
    fn progress(&self, label: impl Into<String>, total: Option<usize>) -> output::Progress {
        output::Progress::new(label, total, self.quiet)
    }

    /// One page of a list endpoint (from `cursor`), or with `all` every page, followed with
    /// progress and returned as one page with no next cursor.
    fn list_page(
        &self,
        path: &str,
        what: &str,
        mut query: Vec<(&'static str, String)>,
        all: bool,
        cursor: Option<String>,
    ) -> Result<serde_json::Value, CliError> {
        if all {
            let mut progress = self.progress(format!("fetching {what}"), None);
            let items = self
                .client
                .list_all(path, &query, |n| progress.update(n, ""))?;
            progress.finish();
            return Ok(serde_json::json!({"items": items, "next_cursor": null}));
        }
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        self.client.get(path, &query)
    }
}

fn run(conn: &Connection, body: impl FnOnce(&Ctx) -> Result<(), CliError>) -> ExitCode {
    let result = Client::new(&conn.url, conn.token.as_deref()).and_then(|client| {
        body(&Ctx {
            client,
            json: conn.json,
            quiet: conn.quiet,
        })
    });
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("mxspool: {}", e.message());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs `mxspool domains …`.
pub fn run_domains(args: DomainsArgs) -> ExitCode {
    run(&args.conn, |ctx| domains::run(ctx, args.command))
}

/// Runs `mxspool queue …`.
pub fn run_queue(args: QueueArgs) -> ExitCode {
    run(&args.conn, |ctx| queue::run(ctx, args.command))
}

/// Runs `mxspool keys …`.
pub fn run_keys(args: KeysArgs) -> ExitCode {
    run(&args.conn, |ctx| keys::run(ctx, args.command))
}

/// Runs `mxspool login`: the password comes from `MXSPOOL_PASSWORD` or, without it, the first
/// line of standard input (never a flag, which other users could read in the process list).
pub fn run_login(args: LoginArgs) -> ExitCode {
    let result = login(&args);
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("mxspool: {}", e.message());
            ExitCode::from(e.exit_code())
        }
    }
}

fn login(args: &LoginArgs) -> Result<(), CliError> {
    let client = Client::anonymous(&args.url)?;
    let password = match std::env::var("MXSPOOL_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => read_password()?,
    };
    if password.is_empty() {
        return Err(CliError::Usage(
            "no password: set MXSPOOL_PASSWORD or write it on standard input".to_owned(),
        ));
    }
    let tokens = client.post(
        "/auth/login",
        &serde_json::json!({"email": args.email, "password": password}),
    )?;
    if args.json {
        output::print_json(&tokens);
        return Ok(());
    }
    let access = tokens
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::Other("the login answer has no access_token".to_owned()))?;
    println!("{access}");
    Ok(())
}

/// One line of standard input; on a terminal asked for on standard error and not echoed.
fn read_password() -> Result<String, CliError> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let saved = if terminal {
        eprint!("Password: ");
        tcgetattr(&stdin).ok()
    } else {
        None
    };
    if let Some(original) = &saved {
        let mut quiet = original.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        let _ = tcsetattr(&stdin, SetArg::TCSAFLUSH, &quiet);
    }
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    if let Some(original) = &saved {
        let _ = tcsetattr(&stdin, SetArg::TCSAFLUSH, original);
    }
    if terminal {
        eprintln!();
    }
    read.map_err(|e| CliError::Usage(format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A domain named by id (`12`) or by name (`example.com`, any spelling the API normalises)
/// → its id. Names are looked up through the list's exact-name filter.
pub fn resolve_domain(client: &Client, arg: &str) -> Result<i64, CliError> {
    let arg = arg.trim();
    if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
        return match arg.parse::<i64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(CliError::Usage(format!(
                "{arg:?} is not a domain id (a positive integer) or name"
            ))),
        };
    }
    if arg.is_empty() {
        return Err(CliError::Usage("an empty domain name".to_owned()));
    }
    let page = client.get("/domains", &[("name", arg.to_owned())])?;
    page.get("items")
        .and_then(Value::as_array)
        .and_then(|items| items.first())
        .and_then(|d| d.get("id"))
        .and_then(Value::as_i64)
        .ok_or_else(|| CliError::NotFound(format!("no domain named {arg}")))
}

/// A failure of one item in a bulk operation: reported now, remembered for the exit code.
struct Failures {
    first_code: Option<u8>,
    count: usize,
}

impl Failures {
    fn new() -> Failures {
        Failures {
            first_code: None,
            count: 0,
        }
    }

    fn add(&mut self, e: &CliError) {
        self.first_code.get_or_insert(e.exit_code());
        self.count += 1;
    }

    /// `Ok` when nothing failed, else a [`CliError::Partial`] saying how many of `total`.
    fn finish(self, total: usize, what: &str) -> Result<(), CliError> {
        match self.first_code {
            None => Ok(()),
            Some(code) => Err(CliError::Partial {
                code,
                message: format!("{} of {total} {what} failed", self.count),
            }),
        }
    }
}
