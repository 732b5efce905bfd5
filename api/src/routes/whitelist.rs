//! `/domains/{id}/whitelist`, `/whitelist` and `/domains/{id}/whitelist/verify`: the
//! customer's step 3, whitelisting the backup MX on the primary mail server. What the report
//! holds and how its verdicts are reached is in [`crate::whitelist`].
//!
//! Visibility is that of the domains: another tenant's domain answers 404, and `/whitelist`
//! lists only the caller's domains (keyset pages like `/domains`).

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{path_id, ValidQuery};
use crate::pagination::PageRequest;
use crate::routes::domains::find_visible;
use crate::state::AppState;
use crate::whitelist::probe::{self, Probe, ProbeOutcome, Stage, TranscriptLine};
use crate::whitelist::{
    egress, snippets, text, verdict, AddressEvidence, DomainWhitelist, EgressAddress, EgressSource,
    WhitelistOverview, WhitelistReport, READ_PER_KIND, RECENT_DAYS, SHOWN_PER_ADDRESS,
};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use hickory_resolver::TokioResolver;
use mxspool_store::domains::{self, DomainFilter, RelayDomain};
use mxspool_store::names::{check_target_address, parse_ip_literal};
use mxspool_store::whitelist::{self as store, Evidence, NewWhitelistCheck};
use mxspool_store::DomainId;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// Longest a verify probe from one egress address may take, all steps included.
pub const PROBE_BUDGET: Duration = Duration::from_secs(10);
/// Verify runs at once on this API process; more wait, then get 503.
const CONCURRENT_VERIFIES: usize = 8;
static VERIFYING: Semaphore = Semaphore::const_new(CONCURRENT_VERIFIES);

/// Representation of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WhitelistFormat)]
pub enum ReportFormat {
    /// `application/json` (the default).
    Json,
    /// `text/plain`: the whole report for a person to read and paste from.
    Text,
}

/// `GET /domains/{id}/whitelist` parameters.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `json` (default) or `text`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// `GET /whitelist` parameters.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// `json` (default) or `text`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
    /// Domains per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The result of one probe, as stored and returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = WhitelistProbeResult)]
pub struct ProbeResult {
    /// The egress address the session was opened from.
    pub source_ip: String,
    /// The target address connected to (null when none could be chosen).
    pub target_ip: Option<String>,
    pub outcome: ProbeOutcome,
    /// The step the session ended at (`rcpt` when it got that far).
    pub stage: Stage,
    /// The last reply code; null when no reply came.
    pub code: Option<u16>,
    /// The last reply, or what went wrong (e.g. the address cannot be bound on this host).
    pub reply: String,
    /// Each command sent and the reply to it, the greeting first.
    pub transcript: Vec<TranscriptLine>,
    pub duration_ms: i32,
    pub checked_at: DateTime<Utc>,
}

/// `POST /domains/{id}/whitelist/verify`: one probe per egress address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "domain_id": 12, "domain": "customer.example", "target_host": "mail.customer.example",
    "target_port": 25, "recipient": "postmaster@customer.example",
    "results": [
        {"source_ip": "192.0.2.25", "target_ip": "203.0.113.10", "outcome": "accepted",
         "stage": "rcpt", "code": 250, "reply": "250 2.1.5 Ok",
         "transcript": [
            {"command": null, "reply": "220 mail.customer.example ESMTP"},
            {"command": "EHLO backup-mx.example.net", "reply": "250 mail.customer.example PIPELINING SIZE 10240000"},
            {"command": "MAIL FROM:<>", "reply": "250 2.1.0 Ok"},
            {"command": "RCPT TO:<postmaster@customer.example>", "reply": "250 2.1.5 Ok"}],
         "duration_ms": 41, "checked_at": "2026-11-28T10:05:00Z"},
        {"source_ip": "2001:db8::25", "target_ip": null, "outcome": "error", "stage": "bind",
         "code": null,
         "reply": "cannot send from 2001:db8::25: this host cannot bind it (Cannot assign requested address (os error 99))",
         "transcript": [], "duration_ms": 0, "checked_at": "2026-11-28T10:05:00Z"}
    ]
}))]
#[schema(as = WhitelistVerifyReport)]
pub struct VerifyReport {
    pub domain_id: DomainId,
    pub domain: String,
    pub target_host: String,
    pub target_port: u16,
    /// The test recipient asked for at RCPT: `postmaster@<domain>` (RFC 5321 requires it).
    pub recipient: String,
    pub results: Vec<ProbeResult>,
}

