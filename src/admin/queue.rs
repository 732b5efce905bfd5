//! `mxspool queue list|show|retry|hold|release|rm|flush`: the mail queue through
//! `/api/v1/queue` and `/api/v1/domains/{id}/flush`.
//!
//! The commands that change mail take message ids (one request each) or a filter, which
//! becomes one `POST /queue/actions` acting on every matching recipient however many there are.

use super::domains::items;
use super::output::{cell, print_fields, print_json, text, time, truncate, Table};
use super::{resolve_domain, CliError, Ctx, Failures};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Subcommand)]
pub enum QueueCommand {
    /// List queued recipients, oldest first (one page, or every page with --all).
    List(ListArgs),
    /// Show a message: envelope, headers, recipients and delivery attempts.
    Show {
        /// Message id (the queue id of the SMTP reply).
        id: i64,
    },
    /// Make waiting mail due now: messages by id, or every recipient matching a filter.
    Retry(ActionArgs),
    /// Hold mail: neither delivered nor expired until released.
    Hold(ActionArgs),
    /// Release held mail: queued again, due now.
    Release(ActionArgs),
    /// Delete mail, without DSNs (recipients being delivered at that moment stay).
    Rm(ActionArgs),
    /// Make a domain's queued and deferred mail due now, probing its target if it is down.
    Flush(FlushArgs),
}

/// The filters of `GET /queue` and `POST /queue/actions`; they combine with AND.
#[derive(Debug, Default, clap::Args)]
pub struct FilterArgs {
    /// Recipients of this domain (id or name).
    #[arg(long, value_name = "DOMAIN", help_heading = "Filter")]
    domain: Option<String>,
    /// Recipients in this state: queued, deferred, delivering, held, delivered, bounced,
    /// expired (default: all still in the queue).
    #[arg(long, help_heading = "Filter")]
    state: Option<String>,
    /// Exact envelope sender (`<>` for the null sender).
    #[arg(long, value_name = "ADDRESS", help_heading = "Filter")]
    sender: Option<String>,
    /// Exact envelope recipient.
    #[arg(long, value_name = "ADDRESS", help_heading = "Filter")]
    recipient: Option<String>,
    /// Messages received before this time (RFC 3339, e.g. 2026-11-28T10:00:00Z).
    #[arg(long, value_name = "TIME", help_heading = "Filter")]
    before: Option<String>,
    /// Messages received at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME", help_heading = "Filter")]
    after: Option<String>,
}

impl FilterArgs {
    fn is_empty(&self) -> bool {
        self.domain.is_none()
            && self.state.is_none()
            && self.sender.is_none()
            && self.recipient.is_none()
            && self.before.is_none()
            && self.after.is_none()
    }

    /// The filter as API fields, the domain resolved to its id.
    fn fields(&self, ctx: &Ctx) -> Result<Vec<(&'static str, Value)>, CliError> {
        let mut fields = Vec::new();
        if let Some(d) = &self.domain {
            fields.push(("domain_id", json!(resolve_domain(&ctx.client, d)?)));
        }
        let strings = [
            ("state", &self.state),
            ("sender", &self.sender),
            ("recipient", &self.recipient),
            ("received_before", &self.before),
            ("received_after", &self.after),
        ];
        for (key, value) in strings {
            if let Some(v) = value {
                fields.push((key, json!(v)));
            }
        }
        Ok(fields)
    }
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Page size, 1 to 500 (the API's default: 50).
    #[arg(long)]
    limit: Option<i64>,
    /// Continue after this page (`next_cursor` of the previous one, same filters).
    #[arg(long, conflicts_with = "all")]
    cursor: Option<String>,
    /// Follow cursors to the end and list every matching recipient.
    #[arg(long)]
    all: bool,
}

#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    /// Message ids; leave out to act on a filter instead.
    ids: Vec<i64>,
    #[command(flatten)]
    filter: FilterArgs,
    /// With no filter: act on all of the queue the token can see.
    #[arg(long)]
    all: bool,
    /// With a filter: count what would change, change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct FlushArgs {
    /// Domain id or name.
    domain: String,
    /// Then wait until the domain's mail has gone (nothing queued, deferred or being
    /// delivered; held mail stays), showing what is left.
    #[arg(long)]
    wait: bool,
    /// With --wait: give up after this many seconds (exit code 1).
    #[arg(long, value_name = "SECONDS", default_value_t = 600, requires = "wait")]
    timeout: u64,
}

/// The four commands on mail, as the API names them.
#[derive(Debug, Clone, Copy)]
enum Action {
    Retry,
    Hold,
    Release,
    Delete,
}

impl Action {
    fn api_name(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Hold => "hold",
            Action::Release => "release",
            Action::Delete => "delete",
        }
    }

    fn command(self) -> &'static str {
        match self {
            Action::Delete => "rm",
            other => other.api_name(),
        }
    }

    /// What `affected` means for this action, for people.
    fn verb(self) -> &'static str {
        match self {
            Action::Retry => "made due",
            Action::Hold => "held",
            Action::Release => "released",
            Action::Delete => "deleted",
        }
    }
}

