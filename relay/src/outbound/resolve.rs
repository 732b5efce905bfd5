//! Name resolution for delivery: the A/AAAA records of a target host, and the MX hosts of a
//! recipient domain (DSNs to envelope senders), through hickory with the configured
//! nameservers (tests point them at a DNS server on loopback) or the system's.

use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveError, TokioResolver};
use mxspool_store::names::parse_ip_literal;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Why a name gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DnsError {
    /// The name does not exist (NXDOMAIN), or has no record of the asked type.
    #[error("{0}")]
    NotFound(String),
    /// The lookup failed and may work later (timeout, SERVFAIL, no nameserver).
    #[error("{0}")]
    Temporary(String),
}

/// Where mail for a domain goes, from its MX records (RFC 5321 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MxAnswer {
    /// Exchange host names, most preferred first (equal preferences shuffled).
    Hosts(Vec<String>),
    /// The domain says it accepts no mail (RFC 7505 null MX).
    NullMx,
    /// The domain does not exist.
    NoDomain(String),
    /// Try again later.
    Temporary(String),
}

/// The resolver shared by a node's delivery tasks (it caches answers).
pub(crate) struct Dns {
    resolver: Option<TokioResolver>,
}

impl Dns {
    /// A resolver using `servers` (UDP with TCP fallback), or the system configuration.
    pub(crate) fn new(servers: Option<&[SocketAddr]>) -> Dns {
        let mut options = ResolverOpts::default();
        options.timeout = Duration::from_secs(5);
        options.attempts = 2;
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        // A DNS fix at the customer should not wait for a long negative TTL.
        options.negative_max_ttl = Some(Duration::from_secs(60));
        let builder = match servers {
            Some(servers) => {
                let mut config = ResolverConfig::new();
                for addr in servers {
                    config.add_name_server(NameServerConfig::new(*addr, Protocol::Udp));
                    config.add_name_server(NameServerConfig::new(*addr, Protocol::Tcp));
                }
                Some(TokioResolver::builder_with_config(
                    config,
                    TokioConnectionProvider::default(),
                ))
            }
            None => match TokioResolver::builder_tokio() {
                Ok(builder) => Some(builder),
                Err(e) => {
                    tracing::error!(error = %e, "no usable system DNS configuration; name lookups will fail");
                    None
                }
            },
        };
        let resolver = builder.map(|b| b.with_options(options).build());
        Dns { resolver }
    }

    fn resolver(&self) -> Result<&TokioResolver, DnsError> {
        self.resolver
            .as_ref()
            .ok_or_else(|| DnsError::Temporary("no DNS resolver is configured".to_owned()))
    }

    /// The addresses of `host` (an IP literal is its own answer), IPv4 first.
    pub(crate) async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        if let Some(ip) = parse_ip_literal(host) {
            return Ok(vec![ip]);
        }
        let lookup = self
            .resolver()?
            .lookup_ip(fqdn(host))
            .await
            .map_err(|e| classify(host, "A/AAAA", &e))?;
        let mut ips: Vec<IpAddr> = lookup.iter().collect();
        ips.sort_by_key(|ip| ip.is_ipv6());
        ips.dedup();
        if ips.is_empty() {
            return Err(DnsError::NotFound(format!(
                "{host} has no A or AAAA record"
            )));
        }
        Ok(ips)
    }

    /// The MX hosts of `domain`; the domain itself when it has no MX (implicit MX).
    pub(crate) async fn mail_exchangers(&self, domain: &str) -> MxAnswer {
        if parse_ip_literal(domain).is_some() {
            return MxAnswer::Hosts(vec![domain.to_owned()]);
        }
        let resolver = match self.resolver() {
            Ok(r) => r,
            Err(e) => return MxAnswer::Temporary(e.to_string()),
        };
        match resolver.mx_lookup(fqdn(domain)).await {
            Ok(lookup) => {
                let mut records: Vec<(u16, String, bool)> = lookup
                    .iter()
                    .map(|mx| {
                        let exchange = mx.exchange();
                        let name = exchange.to_ascii();
                        (
                            mx.preference(),
                            name.trim_end_matches('.').to_owned(),
                            exchange.is_root(),
                        )
                    })
                    .collect();
                if records.iter().any(|(_, _, root)| *root) {
                    return MxAnswer::NullMx;
                }
                if records.is_empty() {
                    return MxAnswer::Hosts(vec![domain.to_owned()]);
                }
                shuffle_equal_preferences(&mut records);
                MxAnswer::Hosts(records.into_iter().map(|(_, host, _)| host).collect())
            }
            Err(e) if e.is_nx_domain() => {
                MxAnswer::NoDomain(format!("domain {domain} does not exist"))
            }
            Err(e) if e.is_no_records_found() => MxAnswer::Hosts(vec![domain.to_owned()]),
            Err(e) => MxAnswer::Temporary(format!("MX lookup of {domain} failed: {e}")),
        }
    }
}

/// Sorts by preference, in random order among equal preferences (RFC 5321 §5.1).
fn shuffle_equal_preferences(records: &mut [(u16, String, bool)]) {
    use rand::seq::SliceRandom;
    records.shuffle(&mut rand::rng());
    records.sort_by_key(|(preference, _, _)| *preference);
}

/// The absolute form of a name, so no search domain is appended.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

fn classify(name: &str, kind: &str, e: &ResolveError) -> DnsError {
    if e.is_nx_domain() {
        DnsError::NotFound(format!("{name} does not exist (NXDOMAIN)"))
    } else if e.is_no_records_found() {
        DnsError::NotFound(format!("{name} has no {kind} record"))
    } else {
        DnsError::Temporary(format!("{kind} lookup of {name} failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_absolute_once() {
        assert_eq!(fqdn("mx.example"), "mx.example.");
        assert_eq!(fqdn("mx.example."), "mx.example.");
    }

    #[test]
    fn mx_hosts_are_ordered_by_preference() {
        let mut records = vec![
            (20, "b".to_owned(), false),
            (10, "a".to_owned(), false),
            (30, "c".to_owned(), false),
            (20, "d".to_owned(), false),
        ];
        shuffle_equal_preferences(&mut records);
        let order: Vec<u16> = records.iter().map(|r| r.0).collect();
        assert_eq!(order, vec![10, 20, 20, 30]);
    }

    #[tokio::test]
    async fn ip_literals_need_no_lookup() {
        let dns = Dns { resolver: None };
        assert_eq!(
            dns.addresses("192.0.2.1").await,
            Ok(vec!["192.0.2.1"
                .parse()
                .unwrap_or(IpAddr::from([0, 0, 0, 0]))])
        );
        assert_eq!(
            dns.mail_exchangers("[192.0.2.1]").await,
            MxAnswer::Hosts(vec!["[192.0.2.1]".to_owned()])
        );
        assert!(matches!(
            dns.addresses("mx.example").await,
            Err(DnsError::Temporary(_))
        ));
    }
}
