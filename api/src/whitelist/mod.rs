//! The whitelist report, the customer's step 3: which addresses mxspool's mail comes from
//! (with their PTR names), paste-ready allow-list snippets for the primary's filters, and per
//! address the evidence of how the domain's target treats it, with a verdict.
//!
//! - [`egress`]: the addresses and their reverse DNS, forward-confirmed or not.
//! - [`verdict`]: how replies become `ok` / `rejected` / `greylisted` / `deferred` / `unknown`.
//! - [`snippets`]: Postfix, Exim, rspamd, SpamAssassin, Microsoft 365, nftables, iptables.
//! - [`text`]: the whole report as plain text.
//! - [`probe`]: the verify probe, an SMTP session up to RCPT from one bound source address.

pub mod egress;
pub mod probe;
pub mod snippets;
pub mod text;
pub mod verdict;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use egress::{EgressAddress, EgressSource};
pub use snippets::Snippet;
pub use verdict::{EvidenceItem, EvidenceSource, Verdict};

/// How long evidence counts as "recent" for the verdicts: 7 days before the report.
pub const RECENT_DAYS: i64 = 7;
/// Delivery attempts and verify probes read per address, each (before merging the recipients
/// of one transaction).
pub const READ_PER_KIND: i64 = 50;
/// Evidence items shown (and judged) per address: the latest ones.
pub const SHOWN_PER_ADDRESS: usize = 10;

/// How one egress address fares with one domain's target.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "ip": "192.0.2.25", "verdict": "rejected",
    "reason": "the latest reply (verify, 2026-11-28T10:04:58Z) is a policy rejection: 554 5.7.1 Client host [192.0.2.25] blocked using zen.spamhaus.org",
    "evidence": [{"source": "verify", "at": "2026-11-28T10:04:58Z", "code": 554,
        "reply": "554 5.7.1 Client host [192.0.2.25] blocked using zen.spamhaus.org",
        "target_ip": "203.0.113.10", "stage": "rcpt", "recent": true}]
}))]
#[schema(as = WhitelistAddress)]
pub struct AddressEvidence {
    /// The egress address.
    pub ip: String,
    pub verdict: Verdict,
    /// The verdict in a sentence, naming the reply it rests on.
    pub reason: String,
    /// The latest delivery attempts and verify probes from this address to the domain's
    /// current target host, newest first (at most 10; the recipients of one transaction
    /// count once).
    pub evidence: Vec<EvidenceItem>,
}

/// The evidence for one relay domain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DomainWhitelist {
    pub domain_id: i64,
    pub domain: String,
    /// The primary mail server, where the allow-list entries go.
    pub target_host: String,
    pub target_port: u16,
    /// One entry per egress address, in the order of `egress`.
    pub addresses: Vec<AddressEvidence>,
}

/// `GET /domains/{id}/whitelist`: what to allow on the domain's primary, and how the primary
/// treats mxspool's addresses today.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "generated_at": "2026-11-28T10:05:00Z",
    "backup_mx_hostname": "backup-mx.example.net",
    "egress_source": "configured",
    "egress": [{"ip": "192.0.2.25", "family": "ipv4", "cidr": "192.0.2.25/32",
        "ptr": "backup-mx.example.net", "ptr_names": ["backup-mx.example.net"],
        "forward_confirmed": true, "dns_problem": null}],
    "egress_problem": null,
    "recent_days": 7,
    "domain": {"domain_id": 12, "domain": "customer.example",
        "target_host": "mail.customer.example", "target_port": 25,
        "addresses": [{"ip": "192.0.2.25", "verdict": "ok",
            "reason": "the latest reply (delivery, 2026-11-28T09:58:12Z) accepted the mail: 250 2.0.0 Ok: queued as 4F2A1",
            "evidence": [{"source": "delivery", "at": "2026-11-28T09:58:12Z", "code": 250,
                "reply": "250 2.0.0 Ok: queued as 4F2A1", "target_ip": "203.0.113.10",
                "stage": null, "recent": true}]}]},
    "snippets": [{"id": "postfix", "label": "Postfix",
        "instructions": "Create the table, reference it in main.cf, then run `postfix reload`.",
        "text": "# /etc/postfix/mxspool_backup_mx.cidr\n192.0.2.25/32 OK\n"}]
}))]
pub struct WhitelistReport {
    pub generated_at: DateTime<Utc>,
    /// MXSPOOL_HOSTNAME: the backup MX the customer published.
    pub backup_mx_hostname: String,
    pub egress_source: EgressSource,
    /// The addresses mxspool sends from: allow these on the primary.
    pub egress: Vec<EgressAddress>,
    /// Why `egress` is empty or incomplete (e.g. the host name does not resolve); null when all
    /// is well.
    pub egress_problem: Option<String>,
    /// Evidence younger than this many days is "recent" and decides the verdicts.
    pub recent_days: i64,
    pub domain: DomainWhitelist,
    /// Paste-ready allow-list entries for common filters, each labelled.
    pub snippets: Vec<Snippet>,
}

/// `GET /whitelist`: one page of the caller's domains with their evidence; the egress
/// addresses and snippets once for all of them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhitelistOverview {
    pub generated_at: DateTime<Utc>,
    pub backup_mx_hostname: String,
    pub egress_source: EgressSource,
    pub egress: Vec<EgressAddress>,
    pub egress_problem: Option<String>,
    pub recent_days: i64,
    /// The snippets cover the target ports of the domains on this page.
    pub snippets: Vec<Snippet>,
    /// The caller's domains (ordered by id), with per-address evidence and verdicts.
    pub items: Vec<DomainWhitelist>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
