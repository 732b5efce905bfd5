//! Recipient callouts for `verify` domains: at RCPT time the relay asks the domain's target
//! host whether it would take the recipient (greeting, EHLO, `MAIL FROM:<>`,
//! `RCPT TO:<address>`, then `RSET` and `QUIT`), so an unknown recipient is refused while the
//! sender is still connected and mxspool never has to bounce it later (no backscatter).
//! Postfix's `reject_unverified_recipient` is the model.
//!
//! The target's RCPT reply decides: 2xx → valid, trusted for the domain's
//! `verify_valid_ttl_seconds`; 5xx → invalid (`550 5.1.1` to the sender), trusted for
//! `verify_invalid_ttl_seconds`. Answers are kept in `recipient_callouts`, shared by every
//! relay node, with a short in-process cache in front. A 4xx reply, a failure to connect or a
//! callout that takes longer than `callout_timeout` decides nothing and is not stored; then
//! the latest stored answer stands in even expired (answers are kept 30 days past expiry,
//! see [`crate::domains::STALE_CALLOUTS_KEPT`]), and without one the domain's
//! `verify_fallback` answers (accept, or `450 4.4.3`).
//!
//! No connection is tried while the target is known down (its state in `targets`, see
//! [`crate::domains::DomainTable::target_state`]), nor for [`UNREACHABLE_PAUSE`] after a
//! callout to it failed, so a dead target costs each RCPT nothing instead of a timeout.
//!
//! The callout goes without STARTTLS: it carries no message, only the address asked about.
//!
//! Backup-only domains use the same connection code to check, at RCPT time, whether their
//! primary answers at all ([`Callouts::primary_is_down`]).

use crate::config::RelayConfig;
use crate::domains::DomainInfo;
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;
use mxspool_store::kinds::VerifyFallback;
use mxspool_store::names::{check_target_address, parse_ip_literal};
use mxspool_store::recipients::{self, CalloutAnswer};
use mxspool_store::targets::TargetState;
use mxspool_store::{DomainId, PgPool};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest time an answer is served from memory before PostgreSQL is asked again, so that
/// answers forgotten there (the domain's target or policy changed) are forgotten here too.
const MEMORY_TTL: Duration = Duration::from_secs(60);
/// Answers kept in memory; beyond it expired ones are dropped, then all.
const MEMORY_CAPACITY: usize = 100_000;
/// A primary found up by a backup-only check is not checked again for this long.
pub const PRIMARY_RECHECK: Duration = Duration::from_secs(30);
/// A primary found down is taken as down this long, until the domain table shows its state.
const DOWN_UNTIL_RELOADED: Duration = Duration::from_secs(2);
/// After a callout could not reach a target, how long RCPTs do not try again.
pub const UNREACHABLE_PAUSE: Duration = Duration::from_secs(15);
/// Longest reply line read from a target, and most lines of one reply.
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 100;

/// What the RCPT should answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Accept the recipient.
    Accept,
    /// The target refused it: `550 5.1.1`.
    Unknown,
    /// Nothing could be learned: `450 4.4.3`.
    Tempfail,
}

/// The outcome of asking the target.
#[derive(Debug)]
enum Asked {
    /// The RCPT reply: code and whole line.
    Answer(u16, String),
    /// No usable answer (connection, timeout, garbage, a refusal before RCPT).
    Failed(String),
    /// The target cannot be asked about this address (a UTF-8 address and no SMTPUTF8).
    Undecided(String),
}

#[derive(Debug, Clone)]
struct Remembered {
    valid: bool,
    /// Trusted until then (the earlier of the stored expiry and [`MEMORY_TTL`]).
    until: Instant,
}

/// Callout state shared by a node's SMTP sessions.
#[derive(Default)]
pub struct Callouts {
    memory: Mutex<HashMap<(DomainId, String), Remembered>>,
    /// Targets a callout failed to reach, and until when they are left alone.
    unreachable: Mutex<HashMap<(String, i32), Instant>>,
    /// Primaries of backup-only domains checked at RCPT time: when, and whether found down.
    primaries: Mutex<HashMap<(String, i32), (Instant, bool)>>,
    resolver: OnceLock<Option<TokioResolver>>,
}