fn resolver(state: &AppState) -> Result<TokioResolver, ApiError> {
    crate::resolver::build(state.config.dns_servers.as_deref())
        .map_err(|e| ApiError::Unavailable(format!("the whitelist report needs DNS: {e}")))
}

/// The egress addresses with their PTR names (shared by both reports).
struct Egress {
    source: EgressSource,
    ips: Vec<IpAddr>,
    described: Vec<EgressAddress>,
    problem: Option<String>,
}

async fn egress_of(state: &AppState, resolver: &TokioResolver) -> Egress {
    let config = &state.config;
    let (source, ips, problem) =
        egress::addresses(resolver, &config.egress_ips, &config.hostname).await;
    let described = egress::describe(resolver, &ips).await;
    Egress {
        source,
        ips,
        described,
        problem,
    }
}

/// One domain's evidence and verdicts from the rows of [`store::evidence`].
fn domain_whitelist(
    domain: &RelayDomain,
    ips: &[IpAddr],
    rows: &[Evidence],
    now: DateTime<Utc>,
) -> DomainWhitelist {
    let addresses = ips
        .iter()
        .map(|ip| {
            let ip = ip.to_string();
            let mine: Vec<&Evidence> = rows
                .iter()
                .filter(|r| r.domain_id == domain.id && r.source_ip == ip)
                .collect();
            let evidence = verdict::items(&mine, now, SHOWN_PER_ADDRESS);
            let (verdict, reason) = verdict::judge(&evidence);
            AddressEvidence {
                ip,
                verdict,
                reason: reason.replace("{id}", &domain.id.to_string()),
                evidence,
            }
        })
        .collect();
    DomainWhitelist {
        domain_id: domain.id.0,
        domain: domain.name.clone(),
        target_host: domain.target_host.clone(),
        target_port: port_of(domain),
        addresses,
    }
}

fn port_of(domain: &RelayDomain) -> u16 {
    u16::try_from(domain.target_port).unwrap_or(25)
}

fn respond<T: Serialize>(
    format: Option<ReportFormat>,
    body: &T,
    text: impl FnOnce(&T) -> String,
) -> HttpResponse {
    match format.unwrap_or(ReportFormat::Json) {
        ReportFormat::Json => HttpResponse::Ok().json(body),
        ReportFormat::Text => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(text(body)),
    }
}

/// What to allow on the domain's primary mail server, and how it treats mxspool today.
///
/// Lists mxspool's egress addresses (MXSPOOL_EGRESS_IPS, else the addresses of the backup MX
/// host name) with their PTR names and whether each PTR name resolves back to the address;
/// paste-ready allow-list snippets for Postfix, Exim, rspamd, SpamAssassin, Microsoft 365,
/// nftables and iptables; and per address the latest delivery attempts and verify probes to
/// the domain's current target host with a verdict.
///
/// Verdicts use the evidence of the last 7 days ("recent": started less than 7 × 24 h before
/// the report), at most the 10 latest items per address, only items with a reply code, and
/// not 5xx replies about the mailbox or message (5.1.x, 5.2.x, 5.3.x, 5.6.x):
/// `rejected` when the newest is a 5xx policy rejection (5.7.x, or words like blocked,
/// blacklist, policy, spam, denied, access); `greylisted` when the newest is 2xx and a 2xx
/// came right after two or more consecutive 4xx; `ok` when the newest is 2xx; `deferred` when
/// the newest is 4xx; `unknown` when nothing counts (no attempts yet).
///
/// `?format=text` returns the same report as `text/plain`.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "Domain id"), ReportQuery),
    responses(
        (status = 200, description = "The report, as JSON or (`format=text`) plain text",
         content(
            (WhitelistReport = "application/json"),
            (String = "text/plain", example = "Whitelist report for customer.example\n=====================================\nGenerated 2026-11-28T10:05:00+00:00\nBackup MX: backup-mx.example.net\n\nAddresses to allow (mxspool sends from these)\n---------------------------------------------\n  192.0.2.25                              PTR backup-mx.example.net (forward-confirmed)\n…"),
         )),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No usable resolver configuration", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/domains/{id}/whitelist")]
