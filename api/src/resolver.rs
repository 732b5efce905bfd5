//! The DNS resolver behind the live DNS check and the whitelist report: the configured
//! nameservers (MXSPOOL_DNS_SERVERS; tests point them at a DNS server on loopback) or the
//! system's. It keeps no cache, so a customer who just fixed a record sees the fix at once.

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;
use std::net::SocketAddr;
use std::time::Duration;

/// A resolver using `servers` (UDP with TCP fallback), or the system configuration.
pub fn build(servers: Option<&[SocketAddr]>) -> Result<TokioResolver, String> {
    let mut options = ResolverOpts::default();
    options.timeout = Duration::from_secs(3);
    options.attempts = 2;
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    options.cache_size = 0;
    // What the world sees, not this machine's /etc/hosts (which names 127.0.0.1 and often
    // the host's own addresses).
    options.use_hosts_file = ResolveHosts::Never;
    // Report what the zone says: a CNAME at an MX target must be visible, not followed silently
    // into an answer that hides it.
    options.preserve_intermediates = true;
    let builder = match servers {
        Some(servers) => {
            let mut config = ResolverConfig::new();
            for addr in servers {
                config.add_name_server(NameServerConfig::new(*addr, Protocol::Udp));
                config.add_name_server(NameServerConfig::new(*addr, Protocol::Tcp));
            }
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| format!("no usable system DNS configuration: {e}"))?,
    };
    Ok(builder.with_options(options).build())
}
