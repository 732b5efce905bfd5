//! `mxspool domains list|add|show|rm`: relay domains through `/api/v1/domains`.

use super::output::{cell, print_fields, print_json, text, time, Table};
use super::{resolve_domain, CliError, Ctx, Failures};
use serde_json::{json, Map, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum DomainsCommand {
    /// List relay domains (one page, or every page with --all).
    List(ListArgs),
    /// Add a relay domain, or many from a CSV file.
    Add(AddArgs),
    /// Show a relay domain with the MX record to publish and its queue.
    Show {
        /// Domain id or name.
        domain: String,
    },
    /// Delete relay domains, with their queued mail (no DSNs are sent).
    Rm {
        /// Domain ids or names.
        #[arg(required = true)]
        domains: Vec<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only the domain with this exact name.
    #[arg(long)]
    name: Option<String>,
    /// Only domains of this owner (account id).
    #[arg(long, value_name = "ACCOUNT_ID")]
    owner: Option<i64>,
    /// Only enabled (true) or disabled (false) domains.
    #[arg(long, value_name = "BOOL")]
    enabled: Option<bool>,
    /// Page size, 1 to 500 (the API's default: 50).
    #[arg(long)]
    limit: Option<i64>,
    /// Continue after this page (`next_cursor` of the previous one).
    #[arg(long, conflicts_with = "all")]
    cursor: Option<String>,
    /// Follow cursors to the end and list every domain.
    #[arg(long)]
    all: bool,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The mail domain to relay for.
    #[arg(required_unless_present = "from_csv", conflicts_with = "from_csv")]
    name: Option<String>,
    /// Host name or IP address of the domain's primary mail server.
    #[arg(
        long,
        value_name = "HOST",
        required_unless_present = "from_csv",
        conflicts_with = "from_csv"
    )]
    target: Option<String>,
    /// The target's SMTP port (default 25).
    #[arg(long, conflicts_with = "from_csv")]
    port: Option<u16>,
    /// TLS towards the target: opportunistic (default), required, verify, none.
    #[arg(long, value_name = "POLICY", conflicts_with = "from_csv")]
    tls: Option<String>,
    /// Largest message accepted, in bytes (default 52428800).
    #[arg(long, value_name = "BYTES", conflicts_with = "from_csv")]
    max_size: Option<i64>,
    /// How long undeliverable mail is kept, in seconds (default 432000, 5 days).
    #[arg(long, value_name = "SECONDS", conflicts_with = "from_csv")]
    lifetime: Option<i64>,
    /// Which recipients are accepted: any (default), listed, verify.
    #[arg(long, value_name = "POLICY", conflicts_with = "from_csv")]
    recipient_policy: Option<String>,
    /// Owner account id (operators only; default: the caller).
    #[arg(long, value_name = "ACCOUNT_ID", conflicts_with = "from_csv")]
    owner: Option<i64>,
    /// Create the domain disabled (its mail is refused until enabled).
    #[arg(long, conflicts_with = "from_csv")]
    disabled: bool,
    /// Add every domain of a CSV file (`-`: standard input). The header names the columns,
    /// as in the API: name, target_host (both required), target_port, tls_policy,
    /// max_message_size, queue_lifetime_seconds, recipient_policy, owner_id, enabled.
    #[arg(long, value_name = "FILE")]
    from_csv: Option<PathBuf>,
    /// With --from-csv: domains already registered (409) are skipped, not failures.
    #[arg(long, requires = "from_csv")]
    skip_existing: bool,
}

pub fn run(ctx: &Ctx, command: DomainsCommand) -> Result<(), CliError> {
    match command {
        DomainsCommand::List(args) => list(ctx, args),
        DomainsCommand::Add(args) => match args.from_csv.clone() {
            Some(path) => add_from_csv(ctx, &path, args.skip_existing),
            None => add_one(ctx, args),
        },
        DomainsCommand::Show { domain } => show(ctx, &domain),
        DomainsCommand::Rm { domains } => remove(ctx, &domains),
    }
}

fn list(ctx: &Ctx, args: ListArgs) -> Result<(), CliError> {
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(n) = args.name {
        query.push(("name", n));
    }
    if let Some(o) = args.owner {
        query.push(("owner_id", o.to_string()));
    }
    if let Some(e) = args.enabled {
        query.push(("enabled", e.to_string()));
    }
    if let Some(l) = args.limit {
        query.push(("limit", l.to_string()));
    }
    let page = ctx.list_page("/domains", "domains", query, args.all, args.cursor)?;
    if ctx.json {
        print_json(&page);
        return Ok(());
    }
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "TARGET",
        "TLS",
        "ENABLED",
        "RECIPIENTS",
        "OWNER",
    ]);
    for d in items(&page) {
        table.row(vec![
            cell(d, "id"),
            cell(d, "name"),
            format!("{}:{}", cell(d, "target_host"), cell(d, "target_port")),
            cell(d, "tls_policy"),
            cell(d, "enabled"),
            cell(d, "recipient_policy"),
            cell(d, "owner_id"),
        ]);
    }
    table.print_or("No domains.");
    if let Some(next) = page.get("next_cursor").and_then(Value::as_str) {
        eprintln!("More domains: add --cursor {next} for the next page, or --all.");
    }
    Ok(())
}

