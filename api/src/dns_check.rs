//! The live DNS check of a relay domain: does the domain's published MX set make this service
//! its backup MX, and nothing else?
//!
//! Two halves. [`observe`] asks the nameservers (MX of the domain, addresses and aliases of
//! every MX host, of the target host and of this service's own host name), each lookup
//! bounded by one overall [`DEADLINE`], and never fails: a lookup that does not succeed is
//! recorded as what happened to it ([`Lookup`]: `nxdomain`, `servfail`, `timeout`, …).
//! [`evaluate`] turns those facts into named [`Check`]s without any I/O, so every rule can be
//! unit-tested on hand-written facts. The overall status is the worst check.
//!
//! Rules, and why:
//! - `mx_records_present`: without MX records senders fall back to the domain's A record (or,
//!   with a null MX, refuse to send at all), and never try a backup.
//! - `backup_listed`: this service's host name must be one of the exchanges.
//! - `backup_least_priority`: senders try MX hosts in increasing preference; a backup with the
//!   same number as another MX gets a random share of all mail, a lower one gets it first.
//! - `primary_listed`: the target host (by name, or an MX host resolving to one of its
//!   addresses) must be an MX with a lower number than the backup. A target that is no MX at
//!   all is a warning: it can be a hidden primary behind another MX, but often it is a mistake.
//! - `target_resolves`: the relay must find the target's addresses to deliver.
//! - `no_loop`: a target resolving to this service's own addresses would send relayed mail
//!   back to the relay forever.
//! - `mx_hosts_resolve`: an MX host without A/AAAA records is skipped by senders.
//! - `mx_hosts_not_cname`: RFC 2181 §10.3 forbids an MX exchange that is an alias; many
//!   senders cope, some refuse, so it is a warning.
//! - `mx_ttl`: the TTL of the MX set decides how long a change takes to reach senders. The
//!   recommendation is 1800 s; above one day a fix would take more than a day to be seen
//!   (warning). Shorter TTLs are not flagged: through a caching resolver the TTL seen is the
//!   time left, which legitimately goes down to zero.

use chrono::{DateTime, SubsecRound, Utc};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{ResolveError, TokioResolver};
use mxspool_store::kinds::DnsStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;
use utoipa::ToSchema;

/// The whole check, every lookup included, finishes within this time; a lookup still
/// running then is reported as `timeout`.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// MX TTLs up to this are fine (one day); longer ones make corrections slow to reach senders.
pub const MAX_GOOD_TTL: u32 = 86_400;

/// What happened to one DNS query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DnsLookup)]
pub enum Lookup {
    /// The name exists and has records of the asked type.
    Ok,
    /// The name does not exist (NXDOMAIN).
    Nxdomain,
    /// The name exists but has no records of the asked type (NOERROR, empty answer).
    Nodata,
    /// The nameserver could not answer (SERVFAIL): a broken zone or delegation.
    Servfail,
    /// The nameserver refused to answer (REFUSED).
    Refused,
    /// No answer within the deadline.
    Timeout,
    /// Anything else (unreachable nameserver, malformed answer); see the check's message.
    Failed,
}

impl Lookup {
    fn describe(self) -> &'static str {
        match self {
            Lookup::Ok => "resolved",
            Lookup::Nxdomain => "does not exist (NXDOMAIN)",
            Lookup::Nodata => "has no such records",
            Lookup::Servfail => "could not be resolved: the nameserver answered SERVFAIL",
            Lookup::Refused => "could not be resolved: the nameserver answered REFUSED",
            Lookup::Timeout => "could not be resolved: no answer in time",
            Lookup::Failed => "could not be resolved",
        }
    }

    /// Whether the name is known not to have the records (as opposed to "could not tell").
    fn is_definite(self) -> bool {
        matches!(self, Lookup::Ok | Lookup::Nxdomain | Lookup::Nodata)
    }
}

/// The outcome of a single named check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DnsCheckStatus)]
pub enum CheckStatus {
    Ok,
    Warning,
    Error,
    /// Not evaluated because an earlier check failed (e.g. no MX records at all); does not
    /// count towards the overall status.
    Skipped,
}

