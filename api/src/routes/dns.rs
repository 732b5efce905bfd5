//! `/domains/{id}/dns`: the MX record a customer publishes (step 2 of the three customer
//! steps) and the live check that it is published right.
//!
//! `GET` answers the instructions together with a check run against live DNS at that moment,
//! because a customer who has just edited the zone expects to see its current state; the
//! result is also stored, so the domain shows `last_dns_check` and `GET /domains?dns_status=`
//! finds it. `POST …/dns/check` does the same for scripts that want an explicit "run it now".
//! The logic lives in [`crate::dns_check`].
//!
//! A slow or dead nameserver cannot hold a request: every lookup shares one deadline
//! ([`dns_check::DEADLINE`]) and ends up as `timeout` in the result, and at most
//! [`CONCURRENT_CHECKS`] checks run at a time (further ones wait up to the same deadline, then
//! get 503).

use crate::auth::Caller;
use crate::dns_check::{self, DnsCheck, Subject};
use crate::error::{ApiError, Problem};
use crate::extract::path_id;
use crate::routes::domains::{find_visible, MX_PRIORITY, MX_TTL};
use crate::state::AppState;
use actix_web::{get, post, web, HttpRequest};
use mxspool_store::{domains, DomainId};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::ToSchema;

/// DNS checks running at once, across all requests of this process.
pub const CONCURRENT_CHECKS: usize = 16;

static RUNNING: Semaphore = Semaphore::const_new(CONCURRENT_CHECKS);

/// One DNS record to publish.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DnsRecord {
    /// Record name relative to the zone: `@` is the domain itself.
    pub host: String,
    #[serde(rename = "type")]
    pub record_type: String,
    /// MX preference: the backup must have the highest number of all MX records.
    pub priority: u16,
    /// The mail server: the backup MX host name.
    pub value: String,
    pub ttl: u32,
}

/// What to publish in DNS for one relay domain.
struct DnsInstructions {
    domain: String,
    records: Vec<DnsRecord>,
    zone_file_line: String,
    instructions: String,
}

/// What to publish in DNS for one relay domain (step 2 of the customer's three steps), and
/// the live check of what DNS says now. `check.status` is the verdict: `ok` when the MX
/// record is published right, otherwise each `check.checks` entry that is not `ok` says what
/// is wrong and what to change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "domain": "customer.example",
    "records": [{"host": "@", "type": "MX", "priority": 90, "value": "backup-mx.example.net", "ttl": 1800}],
    "zone_file_line": "customer.example. 1800 IN MX 90 backup-mx.example.net.",
    "instructions": "Add an MX record for customer.example: host \"@\" (the domain itself), type MX, priority 90, mail server backup-mx.example.net, TTL 1800. …",
    "check": {
        "status": "error", "checked_at": "2026-11-28T10:05:00Z", "domain": "customer.example",
        "backup_host": "backup-mx.example.net", "lookup": "ok", "null_mx": false, "ttl": 3600,
        "mx": [{"preference": 10, "exchange": "mail.customer.example", "is_backup": false, "lookup": "ok", "addresses": ["198.51.100.20"], "cname": null}],
        "target": {"host": "mail.customer.example", "lookup": "ok", "addresses": ["198.51.100.20"]},
        "own_addresses": ["203.0.113.5"],
        "checks": [
            {"name": "mx_records_present", "status": "ok", "message": "customer.example has 1 MX record(s)."},
            {"name": "backup_listed", "status": "error", "message": "backup-mx.example.net is not among the MX records of customer.example, so senders never use the backup. Add: customer.example. 1800 IN MX 90 backup-mx.example.net."},
            {"name": "backup_least_priority", "status": "skipped", "message": "Not checked: the backup MX is not listed."},
            {"name": "primary_listed", "status": "ok", "message": "The target host mail.customer.example is an MX with preference 10."},
            {"name": "target_resolves", "status": "ok", "message": "The target host mail.customer.example resolves to 198.51.100.20."},
            {"name": "no_loop", "status": "ok", "message": "The target host is not this backup MX (203.0.113.5)."},
            {"name": "mx_hosts_resolve", "status": "ok", "message": "Every MX host has an address."},
            {"name": "mx_hosts_not_cname", "status": "ok", "message": "No MX host is an alias (CNAME)."},
            {"name": "mx_ttl", "status": "ok", "message": "The MX records have a TTL of 3600 s (1800 s recommended)."}
        ]
    }
}))]
pub struct DnsReport {
    pub domain: String,
    pub records: Vec<DnsRecord>,
    /// The same record as a line for a BIND-style zone file.
    pub zone_file_line: String,
    /// What to do, in words.
    pub instructions: String,
    /// The live check, run for this request and stored on the domain.
    pub check: DnsCheck,
}

