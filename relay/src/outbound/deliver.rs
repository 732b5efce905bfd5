//! One delivery job: the recipients of one message that go to one place, sent in one SMTP
//! transaction, and the outcome of each as data (delivered / deferred / bounced), never as
//! an `Err`.
//!
//! `relay` recipients go to their domain's target host and port with the domain's TLS
//! policy; `mx` recipients (DSNs) go to the MX hosts of their own domain, tried in
//! preference order. Every address is checked against the private-target rule before any
//! connection is made.

use super::client::{
    self, CommandError, ConnKey, ConnectError, ConnectSettings, Reply, Session, TransactionError,
};
use super::resolve::MxAnswer;
use super::Engine;
use chrono::{DateTime, Utc};
use mxspool_store::kinds::{Route, TlsPolicy};
use mxspool_store::names::{check_target_address, parse_ip_literal};
use mxspool_store::queue::{Attempt, AttemptOutcome, Claimed};
use mxspool_store::DomainId;
use std::net::IpAddr;
use std::time::Instant;

/// Recipients of one message for one destination, delivered together.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) claims: Vec<Claimed>,
}

impl Job {
    /// Splits a claimed batch (ordered by message) into jobs: one per message and
    /// destination (route, host, port, TLS policy).
    pub(crate) fn group(claimed: Vec<Claimed>) -> Vec<Job> {
        let mut jobs: Vec<Job> = Vec::new();
        for claim in claimed {
            match jobs
                .iter_mut()
                .find(|j| j.first().is_some_and(|f| same_destination(f, &claim)))
            {
                Some(job) => job.claims.push(claim),
                None => jobs.push(Job {
                    claims: vec![claim],
                }),
            }
        }
        jobs
    }

    pub(crate) fn first(&self) -> Option<&Claimed> {
        self.claims.first()
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.claims.iter().map(|c| c.delivery_id)
    }
}

fn same_destination(a: &Claimed, b: &Claimed) -> bool {
    a.message_id == b.message_id
        && a.route == b.route
        && a.target_host.eq_ignore_ascii_case(&b.target_host)
        && a.target_port == b.target_port
        && a.tls_policy == b.tls_policy
}

/// What a job taught us about its target's health (only `relay` targets are tracked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Health {
    /// Nothing to record (no connection tried, or an `mx` route).
    Unjudged,
    /// The target answered with SMTP replies: it is up.
    Answered(String),
    /// No SMTP service at the target: it is down.
    Unreachable(String),
}

/// The attempts of one job and what they say about the target.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) health: Health,
}

/// How one recipient's attempt ended, before it becomes an [`Attempt`].
#[derive(Debug, Clone)]
enum Verdict {
    /// The target's reply to this recipient (RCPT or the final DATA reply).
    Reply(Reply),
    /// No reply, try again later.
    Temporary(String),
    /// No reply, and never deliverable (null MX, domain does not exist, ...).
    Permanent(String),
}

impl Verdict {
    fn from_command(result: &Result<Reply, CommandError>) -> Verdict {
        match result {
            Ok(reply) => Verdict::Reply(reply.clone()),
            Err(CommandError::Reply(reply)) => Verdict::Reply(reply.clone()),
            Err(CommandError::Lost(reason)) => Verdict::Temporary(reason.clone()),
        }
    }
}

/// Where the connection went, for the attempt log.
struct Via {
    host: String,
    ip: Option<IpAddr>,
    tls: bool,
    /// The local address the session left from.
    source: Option<IpAddr>,
}

struct Recorder<'a> {
    engine: &'a Engine,
    started_at: DateTime<Utc>,
    clock: Instant,
}

impl Recorder<'_> {
    fn attempt(&self, claim: &Claimed, via: &Via, verdict: Verdict) -> Attempt {
        let defer = || {
            let failed = u32::try_from(claim.attempts.saturating_add(1)).unwrap_or(u32::MAX);
            // A delay, not a time: the queue adds it to the database's clock.
            AttemptOutcome::Deferred(self.engine.config().retry_delay(failed))
        };
        let (outcome, code, reply) = match verdict {
            Verdict::Reply(reply) => {
                let outcome = match reply.code {
                    200..=299 => AttemptOutcome::Delivered,
                    500..=599 => AttemptOutcome::Bounced,
                    _ => defer(),
                };
                (outcome, Some(i32::from(reply.code)), reply.line())
            }
            Verdict::Temporary(reason) => (defer(), None, reason),
            Verdict::Permanent(reason) => (AttemptOutcome::Bounced, None, reason),
        };
        Attempt {
            delivery_id: claim.delivery_id,
            domain_id: claim.domain_id.map(DomainId),
            outcome,
            started_at: self.started_at,
            duration: self.clock.elapsed(),
            target_host: via.host.clone(),
            target_ip: via.ip.map(|ip| ip.to_string()),
            source_ip: via.source.map(|ip| ip.to_string()),
            tls: via.tls,
            code,
            reply,
        }
    }

    fn all(&self, claims: &[Claimed], via: &Via, verdict: &Verdict) -> Vec<Attempt> {
        claims
            .iter()
            .map(|c| self.attempt(c, via, verdict.clone()))
            .collect()
    }
}