impl Callouts {
    /// Decides a `verify` domain's recipient. `local` is the lower-cased local part (the cache
    /// key), `address` the address to ask the target about. Errors are database errors.
    pub(crate) async fn verify(
        &self,
        config: &RelayConfig,
        pool: &PgPool,
        domain: &DomainInfo,
        target_state: TargetState,
        local: &str,
        address: &str,
    ) -> Result<Verdict, String> {
        let key = (domain.id, local.to_owned());
        if let Some(valid) = self.remembered(&key) {
            return Ok(verdict(valid));
        }
        let stored = {
            let pool = pool.clone();
            let (id, local) = (domain.id, local.to_owned());
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                recipients::find_callout(&mut conn, id, &local).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??
        };
        let now = chrono::Utc::now();
        if let Some(answer) = stored.as_ref().filter(|a| a.is_fresh(now)) {
            self.remember(key, answer, now);
            return Ok(verdict(answer.valid));
        }

        let target = (domain.target_host.clone(), domain.target_port);
        if target_state == TargetState::Down || self.paused(&target) {
            return Ok(stand_in(domain, stored.as_ref(), "target is down"));
        }
        let asked = match tokio::time::timeout(
            config.callout_timeout,
            self.ask(config, &domain.target_host, domain.target_port, address),
        )
        .await
        {
            Ok(asked) => asked,
            Err(_) => Asked::Failed(format!("no answer within {:?}", config.callout_timeout)),
        };
        let (valid, reply, ttl) = match asked {
            Asked::Answer(code, line) if (200..300).contains(&code) => {
                (true, line, domain.verify_valid_ttl_seconds)
            }
            Asked::Answer(code, line) if (500..600).contains(&code) => {
                (false, line, domain.verify_invalid_ttl_seconds)
            }
            Asked::Answer(_, line) => {
                tracing::info!(rcpt = %address, reply = %line, "callout answered temporarily");
                return Ok(stand_in(domain, stored.as_ref(), &line));
            }
            Asked::Undecided(why) => {
                tracing::info!(rcpt = %address, why = %why, "callout cannot decide");
                return Ok(stand_in(domain, stored.as_ref(), &why));
            }
            Asked::Failed(why) => {
                tracing::info!(rcpt = %address, target = %domain.target_host, error = %why, "callout failed");
                self.pause(target);
                return Ok(stand_in(domain, stored.as_ref(), &why));
            }
        };
        tracing::info!(rcpt = %address, valid, reply = %reply, "callout answered");
        let record = {
            let pool = pool.clone();
            let (id, local) = (domain.id, local.to_owned());
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                recipients::record_callout(&mut conn, id, &local, valid, &reply, ttl)
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
        };
        if let Err(e) = record {
            // The answer is good for this RCPT even when it cannot be kept.
            tracing::warn!(error = %e, "cannot store a callout answer");
        }
        let until =
            Instant::now() + MEMORY_TTL.min(Duration::from_secs(u64::try_from(ttl).unwrap_or(0)));
        self.insert_memory(key, Remembered { valid, until });
        Ok(verdict(valid))
    }

    fn remembered(&self, key: &(DomainId, String)) -> Option<bool> {
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        memory
            .get(key)
            .filter(|r| r.until > Instant::now())
            .map(|r| r.valid)
    }

    fn remember(
        &self,
        key: (DomainId, String),
        answer: &CalloutAnswer,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        let left = (answer.expires_at - now).to_std().unwrap_or_default();
        let until = Instant::now() + left.min(MEMORY_TTL);
        self.insert_memory(
            key,
            Remembered {
                valid: answer.valid,
                until,
            },
        );
    }

    fn insert_memory(&self, key: (DomainId, String), value: Remembered) {
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        if memory.len() >= MEMORY_CAPACITY {
            let now = Instant::now();
            memory.retain(|_, r| r.until > now);
            if memory.len() >= MEMORY_CAPACITY {
                memory.clear();
            }
        }
        memory.insert(key, value);
    }