pub(super) fn items(page: &Value) -> &[Value] {
    page.get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn add_one(ctx: &Ctx, args: AddArgs) -> Result<(), CliError> {
    let mut body = Map::new();
    body.insert("name".into(), json!(args.name.unwrap_or_default()));
    body.insert("target_host".into(), json!(args.target.unwrap_or_default()));
    let optional = [
        ("target_port", args.port.map(|p| json!(p))),
        ("tls_policy", args.tls.map(|t| json!(t))),
        ("max_message_size", args.max_size.map(|s| json!(s))),
        ("queue_lifetime_seconds", args.lifetime.map(|s| json!(s))),
        ("recipient_policy", args.recipient_policy.map(|p| json!(p))),
        ("owner_id", args.owner.map(|o| json!(o))),
        ("enabled", args.disabled.then_some(json!(false))),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            body.insert(key.into(), v);
        }
    }
    let created = ctx.client.post("/domains", &Value::Object(body))?;
    if ctx.json {
        print_json(&created);
    } else {
        println!(
            "Added {} (id {}).",
            cell(&created, "name"),
            cell(&created, "id")
        );
        print_domain(&created);
    }
    Ok(())
}

/// One domain of a CSV file, ready to send.
struct CsvRow {
    line: u64,
    name: String,
    body: Value,
}

const CSV_COLUMNS: &[&str] = &[
    "name",
    "target_host",
    "target_port",
    "tls_policy",
    "max_message_size",
    "queue_lifetime_seconds",
    "recipient_policy",
    "owner_id",
    "enabled",
];
const INTEGER_COLUMNS: &[&str] = &[
    "target_port",
    "max_message_size",
    "queue_lifetime_seconds",
    "owner_id",
];

