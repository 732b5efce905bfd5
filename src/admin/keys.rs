//! `mxspool keys create|list|revoke`: API keys through `/api/v1/api-keys`. The API manages
//! keys only for a password login, so these commands need a JWT access token, not a key.

use super::domains::items;
use super::output::{cell, print_fields, print_json, time, Table};
use super::{resolve_domain, CliError, Ctx, Failures};
use serde_json::{json, Map, Value};

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create an API key for the token's account; its secret is printed once.
    Create(CreateArgs),
    /// List API keys (an operator sees every account's).
    List(ListArgs),
    /// Revoke API keys by id.
    Revoke {
        /// API key ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// What the key is for, e.g. "deploy script".
    name: String,
    /// Allow changes (POST, PATCH, DELETE); without it the key can only read.
    #[arg(long)]
    write: bool,
    /// Restrict the key to this domain (id or name); repeat for more.
    #[arg(long = "domain", value_name = "DOMAIN")]
    domains: Vec<String>,
    /// When the key stops working (RFC 3339, e.g. 2027-06-01T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    expires: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Page size, 1 to 500 (the API's default: 50).
    #[arg(long)]
    limit: Option<i64>,
    /// Continue after this page (`next_cursor` of the previous one).
    #[arg(long, conflicts_with = "all")]
    cursor: Option<String>,
    /// Follow cursors to the end and list every key.
    #[arg(long)]
    all: bool,
}

pub fn run(ctx: &Ctx, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Create(args) => create(ctx, args),
        KeysCommand::List(args) => list(ctx, args),
        KeysCommand::Revoke { ids } => revoke(ctx, &ids),
    }
}

fn create(ctx: &Ctx, args: CreateArgs) -> Result<(), CliError> {
    let mut body = Map::new();
    body.insert("name".into(), json!(args.name));
    let scopes = if args.write {
        json!(["read", "write"])
    } else {
        json!(["read"])
    };
    body.insert("scopes".into(), scopes);
    if !args.domains.is_empty() {
        let ids = args
            .domains
            .iter()
            .map(|d| resolve_domain(&ctx.client, d))
            .collect::<Result<Vec<i64>, CliError>>()?;
        body.insert("domain_ids".into(), json!(ids));
    }
    if let Some(at) = args.expires {
        body.insert("expires_at".into(), json!(at));
    }
    let created = ctx.client.post("/api-keys", &Value::Object(body))?;
    if ctx.json {
        print_json(&created);
        return Ok(());
    }
    let key = created.get("key").cloned().unwrap_or(Value::Null);
    print_fields(&[
        ("id", cell(&key, "id")),
        ("name", cell(&key, "name")),
        ("scopes", cell(&key, "scopes")),
        ("domains", domains_of(&key)),
        ("expires", time(&key, "expires_at")),
        ("secret", cell(&created, "secret")),
    ]);
    eprintln!("The secret is shown only this once; use it as MXSPOOL_TOKEN.");
    Ok(())
}

fn domains_of(key: &Value) -> String {
    match key.get("domain_ids") {
        Some(Value::Array(ids)) => ids
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(","),
        _ => "all".to_owned(),
    }
}

fn list(ctx: &Ctx, args: ListArgs) -> Result<(), CliError> {
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(l) = args.limit {
        query.push(("limit", l.to_string()));
    }
    let page = ctx.list_page("/api-keys", "API keys", query, args.all, args.cursor)?;
    if ctx.json {
        print_json(&page);
        return Ok(());
    }
    let mut table = Table::new(&[
        "ID",
        "ACCOUNT",
        "NAME",
        "PREFIX",
        "SCOPES",
        "DOMAINS",
        "EXPIRES",
        "LAST USED",
        "CREATED",
    ]);
    for k in items(&page) {
        table.row(vec![
            cell(k, "id"),
            cell(k, "account_id"),
            cell(k, "name"),
            cell(k, "prefix"),
            cell(k, "scopes"),
            domains_of(k),
            time(k, "expires_at"),
            time(k, "last_used_at"),
            time(k, "created_at"),
        ]);
    }
    table.print_or("No API keys.");
    if let Some(next) = page.get("next_cursor").and_then(Value::as_str) {
        eprintln!("More keys: add --cursor {next} for the next page, or --all.");
    }
    Ok(())
}

fn revoke(ctx: &Ctx, ids: &[i64]) -> Result<(), CliError> {
    let mut failures = Failures::new();
    let mut revoked = Vec::new();
    let mut progress = ctx.progress("revoking API keys", Some(ids.len()));
    for (i, id) in ids.iter().enumerate() {
        match ctx.client.delete(&format!("/api-keys/{id}")) {
            Ok(_) => {
                if !ctx.json {
                    progress.say(&format!("Revoked API key {id}."));
                }
                revoked.push(*id);
            }
            Err(e) => {
                progress.message(&format!("mxspool: API key {id}: {}", e.message()));
                failures.add(&e);
                if e.is_fatal() {
                    break;
                }
            }
        }
        if ids.len() > 1 {
            progress.update(i + 1, "");
        }
    }
    progress.finish();
    if ctx.json {
        print_json(&json!({"revoked": revoked}));
    }
    failures.finish(ids.len(), "API keys")
}