/// The stable machine names of the checks, in the order they are reported:
/// `mx_records_present` (the domain has MX records, and no null MX), `backup_listed` (this
/// service's host name is one of them), `backup_least_priority` (its preference number is
/// strictly higher than every other MX's), `primary_listed` (the target host, by name or by a
/// shared address, is an MX with a lower number), `target_resolves`, `no_loop` (the target is
/// not this service), `mx_hosts_resolve` (A/AAAA), `mx_hosts_not_cname`, `mx_ttl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DnsCheckName)]
pub enum CheckName {
    /// The domain has MX records (and no null MX).
    MxRecordsPresent,
    /// The backup MX host name is one of them.
    BackupListed,
    /// The backup's preference number is strictly higher than every other MX's.
    BackupLeastPriority,
    /// The target host (by name or address) is an MX with a lower number than the backup.
    PrimaryListed,
    /// The target host resolves to addresses (or is an IP address).
    TargetResolves,
    /// The target host is not this service itself.
    NoLoop,
    /// Every MX host has A or AAAA records.
    MxHostsResolve,
    /// No MX host is an alias (CNAME).
    MxHostsNotCname,
    /// The TTL of the MX record set.
    MxTtl,
}

/// One named check: its outcome and a sentence saying what was found and what to do.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = DnsCheckItem, example = json!({
    "name": "backup_least_priority", "status": "error",
    "message": "backup-mx.example.net has preference 10, the same as mail.customer.example: senders then pick either at random, so the backup receives mail while the primary is up. Give the backup a higher number (90)."
}))]
pub struct Check {
    pub name: CheckName,
    pub status: CheckStatus,
    pub message: String,
}

/// One published MX record and what its host name resolves to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = DnsMxHost)]
pub struct MxHost {
    pub preference: u16,
    /// Lower case, no trailing dot; `.` in a null MX.
    pub exchange: String,
    /// Whether this is the backup MX (this service).
    pub is_backup: bool,
    /// The A/AAAA lookup of `exchange`.
    pub lookup: Lookup,
    /// A and AAAA addresses of `exchange`.
    #[schema(value_type = Vec<String>, example = json!(["198.51.100.20"]))]
    pub addresses: Vec<IpAddr>,
    /// The name `exchange` is an alias for, when it is a CNAME.
    pub cname: Option<String>,
}

/// A host name (or IP address) and what it resolves to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = DnsHost)]
pub struct HostAddresses {
    pub host: String,
    /// `ok` for an IP address given literally.
    pub lookup: Lookup,
    #[schema(value_type = Vec<String>, example = json!(["198.51.100.20"]))]
    pub addresses: Vec<IpAddr>,
}

/// Everything the check found in DNS, and the verdicts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "status": "ok",
    "checked_at": "2026-11-28T10:05:00Z",
    "domain": "customer.example",
    "backup_host": "backup-mx.example.net",
    "lookup": "ok",
    "null_mx": false,
    "ttl": 1800,
    "mx": [
        {"preference": 10, "exchange": "mail.customer.example", "is_backup": false, "lookup": "ok", "addresses": ["198.51.100.20"], "cname": null},
        {"preference": 90, "exchange": "backup-mx.example.net", "is_backup": true, "lookup": "ok", "addresses": ["203.0.113.5"], "cname": null}
    ],
    "target": {"host": "mail.customer.example", "lookup": "ok", "addresses": ["198.51.100.20"]},
    "own_addresses": ["203.0.113.5"],
    "checks": [
        {"name": "mx_records_present", "status": "ok", "message": "customer.example has 2 MX record(s)."},
        {"name": "backup_listed", "status": "ok", "message": "backup-mx.example.net is an MX of customer.example (preference 90)."},
        {"name": "backup_least_priority", "status": "ok", "message": "The backup MX has the highest number (90): senders use it only when every other MX fails."},
        {"name": "primary_listed", "status": "ok", "message": "The target host mail.customer.example is an MX with preference 10, lower than the backup's 90."},
        {"name": "target_resolves", "status": "ok", "message": "The target host mail.customer.example resolves to 198.51.100.20."},
        {"name": "no_loop", "status": "ok", "message": "The target host is not this backup MX (203.0.113.5)."},
        {"name": "mx_hosts_resolve", "status": "ok", "message": "Every MX host has an address."},
        {"name": "mx_hosts_not_cname", "status": "ok", "message": "No MX host is an alias (CNAME)."},
        {"name": "mx_ttl", "status": "ok", "message": "The MX records have a TTL of 1800 s (1800 s recommended)."}
    ]
}))]
pub struct DnsCheck {
    /// The worst status of the checks (`skipped` ones aside).
    pub status: DnsStatus,
    pub checked_at: DateTime<Utc>,
    pub domain: String,
    /// The MX host name the domain should publish (this service).
    pub backup_host: String,
    /// How the MX query went.
    pub lookup: Lookup,
    /// The domain publishes a null MX (RFC 7505, `0 .`): it declares it accepts no mail.
    pub null_mx: bool,
    /// Smallest TTL of the MX record set, in seconds; null without MX records.
    pub ttl: Option<u32>,
    /// The MX records, by preference.
    pub mx: Vec<MxHost>,
    pub target: HostAddresses,
    /// This service's addresses (MXSPOOL_EGRESS_IPS and those of its host name): a target
    /// resolving to one of them is a loop.
    #[schema(value_type = Vec<String>)]
    pub own_addresses: Vec<IpAddr>,
    pub checks: Vec<Check>,
}

