//! The `mxspool` command line.

use crate::config::{Config, Flags};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "mxspool",
    version,
    about = "Backup MX / queueing relay service"
)]
pub struct Cli {
    #[command(flatten)]
    pub flags: Flags,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and the SMTP relay together (the default).
    Serve,
    /// Run only the HTTP API.
    Api,
    /// Run only the SMTP relay.
    Relay,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI spec (or write it with --output).
    Openapi {
        /// Write the spec to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Relay domains through the API: list, add (also from CSV), show, rm.
    Domains(crate::admin::DomainsArgs),
    /// The mail queue through the API: list, show, retry, hold, release, rm, flush.
    Queue(crate::admin::QueueArgs),
    /// API keys through the API: create, list, revoke.
    Keys(crate::admin::KeysArgs),
    /// Log in to the API and print an access token (for MXSPOOL_TOKEN).
    Login(crate::admin::LoginArgs),
}

/// Entry point: parses arguments, runs the subcommand, maps failure to exit code 1
/// (configuration errors: 2). The admin commands (`domains`, `queue`, `keys`) talk to a
/// running server's API and read no server configuration; their exit codes are in
/// [`crate::admin`].
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    let command = match command {
        Command::Openapi { output } => return print_openapi(output),
        Command::Domains(args) => return crate::admin::run_domains(args),
        Command::Queue(args) => return crate::admin::run_queue(args),
        Command::Keys(args) => return crate::admin::run_keys(args),
        Command::Login(args) => return crate::admin::run_login(args),
        server => server,
    };
    let config = match Config::load(&cli.flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mxspool: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(config.log_json);
    let components = match command {
        Command::Serve => crate::server::Components::ALL,
        Command::Api => crate::server::Components::API,
        Command::Relay => crate::server::Components::RELAY,
        Command::Migrate => crate::server::Components::NONE,
        Command::Openapi { .. }
        | Command::Domains(_)
        | Command::Queue(_)
        | Command::Keys(_)
        | Command::Login(_) => return ExitCode::SUCCESS,
    };
    match crate::server::run(&config, components) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mxspool: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_openapi(output: Option<PathBuf>) -> ExitCode {
    let json = match mxspool_api::openapi::spec_json() {
        Ok(j) => j,
        Err(e) => {
            eprintln!("mxspool: cannot render the spec: {e}");
            return ExitCode::FAILURE;
        }
    };
    match output {
        None => {
            print!("{json}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(&path, json) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mxspool: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
    }
}