/// Reads and checks the whole file before anything is sent: a file with a mistake adds
/// nothing (exit 2), so a corrected file can simply be run again.
fn read_csv(path: &Path) -> Result<Vec<CsvRow>, CliError> {
    let shown = path.display().to_string();
    let mut data = Vec::new();
    let read = if shown == "-" {
        std::io::stdin().read_to_end(&mut data)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut data))
    };
    read.map_err(|e| CliError::Usage(format!("{shown}: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(data.as_slice());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CliError::Usage(format!("{shown}: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for h in &header {
        if !CSV_COLUMNS.contains(&h.as_str()) {
            return Err(CliError::Usage(format!(
                "{shown} line 1: unknown column {h:?}; known: {}",
                CSV_COLUMNS.join(", ")
            )));
        }
    }
    for required in ["name", "target_host"] {
        if !header.iter().any(|h| h == required) {
            return Err(CliError::Usage(format!(
                "{shown} line 1: the header has no {required} column"
            )));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| CliError::Usage(format!("{shown}: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |column: &str| format!("{shown} line {line}: {column}");
        let mut body = Map::new();
        for (column, value) in header.iter().zip(record.iter()) {
            if value.is_empty() {
                continue;
            }
            let v = if INTEGER_COLUMNS.contains(&column.as_str()) {
                let n: i64 = value.parse().map_err(|_| {
                    CliError::Usage(format!("{}: {value:?} is not a number", at(column)))
                })?;
                json!(n)
            } else if column == "enabled" {
                match value.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => json!(true),
                    "false" | "no" | "0" => json!(false),
                    _ => {
                        return Err(CliError::Usage(format!(
                            "{}: {value:?} is not true or false",
                            at(column)
                        )))
                    }
                }
            } else {
                json!(value)
            };
            body.insert(column.clone(), v);
        }
        for required in ["name", "target_host"] {
            if !body.contains_key(required) {
                return Err(CliError::Usage(format!("{}: is empty", at(required))));
            }
        }
        let name = body.get("name").map(text).unwrap_or_default();
        rows.push(CsvRow {
            line,
            name,
            body: Value::Object(body),
        });
    }
    if rows.is_empty() {
        return Err(CliError::Usage(format!("{shown}: no domains in the file")));
    }
    Ok(rows)
}

fn add_from_csv(ctx: &Ctx, path: &Path, skip_existing: bool) -> Result<(), CliError> {
    let rows = read_csv(path)?;
    let shown = path.display().to_string();
    let total = rows.len();
    let mut created = Vec::new();
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    let mut failures = Failures::new();
    let mut fatal = None;
    let mut progress = ctx.progress("adding domains", Some(total));
    for (i, row) in rows.iter().enumerate() {
        match ctx.client.post("/domains", &row.body) {
            Ok(domain) => created.push(domain),
            Err(CliError::Api { status: 409, .. }) if skip_existing => {
                skipped.push(json!(row.name));
            }
            Err(e) => {
                progress.message(&format!(
                    "mxspool: {shown} line {} ({}): {}",
                    row.line,
                    row.name,
                    e.message()
                ));
                failures.add(&e);
                let (status, problem) = match &e {
                    CliError::Api {
                        status, problem, ..
                    } => (json!(status), problem.clone().unwrap_or(Value::Null)),
                    _ => (Value::Null, Value::Null),
                };
                failed.push(json!({"line": row.line, "name": row.name, "status": status,
                                   "problem": problem, "message": e.message()}));
                if e.is_fatal() {
                    fatal = Some(e);
                    break;
                }
            }
        }
        progress.update(i + 1, "");
    }
    progress.finish();
    if ctx.json {
        print_json(&json!({"created": created, "skipped": skipped, "failed": failed}));
    } else {
        let skipped = if skip_existing {
            format!(", skipped {} already registered", skipped.len())
        } else {
            String::new()
        };
        println!(
            "Added {} of {total} domains{skipped}, {} failed.",
            created.len(),
            failed.len()
        );
    }
    if let Some(e) = fatal {
        let left = total - created.len() - skipped.len() - failed.len();
        return Err(CliError::Partial {
            code: e.exit_code(),
            message: format!("stopped: {}; {left} domains not tried", e.message()),
        });
    }
    failures.finish(total, "domains")
}

fn print_domain(d: &Value) {
    print_fields(&domain_fields(d));
}

fn domain_fields(d: &Value) -> Vec<(&'static str, String)> {
    vec![
        ("id", cell(d, "id")),
        ("name", cell(d, "name")),
        ("enabled", cell(d, "enabled")),
        (
            "target",
            format!("{}:{}", cell(d, "target_host"), cell(d, "target_port")),
        ),
        ("tls policy", cell(d, "tls_policy")),
        ("max message size", cell(d, "max_message_size")),
        (
            "queue lifetime",
            format!("{} s", cell(d, "queue_lifetime_seconds")),
        ),
        ("recipient policy", cell(d, "recipient_policy")),
        ("owner", cell(d, "owner_id")),
        ("admins", cell(d, "admin_ids")),
        ("created", time(d, "created_at")),
        ("updated", time(d, "updated_at")),
    ]
}

fn show(ctx: &Ctx, domain: &str) -> Result<(), CliError> {
    let id = resolve_domain(&ctx.client, domain)?;
    let d = ctx.client.get(&format!("/domains/{id}"), &[])?;
    if ctx.json {
        print_json(&d);
        return Ok(());
    }
    let mut fields = domain_fields(&d);
    // The MX record and queue figures complete the picture; the domain itself is what was
    // asked for, so their absence is not an error.
    if let Ok(dns) = ctx.client.get(&format!("/domains/{id}/dns"), &[]) {
        fields.push(("MX record", cell(&dns, "zone_file_line")));
    }
    if let Ok(s) = ctx.client.get(&format!("/domains/{id}/stats"), &[]) {
        fields.push((
            "queue",
            format!(
                "{} queued, {} deferred, {} held, {} delivering; oldest {}",
                cell(&s, "queued"),
                cell(&s, "deferred"),
                cell(&s, "held"),
                cell(&s, "delivering"),
                time(&s, "oldest_queued_at")
            ),
        ));
    }
    print_fields(&fields);
    Ok(())
}

fn remove(ctx: &Ctx, domains: &[String]) -> Result<(), CliError> {
    let mut failures = Failures::new();
    let mut deleted = Vec::new();
    let mut progress = ctx.progress("deleting domains", Some(domains.len()));
    for (i, arg) in domains.iter().enumerate() {
        let result = resolve_domain(&ctx.client, arg)
            .and_then(|id| ctx.client.delete(&format!("/domains/{id}")).map(|_| id));
        match result {
            Ok(id) => {
                if !ctx.json {
                    progress.say(&format!("Deleted {arg} (id {id})."));
                }
                deleted.push(json!({"id": id, "domain": arg}));
            }
            Err(e) => {
                progress.message(&format!("mxspool: {arg}: {}", e.message()));
                failures.add(&e);
                if e.is_fatal() {
                    break;
                }
            }
        }
        if domains.len() > 1 {
            progress.update(i + 1, "");
        }
    }
    progress.finish();
    if ctx.json {
        print_json(&json!({"deleted": deleted}));
    }
    failures.finish(domains.len(), "domains")
}