pub async fn domain_whitelist_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: ValidQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let visibility = caller.domain_visibility();
    let domain = state
        .db(move |conn| find_visible(conn, &visibility, id))
        .await?;
    let resolver = resolver(&state)?;
    let egress = egress_of(&state, &resolver).await;
    let ips: Vec<String> = egress.ips.iter().map(IpAddr::to_string).collect();
    let rows = state
        .db(move |conn| Ok(store::evidence(conn, &[id], &ips, READ_PER_KIND)?))
        .await?;
    let now = Utc::now();
    let report = WhitelistReport {
        generated_at: now,
        backup_mx_hostname: state.config.hostname.clone(),
        egress_source: egress.source,
        snippets: snippets::build(&egress.ips, &state.config.hostname, &[port_of(&domain)]),
        domain: domain_whitelist(&domain, &egress.ips, &rows, now),
        egress: egress.described,
        egress_problem: egress.problem,
        recent_days: RECENT_DAYS,
    };
    Ok(respond(query.0.format, &report, text::report))
}

/// The whitelist report for all the caller's domains, a page at a time.
///
/// The egress addresses, their PTR names and the snippets once (the snippets cover the target
/// ports of the page's domains); then each domain (ordered by id) with per-address evidence
/// and verdicts as in `GET /domains/{id}/whitelist`. Pages hold up to 500 domains (default
/// 50; the evidence of a whole page is read in one statement); pass `next_cursor` as `cursor`
/// for the next. `?format=text` returns plain text.
#[utoipa::path(
    tag = "domains",
    params(OverviewQuery),
    responses(
        (status = 200, description = "One page of the report, as JSON or (`format=text`) plain text",
         content(
            (WhitelistOverview = "application/json"),
            (String = "text/plain"),
         )),
        (status = 503, description = "No usable resolver configuration", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/whitelist")]
pub async fn whitelist_overview(
    state: web::Data<AppState>,
    caller: Caller,
    query: ValidQuery<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let resolver = resolver(&state)?;
    let egress = egress_of(&state, &resolver).await;
    let ips: Vec<String> = egress.ips.iter().map(IpAddr::to_string).collect();
    let visibility = caller.domain_visibility();
    let (rows, evidence, next_cursor) = state
        .db(move |conn| {
            let rows = domains::list(
                conn,
                &visibility,
                &DomainFilter::default(),
                page.after.map(DomainId),
                page.fetch(),
            )?;
            let (rows, next) = page.finish(rows, |d| d.id.0);
            let ids: Vec<DomainId> = rows.iter().map(|d| d.id).collect();
            let evidence = store::evidence(conn, &ids, &ips, READ_PER_KIND)?;
            Ok((rows, evidence, next))
        })
        .await?;
    let now = Utc::now();
    let mut ports: Vec<u16> = rows.iter().map(port_of).collect();
    ports.sort_unstable();
    ports.dedup();
    let overview = WhitelistOverview {
        generated_at: now,
        backup_mx_hostname: state.config.hostname.clone(),
        egress_source: egress.source,
        snippets: snippets::build(&egress.ips, &state.config.hostname, &ports),
        items: rows
            .iter()
            .map(|d| domain_whitelist(d, &egress.ips, &evidence, now))
            .collect(),
        egress: egress.described,
        egress_problem: egress.problem,
        recent_days: RECENT_DAYS,
        next_cursor,
    };
    Ok(respond(q.format, &overview, text::overview))
}

/// Test now whether the domain's primary accepts mail from each egress address.
///
/// From every egress address (bound as the local address before connecting) mxspool opens an
/// SMTP session to the target host and port (its A/AAAA addresses of the same family, or the
/// IP literal): greeting, `EHLO <MXSPOOL_HOSTNAME>` (HELO if refused), `MAIL FROM:<>`,
/// `RCPT TO:<postmaster@domain>`, then QUIT — never DATA, so no mail is sent. Each probe has
/// 10 seconds in all; an address this host cannot bind, or a target that does not answer, is
/// reported in that address's result (outcome `error`), not as a failed request. The results
/// are stored (the latest 20 per address) and count as evidence for the report's verdicts.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "Domain id")),
    responses(
        (status = 200, description = "One probe result per egress address", body = VerifyReport),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No egress address is known (MXSPOOL_EGRESS_IPS unset and the host name does not resolve)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many verifications running, or no usable resolver configuration", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/domains/{id}/whitelist/verify")]
pub async fn verify_whitelist(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<VerifyReport>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let visibility = caller.domain_visibility();
    let domain = state
        .db(move |conn| find_visible(conn, &visibility, id))
        .await?;
    let _permit = tokio::time::timeout(PROBE_BUDGET, VERIFYING.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::Unavailable("too many verifications are running; retry shortly".to_owned())
        })?;
    let resolver = resolver(&state)?;
    let config = &state.config;
    let (_, ips, problem) =
        egress::addresses(&resolver, &config.egress_ips, &config.hostname).await;
    if ips.is_empty() {
        return Err(ApiError::Conflict(problem.unwrap_or_else(|| {
            "no egress address is known; set MXSPOOL_EGRESS_IPS".to_owned()
        })));
    }
    let port = port_of(&domain);
    let targets =
        target_addresses(&resolver, &domain.target_host, config.allow_private_targets).await;
    let recipient = format!("postmaster@{}", domain.name);
    let probes = ips.iter().map(|source| {
        let target = pick_target(&targets, *source, port, &domain.target_host);
        probe::run(*source, target, &config.hostname, &recipient, PROBE_BUDGET)
    });
    let probes: Vec<Probe> = futures_util::future::join_all(probes).await;
    let new: Vec<NewWhitelistCheck> = probes
        .iter()
        .map(|p| NewWhitelistCheck {
            domain_id: id,
            source_ip: p.source.to_string(),
            target_host: domain.target_host.clone(),
            target_port: i32::from(port),
            target_ip: p.target.map(|ip| ip.to_string()),
            recipient: recipient.clone(),
            duration_ms: i32::try_from(p.duration.as_millis()).unwrap_or(i32::MAX),
            stage: p.stage.as_str().to_owned(),
            outcome: p.outcome.as_str().to_owned(),
            code: p.code.map(i32::from),
            reply: p.reply.clone(),
            transcript: serde_json::to_value(&p.transcript).unwrap_or_default(),
        })
        .collect();
    let stored = state.db(move |conn| Ok(store::record(conn, &new)?)).await?;
    let results = probes
        .into_iter()
        .zip(stored)
        .map(|(p, row)| ProbeResult {
            source_ip: row.source_ip,
            target_ip: row.target_ip,
            outcome: p.outcome,
            stage: p.stage,
            code: p.code,
            reply: p.reply,
            transcript: p.transcript,
            duration_ms: row.duration_ms,
            checked_at: row.checked_at,
        })
        .collect();
    tracing::info!(domain = %domain.name, id = %id, "whitelist verified");
    Ok(web::Json(VerifyReport {
        domain_id: id,
        domain: domain.name.clone(),
        target_host: domain.target_host.clone(),
        target_port: port,
        recipient,
        results,
    }))
}