/// The facts [`evaluate`] judges.
#[derive(Debug, Clone)]
pub struct Facts {
    pub domain: String,
    pub backup_host: String,
    pub mx_lookup: Lookup,
    /// Exchanges lower case without trailing dot; `"."` is the root (a null MX).
    pub mx: Vec<MxHost>,
    pub ttl: Option<u32>,
    pub target: HostAddresses,
    pub own_addresses: Vec<IpAddr>,
    /// How the lookup of this service's own host name went (for the loop check).
    pub own_lookup: Lookup,
}

/// Lower case without trailing dot, for comparing host names.
fn canonical(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn join_addresses(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn check(name: CheckName, status: CheckStatus, message: impl Into<String>) -> Check {
    Check {
        name,
        status,
        message: message.into(),
    }
}

/// The named checks, from facts alone.
pub fn evaluate(facts: &Facts) -> Vec<Check> {
    use CheckName as N;
    use CheckStatus as S;
    let domain = &facts.domain;
    let backup = canonical(&facts.backup_host);
    let null_mx = facts.mx.iter().any(|m| m.exchange == ".");
    let mut checks = Vec::new();

    // mx_records_present
    let have_mx = facts.mx_lookup == Lookup::Ok && !facts.mx.is_empty() && !null_mx;
    checks.push(match facts.mx_lookup {
        _ if null_mx => check(
            N::MxRecordsPresent,
            S::Error,
            format!(
                "{domain} publishes a null MX (RFC 7505, \"0 .\"): it declares that it accepts no \
                 mail at all. Replace it with your primary mail server's MX record and the backup \
                 MX record."
            ),
        ),
        _ if have_mx => check(
            N::MxRecordsPresent,
            S::Ok,
            format!("{domain} has {} MX record(s).", facts.mx.len()),
        ),
        Lookup::Ok | Lookup::Nodata => check(
            N::MxRecordsPresent,
            S::Error,
            format!(
                "{domain} has no MX records: senders deliver to its address record, if any, and \
                 never try a backup. Publish your primary's MX record and the backup MX record."
            ),
        ),
        Lookup::Nxdomain => check(
            N::MxRecordsPresent,
            S::Error,
            format!(
                "{domain} does not exist in DNS (NXDOMAIN): check the spelling, and that the \
                 domain is registered and delegated to your nameservers."
            ),
        ),
        other => check(
            N::MxRecordsPresent,
            S::Error,
            format!(
                "The MX records of {domain} {}; senders cannot find any mail server for it \
                 either. Check the domain's nameservers.",
                other.describe()
            ),
        ),
    });

    // backup_listed, backup_least_priority
    let backup_pref = facts
        .mx
        .iter()
        .filter(|m| m.exchange == backup)
        .map(|m| m.preference)
        .min();
    let others: Vec<&MxHost> = facts.mx.iter().filter(|m| m.exchange != backup).collect();
    if !have_mx {
        checks.push(skipped(N::BackupListed, "no MX records to look at"));
        checks.push(skipped(N::BackupLeastPriority, "no MX records to look at"));
    } else if let Some(pref) = backup_pref {
        checks.push(check(
            N::BackupListed,
            S::Ok,
            format!("{backup} is an MX of {domain} (preference {pref})."),
        ));
        let not_lower = others.iter().filter(|m| m.preference >= pref);
        let (equal, higher): (Vec<&&MxHost>, Vec<&&MxHost>) =
            not_lower.partition(|m| m.preference == pref);
        checks.push(if let Some(first) = higher.first() {
            check(
                N::BackupLeastPriority,
                S::Error,
                format!(
                    "{backup} has preference {pref}, lower than {} ({}): senders try lower \
                     numbers first, so the backup receives mail before that server. Give the \
                     backup the highest number of all MX records (e.g. {}).",
                    first.exchange,
                    first.preference,
                    suggested(&facts.mx)
                ),
            )
        } else if let Some(first) = equal.first() {
            check(
                N::BackupLeastPriority,
                S::Error,
                format!(
                    "{backup} has preference {pref}, the same as {}: senders then pick either \
                     at random, so the backup receives mail while the primary is up. Give the \
                     backup a higher number (e.g. {}).",
                    first.exchange,
                    suggested(&facts.mx)
                ),
            )
        } else if others.is_empty() {
            check(
                N::BackupLeastPriority,
                S::Ok,
                format!("The backup MX ({pref}) is the only MX record."),
            )
        } else {
            check(
                N::BackupLeastPriority,
                S::Ok,
                format!(
                    "The backup MX has the highest number ({pref}): senders use it only when \
                     every other MX fails."
                ),
            )
        });
    } else {
        checks.push(check(
            N::BackupListed,
            S::Error,
            format!(
                "{backup} is not among the MX records of {domain}, so senders never use the \
                 backup. Add: {domain}. 1800 IN MX {} {backup}.",
                suggested(&facts.mx)
            ),
        ));
        checks.push(skipped(
            N::BackupLeastPriority,
            "the backup MX is not listed",
        ));
    }

    // primary_listed
    checks.push(primary_listed(facts, have_mx, &backup, backup_pref));

    // target_resolves
    let target = &facts.target;
    checks.push(match target.lookup {
        Lookup::Ok if target.host.parse::<IpAddr>().is_ok() => check(
            N::TargetResolves,
            S::Ok,
            format!(
                "The target host is the IP address {}; no DNS lookup is needed.",
                target.host
            ),
        ),
        Lookup::Ok => check(
            N::TargetResolves,
            S::Ok,
            format!(
                "The target host {} resolves to {}.",
                target.host,
                join_addresses(&target.addresses)
            ),
        ),
        Lookup::Nxdomain | Lookup::Nodata => check(
            N::TargetResolves,
            S::Error,
            format!(
                "The target host {} {}: the relay cannot deliver queued mail to it. Fix the \
                 name in DNS or change the domain's target_host.",
                target.host,
                if target.lookup == Lookup::Nxdomain {
                    "does not exist (NXDOMAIN)"
                } else {
                    "has no A or AAAA records"
                }
            ),
        ),
        other => check(
            N::TargetResolves,
            S::Warning,
            format!(
                "The target host {} {}; the relay retries, but check its nameservers.",
                target.host,
                other.describe()
            ),
        ),
    });

    // no_loop
    let own: BTreeSet<IpAddr> = facts.own_addresses.iter().copied().collect();
    let looping: Vec<IpAddr> = target
        .addresses
        .iter()
        .copied()
        .filter(|a| own.contains(a))
        .collect();
    checks.push(if canonical(&target.host) == backup {
        check(
            N::NoLoop,
            S::Error,
            format!(
                "The target host is {backup}, this backup MX itself: relayed mail would come \
                 back here forever. Set target_host to your primary mail server."
            ),
        )
    } else if !looping.is_empty() {
        check(
            N::NoLoop,
            S::Error,
            format!(
                "The target host {} resolves to {}, an address of this backup MX: relayed mail \
                 would come back here forever. Set target_host to your primary mail server.",
                target.host,
                join_addresses(&looping)
            ),
        )
    } else if target.addresses.is_empty() {
        skipped(N::NoLoop, "the target host has no known address")
    } else if own.is_empty() {
        check(
            N::NoLoop,
            S::Warning,
            format!(
                "This backup MX's own addresses are unknown ({backup} {}, and no egress \
                 addresses are configured), so a loop cannot be ruled out.",
                facts.own_lookup.describe()
            ),
        )
    } else {
        check(
            N::NoLoop,
            S::Ok,
            format!(
                "The target host is not this backup MX ({}).",
                join_addresses(&facts.own_addresses)
            ),
        )
    });

    // mx_hosts_resolve, mx_hosts_not_cname, mx_ttl
    if !have_mx {
        checks.push(skipped(N::MxHostsResolve, "no MX records to look at"));
        checks.push(skipped(N::MxHostsNotCname, "no MX records to look at"));
        checks.push(skipped(N::MxTtl, "no MX records to look at"));
        return checks;
    }
    let missing: Vec<&MxHost> = facts.mx.iter().filter(|m| m.addresses.is_empty()).collect();
    checks.push(if missing.is_empty() {
        check(N::MxHostsResolve, S::Ok, "Every MX host has an address.")
    } else {
        let status = if missing.iter().all(|m| m.lookup.is_definite()) {
            S::Error
        } else {
            S::Warning
        };
        let list = missing
            .iter()
            .map(|m| format!("{} {}", m.exchange, m.lookup.describe()))
            .collect::<Vec<_>>()
            .join("; ");
        check(
            N::MxHostsResolve,
            status,
            format!(
                "MX host(s) without an A or AAAA record: {list}. Senders skip an MX host they \
                 cannot resolve."
            ),
        )
    });
    let aliases: Vec<String> = facts
        .mx
        .iter()
        .filter_map(|m| m.cname.as_ref().map(|c| format!("{} → {c}", m.exchange)))
        .collect();
    checks.push(if aliases.is_empty() {
        check(N::MxHostsNotCname, S::Ok, "No MX host is an alias (CNAME).")
    } else {
        check(
            N::MxHostsNotCname,
            S::Warning,
            format!(
                "MX host(s) that are aliases (CNAME): {}. RFC 2181 §10.3 forbids this and some \
                 senders refuse it; point the MX record at the canonical name instead.",
                aliases.join(", ")
            ),
        )
    });
    checks.push(match facts.ttl {
        Some(ttl) if ttl > MAX_GOOD_TTL => check(
            N::MxTtl,
            S::Warning,
            format!(
                "The MX records have a TTL of {ttl} s, more than a day: a correction would take \
                 that long to reach senders. 1800 s is recommended."
            ),
        ),
        Some(ttl) => check(
            N::MxTtl,
            S::Ok,
            format!("The MX records have a TTL of {ttl} s (1800 s recommended)."),
        ),
        None => skipped(N::MxTtl, "the MX answer carried no TTL"),
    });
    checks
}

fn skipped(name: CheckName, why: &str) -> Check {
    check(name, CheckStatus::Skipped, format!("Not checked: {why}."))
}

/// A preference number for the backup higher than every other MX: 90, or the highest + 10.
fn suggested(mx: &[MxHost]) -> u32 {
    let highest = mx
        .iter()
        .map(|m| u32::from(m.preference))
        .max()
        .unwrap_or(0);
    if highest < 90 {
        90
    } else {
        highest + 10
    }
}

fn primary_listed(facts: &Facts, have_mx: bool, backup: &str, backup_pref: Option<u16>) -> Check {
    use CheckName as N;
    use CheckStatus as S;
    if !have_mx {
        return skipped(N::PrimaryListed, "no MX records to look at");
    }
    let target = &facts.target;
    let target_name = canonical(&target.host);
    let targets: BTreeSet<IpAddr> = target.addresses.iter().copied().collect();
    // The MX records that stand for the target: by name, or by a shared address.
    let mut matches: Vec<(&MxHost, String)> = Vec::new();
    for m in facts.mx.iter().filter(|m| m.exchange != backup) {
        if m.exchange == target_name {
            matches.push((m, format!("The target host {target_name} is an MX")));
        } else if let Some(shared) = m.addresses.iter().find(|a| targets.contains(a)) {
            matches.push((
                m,
                format!(
                    "{} resolves to {shared}, an address of the target host {}, and is an MX",
                    m.exchange, target.host
                ),
            ));
        }
    }
    let Some((best, how)) = matches.into_iter().min_by_key(|(m, _)| m.preference) else {
        let unresolved = if target.addresses.is_empty() && target.lookup != Lookup::Ok {
            format!(
                " (its addresses are unknown: it {})",
                target.lookup.describe()
            )
        } else {
            String::new()
        };
        return check(
            N::PrimaryListed,
            S::Warning,
            format!(
                "The target host {}{unresolved} is not among the MX records of {}, by name or \
                 address. That is fine if it is a hidden primary reached through another MX; \
                 otherwise publish it with a lower number than the backup.",
                target.host, facts.domain
            ),
        );
    };
    match backup_pref {
        Some(pref) if best.preference >= pref => check(
            N::PrimaryListed,
            S::Error,
            format!(
                "{how} with preference {}, not lower than the backup's {pref}: senders would \
                 not prefer the primary. Give the primary a lower number than the backup.",
                best.preference
            ),
        ),
        Some(pref) => check(
            N::PrimaryListed,
            S::Ok,
            format!(
                "{how} with preference {}, lower than the backup's {pref}.",
                best.preference
            ),
        ),
        None => check(
            N::PrimaryListed,
            S::Ok,
            format!("{how} with preference {}.", best.preference),
        ),
    }
}

/// The overall status: the worst check, skipped ones aside.
pub fn overall(checks: &[Check]) -> DnsStatus {
    let worst = checks.iter().map(|c| c.status);
    if worst.clone().any(|s| s == CheckStatus::Error) {
        DnsStatus::Error
    } else if worst.into_iter().any(|s| s == CheckStatus::Warning) {
        DnsStatus::Warning
    } else {
        DnsStatus::Ok
    }
}

/// What a resolver error means for the check.
fn classify(error: &ResolveError) -> Lookup {
    let Some(proto) = error.proto() else {
        return Lookup::Failed;
    };
    match proto.kind() {
        ProtoErrorKind::NoRecordsFound { response_code, .. } => match *response_code {
            ResponseCode::NXDomain => Lookup::Nxdomain,
            ResponseCode::NoError => Lookup::Nodata,
            ResponseCode::ServFail => Lookup::Servfail,
            ResponseCode::Refused => Lookup::Refused,
            _ => Lookup::Failed,
        },
        ProtoErrorKind::Timeout => Lookup::Timeout,
        _ => Lookup::Failed,
    }
}

fn fqdn(host: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", canonical(host))).ok()
}

/// The addresses of `host` (and the alias it is, if a CNAME), within `deadline`.
async fn resolve_host(
    resolver: &TokioResolver,
    host: &str,
    deadline: Instant,
) -> (Lookup, Vec<IpAddr>, Option<String>) {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return (Lookup::Ok, vec![ip], None);
    }
    let Some(name) = fqdn(host) else {
        return (Lookup::Failed, Vec::new(), None);
    };
    match tokio::time::timeout_at(deadline, resolver.lookup_ip(name.clone())).await {
        Err(_) => (Lookup::Timeout, Vec::new(), None),
        Ok(Err(e)) => (classify(&e), Vec::new(), None),
        Ok(Ok(found)) => {
            let mut addresses: Vec<IpAddr> = found.iter().collect();
            addresses.sort();
            addresses.dedup();
            let cname = found
                .as_lookup()
                .records()
                .iter()
                .find_map(|r| match r.data() {
                    RData::CNAME(alias) if r.name() == &name => {
                        Some(canonical(&alias.0.to_ascii()))
                    }
                    _ => None,
                });
            let lookup = if addresses.is_empty() {
                Lookup::Nodata
            } else {
                Lookup::Ok
            };
            (lookup, addresses, cname)
        }
    }
}

/// The MX records of `domain` and their smallest TTL.
async fn resolve_mx(
    resolver: &TokioResolver,
    domain: &str,
    deadline: Instant,
) -> (Lookup, Vec<(u16, String)>, Option<u32>) {
    let Some(name) = fqdn(domain) else {
        return (Lookup::Failed, Vec::new(), None);
    };
    match tokio::time::timeout_at(deadline, resolver.lookup(name, RecordType::MX)).await {
        Err(_) => (Lookup::Timeout, Vec::new(), None),
        Ok(Err(e)) => (classify(&e), Vec::new(), None),
        Ok(Ok(found)) => {
            let mut ttl: Option<u32> = None;
            let mut mx = Vec::new();
            for record in found.records() {
                if let RData::MX(m) = record.data() {
                    ttl = Some(ttl.map_or(record.ttl(), |t| t.min(record.ttl())));
                    let exchange = if m.exchange().is_root() {
                        ".".to_owned()
                    } else {
                        canonical(&m.exchange().to_ascii())
                    };
                    mx.push((m.preference(), exchange));
                }
            }
            mx.sort();
            mx.dedup();
            let lookup = if mx.is_empty() {
                Lookup::Nodata
            } else {
                Lookup::Ok
            };
            (lookup, mx, ttl)
        }
    }
}

/// What the domain's configuration is checked against.
#[derive(Debug, Clone)]
pub struct Subject {
    pub domain: String,
    pub target_host: String,
    /// This service's MX host name (MXSPOOL_HOSTNAME).
    pub backup_host: String,
    /// MXSPOOL_EGRESS_IPS.
    pub egress_ips: Vec<IpAddr>,
}

/// Asks the nameservers everything [`evaluate`] needs; finishes by `deadline`.
pub async fn observe(resolver: &TokioResolver, subject: &Subject, deadline: Instant) -> Facts {
    let (mx, target, own) = futures_util::join!(
        resolve_mx(resolver, &subject.domain, deadline),
        resolve_host(resolver, &subject.target_host, deadline),
        resolve_host(resolver, &subject.backup_host, deadline),
    );
    let (mx_lookup, records, ttl) = mx;
    let backup = canonical(&subject.backup_host);
    let hosts = futures_util::future::join_all(records.iter().map(|(_, exchange)| async move {
        if exchange == "." {
            (Lookup::Nodata, Vec::new(), None)
        } else {
            resolve_host(resolver, exchange, deadline).await
        }
    }))
    .await;
    let mx = records
        .into_iter()
        .zip(hosts)
        .map(
            |((preference, exchange), (lookup, addresses, cname))| MxHost {
                preference,
                is_backup: exchange == backup,
                exchange,
                lookup,
                addresses,
                cname,
            },
        )
        .collect();
    let mut own_addresses: Vec<IpAddr> = subject.egress_ips.clone();
    own_addresses.extend(own.1);
    own_addresses.sort();
    own_addresses.dedup();
    Facts {
        domain: subject.domain.clone(),
        backup_host: backup,
        mx_lookup,
        mx,
        ttl,
        target: HostAddresses {
            host: subject.target_host.clone(),
            lookup: target.0,
            addresses: target.1,
        },
        own_addresses,
        own_lookup: own.0,
    }
}

/// Runs the whole check: lookups within [`DEADLINE`], then the verdicts.
pub async fn run(resolver: &TokioResolver, subject: &Subject) -> DnsCheck {
    let deadline = Instant::now() + DEADLINE;
    let facts = observe(resolver, subject, deadline).await;
    let checks = evaluate(&facts);
    DnsCheck {
        status: overall(&checks),
        // Stored with PostgreSQL's precision, so the report and the domain agree.
        checked_at: Utc::now().trunc_subsecs(6),
        null_mx: facts.mx.iter().any(|m| m.exchange == "."),
        domain: facts.domain,
        backup_host: facts.backup_host,
        lookup: facts.mx_lookup,
        ttl: facts.ttl,
        mx: facts.mx,
        target: facts.target,
        own_addresses: facts.own_addresses,
        checks,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn host(preference: u16, exchange: &str, addresses: &[&str]) -> MxHost {
        MxHost {
            preference,
            exchange: exchange.to_owned(),
            is_backup: exchange == "backup.example.net",
            lookup: if addresses.is_empty() {
                Lookup::Nxdomain
            } else {
                Lookup::Ok
            },
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
            cname: None,
        }
    }

    fn facts(mx: Vec<MxHost>) -> Facts {
        Facts {
            domain: "customer.example".to_owned(),
            backup_host: "backup.example.net".to_owned(),
            mx_lookup: Lookup::Ok,
            mx,
            ttl: Some(1800),
            target: HostAddresses {
                host: "mail.customer.example".to_owned(),
                lookup: Lookup::Ok,
                addresses: vec!["198.51.100.1".parse().unwrap()],
            },
            own_addresses: vec!["203.0.113.5".parse().unwrap()],
            own_lookup: Lookup::Ok,
        }
    }

    fn status_of(checks: &[Check], name: CheckName) -> CheckStatus {
        checks.iter().find(|c| c.name == name).unwrap().status
    }

    #[test]
    fn every_check_is_reported_once_whatever_the_facts() {
        let cases = [
            facts(vec![]),
            facts(vec![host(0, ".", &[])]),
            facts(vec![host(90, "backup.example.net", &["203.0.113.5"])]),
        ];
        for f in cases {
            let checks = evaluate(&f);
            assert_eq!(checks.len(), 9, "{checks:?}");
        }
    }

    #[test]
    fn a_backup_alone_is_least_priority_but_the_primary_is_missing() {
        let f = facts(vec![host(90, "backup.example.net", &["203.0.113.5"])]);
        let checks = evaluate(&f);
        assert_eq!(
            status_of(&checks, CheckName::BackupLeastPriority),
            CheckStatus::Ok
        );
        assert_eq!(
            status_of(&checks, CheckName::PrimaryListed),
            CheckStatus::Warning
        );
        assert_eq!(overall(&checks), DnsStatus::Warning);
    }

    #[test]
    fn the_suggested_number_stays_above_every_other_mx() {
        assert_eq!(suggested(&[host(10, "a.example", &[])]), 90);
        assert_eq!(suggested(&[host(100, "a.example", &[])]), 110);
        let f = facts(vec![
            host(100, "mail.customer.example", &["198.51.100.1"]),
            host(100, "backup.example.net", &["203.0.113.5"]),
        ]);
        let message = evaluate(&f)
            .into_iter()
            .find(|c| c.name == CheckName::BackupLeastPriority)
            .unwrap()
            .message;
        assert!(message.contains("110"), "{message}");
    }

    #[test]
    fn unresolvable_hosts_are_an_error_only_when_dns_said_so() {
        let mut unsure = host(20, "mx2.customer.example", &[]);
        unsure.lookup = Lookup::Timeout;
        let f = facts(vec![
            host(10, "mail.customer.example", &["198.51.100.1"]),
            unsure,
            host(90, "backup.example.net", &["203.0.113.5"]),
        ]);
        let checks = evaluate(&f);
        assert_eq!(
            status_of(&checks, CheckName::MxHostsResolve),
            CheckStatus::Warning
        );
    }

    #[test]
    fn unknown_own_addresses_leave_the_loop_check_a_warning() {
        let mut f = facts(vec![
            host(10, "mail.customer.example", &["198.51.100.1"]),
            host(90, "backup.example.net", &[]),
        ]);
        f.own_addresses.clear();
        f.own_lookup = Lookup::Servfail;
        let checks = evaluate(&f);
        assert_eq!(status_of(&checks, CheckName::NoLoop), CheckStatus::Warning);
    }

    #[test]
    fn the_backup_host_as_target_is_a_loop_by_name() {
        let mut f = facts(vec![
            host(10, "mail.customer.example", &["198.51.100.1"]),
            host(90, "backup.example.net", &["203.0.113.5"]),
        ]);
        f.target.host = "Backup.Example.Net.".to_owned();
        f.target.addresses.clear();
        let checks = evaluate(&f);
        assert_eq!(status_of(&checks, CheckName::NoLoop), CheckStatus::Error);
    }

    #[test]
    fn skipped_checks_do_not_count_towards_the_overall_status() {
        let checks = vec![
            check(CheckName::MxRecordsPresent, CheckStatus::Ok, "fine"),
            check(CheckName::MxTtl, CheckStatus::Skipped, "not checked"),
        ];
        assert_eq!(overall(&checks), DnsStatus::Ok);
    }
}
