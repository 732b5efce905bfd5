//! The relay's egress addresses and their reverse DNS.
//!
//! The addresses are MXSPOOL_EGRESS_IPS when set, otherwise the A/AAAA addresses of
//! MXSPOOL_HOSTNAME. Each gets its PTR names; an address is *forward-confirmed* when one of
//! its PTR names resolves (A/AAAA) back to it — what receiving filters (Postfix's
//! `reject_unknown_client_hostname`, many scoring rules) check.

use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::TokioResolver;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;
use utoipa::ToSchema;

/// How long the reverse and forward lookups of all addresses may take together.
const LOOKUP_BUDGET: Duration = Duration::from_secs(8);

/// Where the egress addresses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EgressSource {
    /// MXSPOOL_EGRESS_IPS.
    Configured,
    /// The A/AAAA records of MXSPOOL_HOSTNAME (MXSPOOL_EGRESS_IPS is not set).
    Hostname,
}

/// One address mxspool sends mail from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EgressAddress {
    pub ip: String,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The address as a one-host network (`/32`, `/128`), as most allow lists take it.
    pub cidr: String,
    /// The first PTR name (without the trailing dot); null without one.
    pub ptr: Option<String>,
    /// Every PTR name of the address.
    pub ptr_names: Vec<String>,
    /// One of the PTR names resolves back to this address.
    pub forward_confirmed: bool,
    /// What went wrong looking the names up (NXDOMAIN, timeout, …); null when nothing did.
    pub dns_problem: Option<String>,
}

/// The egress addresses (configured, or those of `hostname`) and, if that lookup failed,
/// why.
pub async fn addresses(
    resolver: &TokioResolver,
    configured: &[IpAddr],
    hostname: &str,
) -> (EgressSource, Vec<IpAddr>, Option<String>) {
    if !configured.is_empty() {
        return (EgressSource::Configured, configured.to_vec(), None);
    }
    if let Ok(ip) = hostname.parse::<IpAddr>() {
        return (EgressSource::Hostname, vec![ip], None);
    }
    let problem = |why: String| {
        format!(
            "MXSPOOL_EGRESS_IPS is not set and the addresses of {hostname} are unknown ({why}); \
             set MXSPOOL_EGRESS_IPS or give {hostname} A/AAAA records"
        )
    };
    let Ok(name) = Name::from_ascii(format!("{}.", hostname.trim_end_matches('.'))) else {
        return (
            EgressSource::Hostname,
            Vec::new(),
            Some(problem("not a host name".to_owned())),
        );
    };
    match tokio::time::timeout(LOOKUP_BUDGET, resolver.lookup_ip(name)).await {
        Err(_) => (
            EgressSource::Hostname,
            Vec::new(),
            Some(problem("DNS timeout".to_owned())),
        ),
        Ok(Err(e)) => (
            EgressSource::Hostname,
            Vec::new(),
            Some(problem(e.to_string())),
        ),
        Ok(Ok(found)) => {
            let mut ips: Vec<IpAddr> = found.iter().collect();
            ips.sort();
            ips.dedup();
            let problem = ips
                .is_empty()
                .then(|| problem("no A/AAAA records".to_owned()));
            (EgressSource::Hostname, ips, problem)
        }
    }
}

/// Each address with its PTR names and forward confirmation, looked up concurrently.
pub async fn describe(resolver: &TokioResolver, ips: &[IpAddr]) -> Vec<EgressAddress> {
    let lookups = ips.iter().map(|ip| describe_one(resolver, *ip));
    futures_util::future::join_all(lookups).await
}

async fn describe_one(resolver: &TokioResolver, ip: IpAddr) -> EgressAddress {
    let (family, prefix) = match ip {
        IpAddr::V4(_) => ("ipv4", 32),
        IpAddr::V6(_) => ("ipv6", 128),
    };
    let mut address = EgressAddress {
        ip: ip.to_string(),
        family: family.to_owned(),
        cidr: format!("{ip}/{prefix}"),
        ptr: None,
        ptr_names: Vec::new(),
        forward_confirmed: false,
        dns_problem: None,
    };
    let checked = tokio::time::timeout(LOOKUP_BUDGET, async {
        let reverse = resolver.lookup(Name::from(ip), RecordType::PTR).await;
        let names: Vec<String> = match reverse {
            Ok(found) => found
                .records()
                .iter()
                .filter_map(|r| match r.data() {
                    RData::PTR(name) => Some(name.0.to_ascii().trim_end_matches('.').to_owned()),
                    _ => None,
                })
                .collect(),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => {
                return (Vec::new(), false, Some(format!("{ip} has no PTR record")));
            }
            Err(e) => return (Vec::new(), false, Some(format!("PTR lookup of {ip}: {e}"))),
        };
        let mut confirmed = false;
        let mut problems = Vec::new();
        for name in &names {
            let Ok(fqdn) = Name::from_ascii(format!("{name}.")) else {
                problems.push(format!("{name} is not a valid host name"));
                continue;
            };
            match resolver.lookup_ip(fqdn).await {
                Ok(found) if found.iter().any(|a| a == ip) => {
                    confirmed = true;
                    break;
                }
                Ok(_) => problems.push(format!("{name} does not resolve to {ip}")),
                Err(e) if e.is_nx_domain() || e.is_no_records_found() => {
                    problems.push(format!("{name} has no A/AAAA record"))
                }
                Err(e) => problems.push(format!("looking up {name}: {e}")),
            }
        }
        let problem = (!confirmed && !problems.is_empty()).then(|| problems.join("; "));
        (names, confirmed, problem)
    })
    .await;
    match checked {
        Ok((names, confirmed, problem)) => {
            address.ptr = names.first().cloned();
            address.ptr_names = names;
            address.forward_confirmed = confirmed;
            address.dns_problem = problem;
        }
        Err(_) => address.dns_problem = Some(format!("DNS lookups for {ip} timed out")),
    }
    address
}