pub fn run(ctx: &Ctx, command: QueueCommand) -> Result<(), CliError> {
    match command {
        QueueCommand::List(args) => list(ctx, args),
        QueueCommand::Show { id } => show(ctx, id),
        QueueCommand::Retry(args) => act(ctx, Action::Retry, args),
        QueueCommand::Hold(args) => act(ctx, Action::Hold, args),
        QueueCommand::Release(args) => act(ctx, Action::Release, args),
        QueueCommand::Rm(args) => act(ctx, Action::Delete, args),
        QueueCommand::Flush(args) => flush(ctx, &args),
    }
}

fn sender(v: &Value) -> String {
    match v.get("sender").and_then(Value::as_str) {
        Some("") => "<>".to_owned(),
        Some(s) => s.to_owned(),
        None => "-".to_owned(),
    }
}

fn list(ctx: &Ctx, args: ListArgs) -> Result<(), CliError> {
    let mut query: Vec<(&str, String)> = args
        .filter
        .fields(ctx)?
        .into_iter()
        .map(|(k, v)| (k, text(&v)))
        .collect();
    if let Some(l) = args.limit {
        query.push(("limit", l.to_string()));
    }
    let page = ctx.list_page("/queue", "the queue", query, args.all, args.cursor)?;
    if ctx.json {
        print_json(&page);
        return Ok(());
    }
    let mut table = Table::new(&[
        "MESSAGE",
        "RECIPIENT",
        "STATE",
        "ATTEMPTS",
        "NEXT ATTEMPT",
        "SENDER",
        "SIZE",
        "RECEIVED",
        "LAST REPLY",
    ]);
    for q in items(&page) {
        table.row(vec![
            cell(q, "message_id"),
            cell(q, "recipient"),
            cell(q, "state"),
            cell(q, "attempts"),
            time(q, "next_attempt_at"),
            sender(q),
            cell(q, "size"),
            time(q, "received_at"),
            truncate(&cell(q, "last_reply"), 60),
        ]);
    }
    table.print_or("The queue is empty.");
    if let Some(next) = page.get("next_cursor").and_then(Value::as_str) {
        eprintln!("More in the queue: add --cursor {next} for the next page, or --all.");
    }
    Ok(())
}

fn show(ctx: &Ctx, id: i64) -> Result<(), CliError> {
    let m = ctx.client.get(&format!("/queue/{id}"), &[])?;
    if ctx.json {
        print_json(&m);
        return Ok(());
    }
    let h = m.get("headers").cloned().unwrap_or(Value::Null);
    print_fields(&[
        ("message", cell(&m, "id")),
        ("sender", sender(&m)),
        ("size", cell(&m, "size")),
        (
            "client",
            format!("{} (HELO {})", cell(&m, "client_ip"), cell(&m, "helo")),
        ),
        ("tls", cell(&m, "tls")),
        ("received", time(&m, "received_at")),
        ("subject", cell(&h, "subject")),
        ("from", cell(&h, "from")),
        ("to", cell(&h, "to")),
        ("message-id", cell(&h, "message_id")),
        ("date", cell(&h, "date")),
    ]);
    println!();
    let mut recipients = Table::new(&[
        "ID",
        "RECIPIENT",
        "DOMAIN",
        "STATE",
        "ATTEMPTS",
        "NEXT ATTEMPT",
        "EXPIRES",
        "LAST REPLY",
    ]);
    for r in m
        .get("recipients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        recipients.row(vec![
            cell(r, "id"),
            cell(r, "recipient"),
            cell(r, "domain"),
            cell(r, "state"),
            cell(r, "attempts"),
            time(r, "next_attempt_at"),
            time(r, "expires_at"),
            truncate(&cell(r, "last_reply"), 60),
        ]);
    }
    recipients.print_or("No recipients.");
    println!();
    let mut attempts = Table::new(&[
        "STARTED",
        "RECIPIENT",
        "TARGET",
        "IP",
        "CODE",
        "MS",
        "TLS",
        "OUTCOME",
        "REPLY",
    ]);
    for a in m
        .get("attempts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        attempts.row(vec![
            time(a, "started_at"),
            cell(a, "recipient"),
            cell(a, "target_host"),
            cell(a, "target_ip"),
            cell(a, "code"),
            cell(a, "duration_ms"),
            cell(a, "tls"),
            cell(a, "outcome"),
            truncate(&cell(a, "reply"), 60),
        ]);
    }
    attempts.print_or("No delivery attempts yet.");
    Ok(())
}