/// Delivers one job and says how each recipient fared.
pub(crate) async fn deliver(engine: &Engine, job: &Job, body: &[u8]) -> Outcome {
    let recorder = Recorder {
        engine,
        started_at: Utc::now(),
        clock: Instant::now(),
    };
    let Some(first) = job.first() else {
        return Outcome {
            attempts: Vec::new(),
            health: Health::Unjudged,
        };
    };
    let nowhere = Via {
        host: first.target_host.clone(),
        ip: None,
        tls: false,
        source: None,
    };
    if !valid_path(&first.sender) {
        let verdict =
            Verdict::Permanent(format!("5.1.7 invalid sender address <{}>", first.sender));
        return Outcome {
            attempts: recorder.all(&job.claims, &nowhere, &verdict),
            health: Health::Unjudged,
        };
    }
    let (valid, invalid): (Vec<Claimed>, Vec<Claimed>) = job
        .claims
        .iter()
        .cloned()
        .partition(|c| valid_path(&c.recipient) && !c.recipient.is_empty());
    let mut attempts: Vec<Attempt> = invalid
        .iter()
        .map(|c| {
            let reason = format!("5.1.3 invalid recipient address <{}>", c.recipient);
            recorder.attempt(c, &nowhere, Verdict::Permanent(reason))
        })
        .collect();
    if valid.is_empty() {
        return Outcome {
            attempts,
            health: Health::Unjudged,
        };
    }
    let Ok(port) = u16::try_from(first.target_port) else {
        let verdict = Verdict::Temporary(format!("invalid target port {}", first.target_port));
        attempts.extend(recorder.all(&valid, &nowhere, &verdict));
        return Outcome {
            attempts,
            health: Health::Unjudged,
        };
    };
    let outcome = match first.route {
        Route::Relay => to_target(engine, &recorder, &valid, port, body).await,
        Route::Mx => to_mx(engine, &recorder, &valid, port, body).await,
    };
    attempts.extend(outcome.attempts);
    Outcome {
        attempts,
        health: outcome.health,
    }
}

/// An address we can put between `<` and `>` on a command line: no line breaks or other
/// control characters (command injection) and no angle brackets. (Quoted local parts with
/// spaces are legal and pass.)
fn valid_path(address: &str) -> bool {
    !address
        .chars()
        .any(|c| c.is_control() || c == '<' || c == '>')
}

/// Addresses we may connect to, and the first refusal (for the log) if none.
fn allowed(engine: &Engine, ips: Vec<IpAddr>) -> Result<Vec<IpAddr>, (IpAddr, String)> {
    let mut refused = None;
    let mut ok = Vec::new();
    for ip in ips {
        match check_target_address(ip, engine.config().allow_private_targets) {
            Ok(()) => ok.push(ip),
            Err(e) => {
                refused.get_or_insert((ip, e.to_string()));
            }
        }
    }
    match (ok.is_empty(), refused) {
        (true, Some((ip, why))) => Err((ip, format!("not connecting to {ip}: {why}"))),
        (true, None) => Err((
            IpAddr::from([0, 0, 0, 0]),
            "no address to connect to".to_owned(),
        )),
        (false, _) => Ok(ok),
    }
}