    fn paused(&self, target: &(String, i32)) -> bool {
        let mut unreachable = self.unreachable.lock().unwrap_or_else(|e| e.into_inner());
        match unreachable.get(target) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                unreachable.remove(target);
                false
            }
            None => false,
        }
    }

    fn pause(&self, target: (String, i32)) {
        let mut unreachable = self.unreachable.lock().unwrap_or_else(|e| e.into_inner());
        unreachable.insert(target, Instant::now() + UNREACHABLE_PAUSE);
    }

    /// One callout, unbounded in time (the caller bounds it).
    async fn ask(&self, config: &RelayConfig, host: &str, port: i32, address: &str) -> Asked {
        match self.connect(config, host, port).await {
            Ok(stream) => converse(stream, &config.hostname, address).await,
            Err(e) => Asked::Failed(e),
        }
    }

    /// A connection to the first address of the target that takes one.
    async fn connect(
        &self,
        config: &RelayConfig,
        host: &str,
        port: i32,
    ) -> Result<TcpStream, String> {
        let port = u16::try_from(port).map_err(|_| format!("bad target port {port}"))?;
        let ips = self.addresses(config, host).await?;
        let mut last = format!("{host} has no usable address");
        for ip in ips {
            if let Err(e) = check_target_address(ip, config.allow_private_targets) {
                last = format!("{ip}: {e}");
                continue;
            }
            match TcpStream::connect(SocketAddr::new(ip, port)).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = format!("cannot connect to {ip} port {port}: {e}"),
            }
        }
        Err(last)
    }

    /// Backup-only domains: whether the primary is down, so the backup may take its mail.
    ///
    /// Known down (`targets`) answers at once. Otherwise the primary is checked now — a
    /// sender at the backup MX is itself a sign that the primary may not answer, and nothing
    /// else watches a target that has no mail queued. Connected with a 2xx greeting within
    /// `callout_timeout`: up, and not checked again for [`PRIMARY_RECHECK`]. Otherwise it is
    /// marked down through the health tracking ([`mxspool_store::targets::mark_down`]), whose
    /// prober then watches it and marks it up again when it answers.
    pub(crate) async fn primary_is_down(
        &self,
        config: &RelayConfig,
        pool: &PgPool,
        domain: &DomainInfo,
        state: TargetState,
    ) -> bool {
        if state == TargetState::Down {
            return true;
        }
        let target = (domain.target_host.clone(), domain.target_port);
        {
            let mut checked = self.primaries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(&(at, down)) = checked.get(&target) {
                let valid_for = if down {
                    DOWN_UNTIL_RELOADED
                } else {
                    PRIMARY_RECHECK
                };
                if at.elapsed() < valid_for {
                    return down;
                }
            }
            // Concurrent RCPTs take the primary as up while this one checks.
            checked.insert(target.clone(), (Instant::now(), false));
        }
        let checked = tokio::time::timeout(config.callout_timeout, async {
            let stream = self.connect(config, &target.0, target.1).await?;
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            match read_reply(&mut read).await? {
                (code, _) if (200..300).contains(&code) => {
                    let _ = write.write_all(b"QUIT\r\n").await;
                    Ok(())
                }
                (_, line) => Err(format!("greeting: {line}")),
            }
        })
        .await
        .unwrap_or_else(|_| Err(format!("no greeting within {:?}", config.callout_timeout)));
        let down = checked.is_err();
        self.primaries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(target.clone(), (Instant::now(), down));
        if let Err(why) = checked {
            tracing::warn!(target = %target.0, port = target.1, error = %why, "the primary of a backup-only domain does not answer");
            let pool = pool.clone();
            let probe_initial = config.probe_initial;
            let marked = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                mxspool_store::targets::mark_down(
                    &mut conn,
                    &target.0,
                    target.1,
                    &why,
                    probe_initial,
                )
                .map_err(|e| e.to_string())
            })
            .await;
            if let Ok(Err(e)) | Err(e) = marked.map_err(|e| e.to_string()) {
                tracing::warn!(error = %e, "cannot mark the target down");
            }
        }
        down
    }

    async fn addresses(&self, config: &RelayConfig, host: &str) -> Result<Vec<IpAddr>, String> {
        if let Some(ip) = parse_ip_literal(host) {
            return Ok(vec![ip]);
        }
        let resolver = self
            .resolver
            .get_or_init(|| resolver(config.dns_servers.as_deref()))
            .as_ref()
            .ok_or_else(|| "no DNS resolver is configured".to_owned())?;
        let name = if host.ends_with('.') {
            host.to_owned()
        } else {
            format!("{host}.")
        };
        let lookup = resolver
            .lookup_ip(name)
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?;
        let mut ips: Vec<IpAddr> = lookup.iter().collect();
        ips.sort_by_key(|ip| ip.is_ipv6());
        ips.dedup();
        Ok(ips)
    }
}

fn verdict(valid: bool) -> Verdict {
    if valid {
        Verdict::Accept
    } else {
        Verdict::Unknown
    }
}

/// The answer when the target could not decide: the latest stored answer, else the fallback.
fn stand_in(domain: &DomainInfo, stored: Option<&CalloutAnswer>, why: &str) -> Verdict {
    if let Some(answer) = stored {
        tracing::debug!(why, checked_at = %answer.checked_at, "using an expired callout answer");
        return verdict(answer.valid);
    }
    match domain.verify_fallback {
        VerifyFallback::Accept => Verdict::Accept,
        VerifyFallback::Tempfail => Verdict::Tempfail,
    }
}