fn instructions(domain: &str, target: &str, mx: &str) -> DnsInstructions {
    let text = format!(
        "Add an MX record for {domain}: host \"@\" (the domain itself), type MX, priority \
         {MX_PRIORITY}, mail server {mx}, TTL {MX_TTL}. Keep your primary mail server's MX record \
         ({target}) with a lower number: the backup MX must always have the highest number \
         (least priority) of all MX records of {domain}, so senders use it only when the primary \
         does not answer."
    );
    DnsInstructions {
        domain: domain.to_owned(),
        records: vec![DnsRecord {
            host: "@".to_owned(),
            record_type: "MX".to_owned(),
            priority: MX_PRIORITY,
            value: mx.to_owned(),
            ttl: MX_TTL,
        }],
        zone_file_line: format!("{domain}. {MX_TTL} IN MX {MX_PRIORITY} {mx}."),
        instructions: text,
    }
}

/// Looks the domain up (404 when the caller may not see it), checks its DNS now and stores
/// the result.
async fn check_now(
    state: &web::Data<AppState>,
    caller: Caller,
    req: &HttpRequest,
) -> Result<DnsReport, ApiError> {
    let id = DomainId(path_id(req, "id")?);
    let visibility = caller.domain_visibility();
    let domain = state
        .db(move |conn| find_visible(conn, &visibility, id))
        .await?;
    let config = &state.config;
    let subject = Subject {
        domain: domain.name.clone(),
        target_host: domain.target_host.clone(),
        backup_host: config.hostname.clone(),
        egress_ips: config.egress_ips.clone(),
    };
    let resolver = crate::resolver::build(config.dns_servers.as_deref())
        .map_err(|e| ApiError::Unavailable(format!("DNS checks are unavailable: {e}")))?;
    let _permit = tokio::time::timeout(dns_check::DEADLINE, RUNNING.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::Unavailable("too many DNS checks are running; retry shortly".to_owned())
        })?;
    let check = dns_check::run(&resolver, &subject).await;
    tracing::info!(domain = %domain.name, id = %id, status = %check.status, "DNS check");
    let stored = serde_json::to_value(&check).map_err(|e| ApiError::Internal(e.to_string()))?;
    let (status, checked_at) = (check.status, check.checked_at);
    state
        .db(move |conn| {
            Ok(domains::record_dns_check(
                conn, id, status, checked_at, &stored,
            )?)
        })
        .await?;
    let DnsInstructions {
        domain,
        records,
        zone_file_line,
        instructions,
    } = instructions(&domain.name, &domain.target_host, &config.hostname);
    Ok(DnsReport {
        domain,
        records,
        zone_file_line,
        instructions,
        check,
    })
}

/// The MX record to publish for the backup MX, and a live check of what DNS says now.
///
/// The check runs now against the configured nameservers and is stored on the domain
/// (`last_dns_check`). Lookups that fail are reported in the body (`lookup`: `nxdomain`,
/// `servfail`, `timeout`, …), never as an HTTP error; the whole check takes at most 10 s.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "Domain id")),
    responses(
        (status = 200, description = "The MX record to publish and the live check", body = DnsReport),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many DNS checks running, no usable resolver configuration, or the database unreachable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/domains/{id}/dns")]
pub async fn dns_instructions(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<DnsReport>, ApiError> {
    Ok(web::Json(check_now(&state, caller, &req).await?))
}

/// Check the domain's DNS again now and store the result.
///
/// The same report as `GET /domains/{id}/dns`; for scripts that re-check after changing the
/// zone.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "Domain id")),
    responses(
        (status = 200, description = "The MX record to publish and the live check", body = DnsReport),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many DNS checks running, no usable resolver configuration, or the database unreachable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/domains/{id}/dns/check")]
pub async fn check_dns(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<DnsReport>, ApiError> {
    Ok(web::Json(check_now(&state, caller, &req).await?))
}