async fn to_target(
    engine: &Engine,
    recorder: &Recorder<'_>,
    claims: &[Claimed],
    port: u16,
    body: &[u8],
) -> Outcome {
    let Some(first) = claims.first() else {
        return Outcome {
            attempts: Vec::new(),
            health: Health::Unjudged,
        };
    };
    let host = first.target_host.clone();
    let mut via = Via {
        host: host.clone(),
        ip: None,
        tls: false,
        source: None,
    };
    let ips = match engine.dns.addresses(&host).await {
        Ok(ips) => ips,
        Err(e) => {
            let reason = format!("cannot resolve target {host}: {e}");
            return Outcome {
                attempts: recorder.all(claims, &via, &Verdict::Temporary(reason.clone())),
                health: Health::Unreachable(reason),
            };
        }
    };
    let ips = match allowed(engine, ips) {
        Ok(ips) => ips,
        Err((ip, reason)) => {
            via.ip = Some(ip);
            return Outcome {
                attempts: recorder.all(claims, &via, &Verdict::Temporary(reason)),
                health: Health::Unjudged,
            };
        }
    };
    match send_via(engine, &host, port, first.tls_policy, &ips, claims, body).await {
        Sent::Done {
            results,
            session_via,
        } => Outcome {
            health: Health::Answered(answer_detail(&results)),
            attempts: claims
                .iter()
                .zip(results)
                .map(|(c, verdict)| recorder.attempt(c, &session_via, verdict))
                .collect(),
        },
        Sent::Refused { ip, verdict } => {
            via.ip = Some(ip);
            let detail = match &verdict {
                Verdict::Reply(r) => r.line(),
                Verdict::Temporary(s) | Verdict::Permanent(s) => s.clone(),
            };
            Outcome {
                attempts: recorder.all(claims, &via, &verdict),
                health: Health::Answered(detail),
            }
        }
        Sent::Unreachable { ip, reason } => {
            via.ip = ip;
            Outcome {
                attempts: recorder.all(claims, &via, &Verdict::Temporary(reason.clone())),
                health: Health::Unreachable(reason),
            }
        }
    }
}

async fn to_mx(
    engine: &Engine,
    recorder: &Recorder<'_>,
    claims: &[Claimed],
    port: u16,
    body: &[u8],
) -> Outcome {
    let Some(first) = claims.first() else {
        return Outcome {
            attempts: Vec::new(),
            health: Health::Unjudged,
        };
    };
    let domain = first.target_host.clone();
    let mut via = Via {
        host: domain.clone(),
        ip: None,
        tls: false,
        source: None,
    };
    let verdict_for_all = |verdict: Verdict, via: &Via| Outcome {
        attempts: recorder.all(claims, via, &verdict),
        health: Health::Unjudged,
    };
    let hosts = match engine.dns.mail_exchangers(&domain).await {
        MxAnswer::Hosts(hosts) => hosts,
        MxAnswer::NullMx => {
            return verdict_for_all(
                Verdict::Permanent(format!("5.1.10 {domain} does not accept mail (null MX)")),
                &via,
            )
        }
        MxAnswer::NoDomain(reason) => {
            return verdict_for_all(Verdict::Permanent(format!("5.4.4 {reason}")), &via)
        }
        MxAnswer::Temporary(reason) => return verdict_for_all(Verdict::Temporary(reason), &via),
    };
    let mut last = format!("no mail exchanger of {domain} could be reached");
    for host in hosts {
        via.host = host.clone();
        let ips = match engine.dns.addresses(&host).await {
            Ok(ips) => ips,
            Err(e) => {
                last = format!("cannot resolve {host}: {e}");
                continue;
            }
        };
        let ips = match allowed(engine, ips) {
            Ok(ips) => ips,
            Err((ip, reason)) => {
                via.ip = Some(ip);
                last = reason;
                continue;
            }
        };
        match send_via(engine, &host, port, first.tls_policy, &ips, claims, body).await {
            Sent::Done {
                results,
                session_via,
            } => {
                return Outcome {
                    attempts: claims
                        .iter()
                        .zip(results)
                        .map(|(c, verdict)| recorder.attempt(c, &session_via, verdict))
                        .collect(),
                    health: Health::Unjudged,
                }
            }
            Sent::Refused { ip, verdict } => {
                via.ip = Some(ip);
                last = match verdict {
                    Verdict::Reply(r) => r.line(),
                    Verdict::Temporary(s) | Verdict::Permanent(s) => s,
                };
            }
            Sent::Unreachable { ip, reason } => {
                via.ip = ip;
                last = reason;
            }
        }
    }
    verdict_for_all(Verdict::Temporary(last), &via)
}

/// The name TLS verifies: the host name, or the bare address of an address literal.
fn tls_name(host: &str) -> String {
    match parse_ip_literal(host) {
        Some(ip) => ip.to_string(),
        None => host.trim_end_matches('.').to_owned(),
    }
}

fn answer_detail(results: &[Verdict]) -> String {
    match results.first() {
        Some(Verdict::Reply(r)) => format!("answered: {}", r.line()),
        _ => "answered".to_owned(),
    }
}