/// A resolver on `servers` (UDP, then TCP), or the system's.
fn resolver(servers: Option<&[SocketAddr]>) -> Option<TokioResolver> {
    let mut options = ResolverOpts::default();
    options.timeout = Duration::from_secs(2);
    options.attempts = 1;
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    let builder = match servers {
        Some(servers) => {
            let mut config = ResolverConfig::new();
            for addr in servers {
                config.add_name_server(NameServerConfig::new(*addr, Protocol::Udp));
                config.add_name_server(NameServerConfig::new(*addr, Protocol::Tcp));
            }
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        }
        None => match TokioResolver::builder_tokio() {
            Ok(builder) => builder,
            Err(e) => {
                tracing::error!(error = %e, "no usable system DNS configuration for callouts");
                return None;
            }
        },
    };
    Some(builder.with_options(options).build())
}

/// The SMTP dialogue of a callout, up to the RCPT reply.
async fn converse(stream: TcpStream, hostname: &str, address: &str) -> Asked {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let step = |what: &'static str, reply: Result<(u16, String), String>| match reply {
        Ok((code, line)) if (200..300).contains(&code) => Ok((code, line)),
        Ok((_, line)) => Err(Asked::Failed(format!("{what} refused: {line}"))),
        Err(e) => Err(Asked::Failed(format!("{what}: {e}"))),
    };
    if let Err(failed) = step("greeting", read_reply(&mut read).await) {
        return failed;
    }
    let mut greeted = command(&mut read, &mut write, &format!("EHLO {hostname}")).await;
    if matches!(greeted, Ok((code, _)) if (500..600).contains(&code)) {
        greeted = command(&mut read, &mut write, &format!("HELO {hostname}")).await;
    }
    let extensions = match step("EHLO", greeted) {
        Ok((_, text)) => text,
        Err(failed) => return failed,
    };
    // A UTF-8 address may only be given to a server that takes SMTPUTF8 (RFC 6531).
    let mail = if address.is_ascii() {
        "MAIL FROM:<>"
    } else if extensions
        .split_ascii_whitespace()
        .map(|word| word.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-'))
        .any(|word| word.eq_ignore_ascii_case("SMTPUTF8"))
    {
        "MAIL FROM:<> SMTPUTF8"
    } else {
        let _ = write.write_all(b"QUIT\r\n").await;
        return Asked::Undecided("the target does not offer SMTPUTF8".to_owned());
    };
    if let Err(failed) = step("MAIL FROM:<>", command(&mut read, &mut write, mail).await) {
        return failed;
    }
    let asked = match command(&mut read, &mut write, &format!("RCPT TO:<{address}>")).await {
        Ok((code, line)) => Asked::Answer(code, line),
        Err(e) => return Asked::Failed(format!("RCPT TO: {e}")),
    };
    // Politeness only: the answer is in.
    let _ = command(&mut read, &mut write, "RSET").await;
    let _ = write.write_all(b"QUIT\r\n").await;
    asked
}

async fn command<R, W>(read: &mut R, write: &mut W, line: &str) -> Result<(u16, String), String>
where
    R: tokio::io::AsyncBufRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    write
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| format!("connection lost: {e}"))?;
    read_reply(read).await
}

/// Reads one (possibly multi-line) reply: its code and its lines joined by spaces.
async fn read_reply<R>(read: &mut R) -> Result<(u16, String), String>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    let mut text = String::new();
    for _ in 0..MAX_LINES {
        let mut raw = Vec::new();
        let n = (&mut *read)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut raw)
            .await
            .map_err(|e| format!("connection lost: {e}"))?;
        if n == 0 {
            return Err("connection closed".to_owned());
        }
        if raw.last() != Some(&b'\n') {
            return Err("reply line too long".to_owned());
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\r', '\n']);
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (200..600).contains(c))
            .ok_or_else(|| format!("not an SMTP reply: {line:?}"))?;
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(line);
        match line.as_bytes().get(3) {
            Some(b'-') => continue,
            None | Some(b' ') => return Ok((code, text)),
            Some(_) => return Err(format!("not an SMTP reply: {line:?}")),
        }
    }
    Err("reply has too many lines".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(input: &str) -> Result<(u16, String), String> {
        let mut reader = BufReader::new(input.as_bytes());
        read_reply(&mut reader).await
    }

    #[tokio::test]
    async fn replies_are_read_whole_and_garbage_is_refused() {
        assert_eq!(
            parse("250-first\r\n250 last\r\n").await,
            Ok((250, "250-first 250 last".to_owned()))
        );
        assert_eq!(parse("550\r\n").await, Ok((550, "550".to_owned())));
        assert!(parse("hello\r\n").await.is_err());
        assert!(parse("250-unfinished\r\n").await.is_err());
        assert!(parse(&format!("250 {}\r\n", "x".repeat(MAX_LINE)))
            .await
            .is_err());
        assert!(parse("999 nonsense\r\n").await.is_err());
    }
}
