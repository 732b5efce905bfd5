//! Settings of the relay (SMTP intake and delivery). Defaults follow DESIGN.md and RFC 5321.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What to do with delivery status notifications (bounces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BouncePolicy {
    /// Queue the DSN and deliver it to the sender domain's MX.
    Send,
    /// Only log it (operators who keep DSNs local).
    Log,
}

/// TLS certificate and key files (PEM) for STARTTLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Every knob of the relay.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Banner, EHLO and `Received:` name (MXSPOOL_HOSTNAME).
    pub hostname: String,
    /// This process's name in queue leases; unique per process.
    pub node_id: String,

    // --- intake ---
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub max_recipients: usize,
    /// Longest command line accepted, CRLF included (RFC 5321 §4.5.3.1.4 asks for 512; we
    /// allow more for long addresses and parameters).
    pub max_line_length: usize,
    /// Longest line of message text, CRLF included (RFC 5321 §4.5.3.1.6: 1000).
    pub max_data_line_length: usize,
    /// Failed commands after which the session is closed.
    pub max_errors: usize,
    /// Time for a whole command line to arrive (RFC 5321 §4.5.3.2: 5 minutes).
    pub command_timeout: Duration,
    /// Time for the whole message text after `354`, however slowly it trickles in
    /// (RFC 5321 §4.5.3.2.5/6: 3 minutes per block, 10 minutes to the final dot).
    pub data_timeout: Duration,
    /// STARTTLS certificate; `None`: a self-signed one made at start (development).
    pub tls: Option<TlsFiles>,

    // --- delivery ---
    /// How long a worker owns claimed recipients before other nodes may take them; renewed
    /// every third of it while the delivery runs, so it only runs out when the node is gone.
    pub lease: Duration,
    /// Concurrent delivery tasks per process.
    pub workers: usize,
    /// Messages claimed at once by one worker (with all their due recipients).
    pub claim_batch: i64,
    /// Delay before attempt n+1 after n failed attempts; the last entry repeats.
    pub retry_schedule: Vec<Duration>,
    /// First interval of the prober for a target that is down, doubled up to `probe_max`.
    pub probe_initial: Duration,
    pub probe_max: Duration,
    pub connect_timeout: Duration,
    /// Timeout of one SMTP command towards a target.
    pub smtp_timeout: Duration,
    pub bounces: BouncePolicy,
    /// Nameservers for MX lookups of DSN recipients; `None`: the system resolver.
    pub dns_servers: Option<Vec<SocketAddr>>,
    /// Port of `mx`-routed deliveries (DSNs); 25 except in tests.
    pub mx_port: u16,
    /// Deliver to loopback/private addresses (tests, labs).
    pub allow_private_targets: bool,
    /// How often each node looks for due work when nothing wakes it.
    pub poll_interval: Duration,
    /// Longest recipient callout (`verify` policy), connection included: the sender's SMTP
    /// session waits this long at most before the domain's fallback answers.
    pub callout_timeout: Duration,
}

impl RelayConfig {
    /// Defaults for a relay named `hostname`.
    pub fn new(hostname: String) -> Self {
        let node_id = format!("{}:{}:{:08x}", hostname, std::process::id(), rand_suffix());
        RelayConfig {
            hostname,
            node_id,
            max_connections: 1000,
            max_connections_per_ip: 50,
            max_recipients: 100,
            max_line_length: 2048,
            max_data_line_length: 1000,
            max_errors: 10,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(600),
            tls: None,
            lease: Duration::from_secs(60),
            workers: 16,
            claim_batch: 50,
            retry_schedule: [60, 120, 300, 600, 900, 1800, 3600, 7200]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            probe_initial: Duration::from_secs(5),
            probe_max: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
            smtp_timeout: Duration::from_secs(300),
            bounces: BouncePolicy::Send,
            dns_servers: None,
            mx_port: 25,
            allow_private_targets: false,
            poll_interval: Duration::from_millis(500),
            callout_timeout: Duration::from_secs(5),
        }
    }

    /// The wait before the next attempt after `attempts` failed ones.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let i = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        self.retry_schedule
            .get(i)
            .or(self.retry_schedule.last())
            .copied()
            .unwrap_or(Duration::from_secs(7200))
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_follow_the_schedule_then_repeat_the_last() {
        let c = RelayConfig::new("mx.example".to_owned());
        let secs: Vec<u64> = (1..=10).map(|n| c.retry_delay(n).as_secs()).collect();
        assert_eq!(
            secs,
            vec![60, 120, 300, 600, 900, 1800, 3600, 7200, 7200, 7200]
        );
    }
}