enum Sent {
    /// A transaction ran: one verdict per recipient.
    Done {
        results: Vec<Verdict>,
        session_via: Via,
    },
    /// The target answered but would not take the transaction.
    Refused { ip: IpAddr, verdict: Verdict },
    /// None of the addresses gave an SMTP session.
    Unreachable { ip: Option<IpAddr>, reason: String },
}

/// Gets a session to the first address that gives one (an idle one when possible) and runs
/// the transaction. A reused session that turns out dead before any reply is replaced by a
/// fresh one once.
async fn send_via(
    engine: &Engine,
    host: &str,
    port: u16,
    policy: TlsPolicy,
    ips: &[IpAddr],
    claims: &[Claimed],
    body: &[u8],
) -> Sent {
    let config = engine.config();
    let settings = ConnectSettings {
        hello: &config.hostname,
        connect_timeout: config.connect_timeout,
        command_timeout: config.smtp_timeout,
    };
    let sender = claims
        .first()
        .map(|c| c.sender.as_str())
        .unwrap_or_default();
    let recipients: Vec<&str> = claims.iter().map(|c| c.recipient.as_str()).collect();
    let mut last_unreachable: Option<(IpAddr, String)> = None;
    for &ip in ips {
        let key = ConnKey {
            ip,
            port,
            tls: policy,
            tls_name: tls_name(host),
        };
        let mut fresh_tries = 0;
        loop {
            let pooled = if fresh_tries == 0 {
                engine.connections.take(&key)
            } else {
                None
            };
            let session = match pooled {
                Some(session) => session,
                None => match client::open(&key, &settings).await {
                    Ok(session) => session,
                    Err(ConnectError::Unreachable(reason)) => {
                        last_unreachable = Some((ip, reason));
                        break;
                    }
                    Err(ConnectError::Refused(reason)) => {
                        // Even a 5xx to EHLO or STARTTLS is no verdict on the recipients.
                        let verdict = Verdict::Temporary(reason);
                        return Sent::Refused { ip, verdict };
                    }
                },
            };
            match run(engine, session, host, sender, &recipients, body).await {
                Ran::Done(results, via) => {
                    return Sent::Done {
                        results,
                        session_via: via,
                    }
                }
                Ran::StaleReused => {
                    fresh_tries += 1;
                    if fresh_tries > 1 {
                        last_unreachable = Some((ip, "connection lost".to_owned()));
                        break;
                    }
                }
            }
        }
    }
    let (ip, reason) = match last_unreachable {
        Some((ip, reason)) => (Some(ip), reason),
        None => (None, "no address to connect to".to_owned()),
    };
    Sent::Unreachable { ip, reason }
}

enum Ran {
    Done(Vec<Verdict>, Via),
    /// A pooled session had died while idle; nothing was sent.
    StaleReused,
}

async fn run(
    engine: &Engine,
    mut session: Session,
    host: &str,
    sender: &str,
    recipients: &[&str],
    body: &[u8],
) -> Ran {
    let via = Via {
        host: host.to_owned(),
        ip: Some(session.key.ip),
        tls: session.tls,
        source: session.local_ip,
    };
    let result = session
        .transaction(sender, recipients, body, engine.config().smtp_timeout)
        .await;
    let results = match result {
        Err(TransactionError::Lost(_)) if session.reused => return Ran::StaleReused,
        Err(TransactionError::Lost(reason)) => recipients
            .iter()
            .map(|_| Verdict::Temporary(reason.clone()))
            .collect(),
        Err(TransactionError::Unsupported(reason)) => recipients
            .iter()
            .map(|_| Verdict::Permanent(reason.clone()))
            .collect(),
        Ok(results) => results.iter().map(Verdict::from_command).collect(),
    };
    engine.connections.give_back(session);
    Ran::Done(results, via)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_line_breaks_or_brackets_are_refused() {
        assert!(valid_path("bob@example.com"));
        assert!(valid_path(""));
        assert!(valid_path("\"john doe\"@example.com"));
        assert!(!valid_path("bob@example.com>\r\nRCPT TO:<eve@evil.test"));
        assert!(!valid_path("a\nb@example.com"));
        assert!(!valid_path("<bob@example.com>"));
    }

    #[test]
    fn tls_names_are_host_names_or_bare_addresses() {
        assert_eq!(tls_name("mx.example.com."), "mx.example.com");
        assert_eq!(tls_name("[192.0.2.1]"), "192.0.2.1");
        assert_eq!(tls_name("192.0.2.1"), "192.0.2.1");
    }
}