fn count(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn act(ctx: &Ctx, action: Action, args: ActionArgs) -> Result<(), CliError> {
    let name = action.command();
    let has_filter = !args.filter.is_empty();
    if !args.ids.is_empty() && (has_filter || args.all) {
        return Err(CliError::Usage(format!(
            "queue {name}: give message ids or a filter (--domain, --state, …, --all), not both"
        )));
    }
    if args.ids.is_empty() && !has_filter && !args.all {
        return Err(CliError::Usage(format!(
            "queue {name}: give message ids, a filter (--domain, --state, --sender, \
             --recipient, --before, --after), or --all for the whole queue"
        )));
    }
    if has_filter && args.all {
        return Err(CliError::Usage(format!(
            "queue {name}: --all means no filter; leave it out or leave out the filter"
        )));
    }
    if !args.ids.is_empty() && args.dry_run {
        return Err(CliError::Usage(format!(
            "queue {name}: --dry-run works with a filter, not with message ids"
        )));
    }
    let result = if args.ids.is_empty() {
        act_on_filter(ctx, action, &args)?
    } else {
        return act_on_ids(ctx, action, &args.ids);
    };
    report(ctx, action, &result);
    Ok(())
}

fn report(ctx: &Ctx, action: Action, result: &Value) {
    if ctx.json {
        print_json(result);
        return;
    }
    let dry = result.get("dry_run").and_then(Value::as_bool) == Some(true);
    println!(
        "{}: {} matched, {} {}{}, {} being delivered (left alone).",
        action.command(),
        count(result, "matched"),
        count(result, "affected"),
        if dry { "would be " } else { "" },
        action.verb(),
        count(result, "in_delivery"),
    );
}

fn act_on_filter(ctx: &Ctx, action: Action, args: &ActionArgs) -> Result<Value, CliError> {
    let fields = args.filter.fields(ctx)?;
    let described = if fields.is_empty() {
        "all of the queue".to_owned()
    } else {
        fields
            .iter()
            .map(|(k, v)| format!("{k}={}", text(v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let filter: Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    if !ctx.quiet {
        eprintln!(
            "queue {}{}: {described} …",
            action.command(),
            if args.dry_run { " (dry run)" } else { "" }
        );
    }
    ctx.client.post(
        "/queue/actions",
        &json!({"filter": filter, "action": action.api_name(), "dry_run": args.dry_run}),
    )
}

fn act_on_ids(ctx: &Ctx, action: Action, ids: &[i64]) -> Result<(), CliError> {
    let mut total = json!({"matched": 0, "affected": 0, "in_delivery": 0, "dry_run": false});
    let mut failures = Failures::new();
    let mut progress = ctx.progress(format!("queue {}", action.command()), Some(ids.len()));
    for (i, id) in ids.iter().enumerate() {
        let path = format!("/queue/{id}");
        let result = match action {
            Action::Delete => ctx.client.delete(&path),
            other => ctx
                .client
                .post(&format!("{path}/{}", other.api_name()), &json!({})),
        };
        match result {
            Ok(r) => {
                for key in ["matched", "affected", "in_delivery"] {
                    total[key] = json!(count(&total, key) + count(&r, key));
                }
            }
            Err(e) => {
                progress.message(&format!("mxspool: message {id}: {}", e.message()));
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
    report(ctx, action, &total);
    failures.finish(ids.len(), "messages")
}

fn flush(ctx: &Ctx, args: &FlushArgs) -> Result<(), CliError> {
    let domain = args.domain.as_str();
    let id = resolve_domain(&ctx.client, domain)?;
    if !ctx.quiet {
        eprintln!("queue flush: {domain} (id {id}) …");
    }
    let r = ctx
        .client
        .post(&format!("/domains/{id}/flush"), &json!({}))?;
    if ctx.json {
        print_json(&r);
    } else {
        println!(
            "flush {domain}: {} queued or deferred, {} made due now; target {}:{}{}.",
            count(&r, "matched"),
            count(&r, "affected"),
            cell(&r, "target_host"),
            cell(&r, "target_port"),
            if r.get("probe_scheduled").and_then(Value::as_bool) == Some(true) {
                " is down: probing it now"
            } else {
                ""
            }
        );
    }
    if args.wait {
        wait_until_sent(ctx, domain, id, args.timeout)?;
    }
    Ok(())
}

/// Polls the domain's queue figures until nothing is queued, deferred or being delivered,
/// reporting each change on standard error; an error after `timeout` seconds.
fn wait_until_sent(ctx: &Ctx, domain: &str, id: i64, timeout: u64) -> Result<(), CliError> {
    let started = Instant::now();
    let mut progress = ctx.progress(format!("queue flush {domain}"), None);
    let mut last = None;
    loop {
        let s = ctx.client.get(&format!("/domains/{id}/stats"), &[])?;
        let now = (
            count(&s, "queued"),
            count(&s, "deferred"),
            count(&s, "delivering"),
        );
        let left = now.0 + now.1 + now.2;
        if last != Some(now) {
            progress.status(&format!(
                "{left} waiting ({} queued, {} deferred, {} being delivered)",
                now.0, now.1, now.2
            ));
            last = Some(now);
        }
        let waited = started.elapsed().as_secs();
        if left == 0 {
            progress.finish();
            if !ctx.json {
                println!("{domain}: all mail sent after {waited} s.");
            }
            return Ok(());
        }
        if waited >= timeout {
            progress.finish();
            return Err(CliError::Other(format!(
                "{domain}: {left} recipients still waiting after {timeout} s"
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