/// The target's addresses we may connect to, or why there are none.
async fn target_addresses(
    resolver: &TokioResolver,
    host: &str,
    allow_private: bool,
) -> Result<Vec<IpAddr>, String> {
    let ips = match parse_ip_literal(host) {
        Some(ip) => vec![ip],
        None => {
            let name = format!("{}.", host.trim_end_matches('.'));
            match tokio::time::timeout(Duration::from_secs(5), resolver.lookup_ip(name)).await {
                Err(_) => return Err(format!("resolving {host}: timed out")),
                Ok(Err(e)) => return Err(format!("resolving {host}: {e}")),
                Ok(Ok(found)) => found.iter().collect(),
            }
        }
    };
    let mut refused = None;
    let allowed: Vec<IpAddr> = ips
        .into_iter()
        .filter(|ip| match check_target_address(*ip, allow_private) {
            Ok(()) => true,
            Err(e) => {
                refused.get_or_insert(format!("not connecting to {ip}: {e}"));
                false
            }
        })
        .collect();
    match (allowed.is_empty(), refused) {
        (true, Some(why)) => Err(why),
        (true, None) => Err(format!("{host} has no address")),
        (false, _) => Ok(allowed),
    }
}

/// The first target address of `source`'s family.
fn pick_target(
    targets: &Result<Vec<IpAddr>, String>,
    source: IpAddr,
    port: u16,
    host: &str,
) -> Result<SocketAddr, String> {
    let targets = targets.as_ref().map_err(Clone::clone)?;
    targets
        .iter()
        .find(|t| t.is_ipv4() == source.is_ipv4())
        .map(|ip| SocketAddr::new(*ip, port))
        .ok_or_else(|| {
            let family = if source.is_ipv4() { "IPv4" } else { "IPv6" };
            format!("{host} has no {family} address to reach from {source}")
        })
}
