//! The SMTP client side of delivery, on lettre's connection type.
//!
//! lettre's `AsyncSmtpTransport` sends one message per call and reports one error for the
//! whole transaction; a relay needs more: each recipient's own RCPT reply in a single
//! transaction, whether TLS was actually negotiated, the IP address connected to, and the
//! difference between "the target did not answer" (it goes down) and "the target answered
//! no". So this module drives `AsyncSmtpConnection` command by command, over TCP streams it
//! opens itself, and keeps its own pool of idle connections per (address, port, TLS).

use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension};
use lettre::transport::smtp::response::Response;
use mxspool_store::kinds::TlsPolicy;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Idle connections older than this are closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest greeting accepted.
const MAX_GREETING: usize = 16 * 1024;

/// An SMTP reply: code and text (lines joined with spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) code: u16,
    pub(crate) text: String,
}

impl Reply {
    fn from_response(response: &Response) -> Reply {
        let text: Vec<&str> = response.message().collect();
        Reply {
            code: u16::from(response.code()),
            text: text.join(" "),
        }
    }

    /// The reply as the target sent it, e.g. `550 5.1.1 no such user`.
    pub(crate) fn line(&self) -> String {
        if self.text.is_empty() {
            self.code.to_string()
        } else {
            format!("{} {}", self.code, self.text)
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// What went wrong on the way to a usable session.
#[derive(Debug, Clone)]
pub(crate) enum ConnectError {
    /// No SMTP service: connection refused or timed out, no greeting, or a greeting other
    /// than 2xx. The target counts as down.
    Unreachable(String),
    /// The target answered but the session could not be set up (EHLO refused, TLS
    /// required but not offered or failed). The target is up; the mail waits.
    Refused(String),
}

/// The outcome of one command that may fail.
#[derive(Debug)]
pub(crate) enum CommandError {
    /// The target answered with a negative reply; the session is still usable.
    Reply(Reply),
    /// No usable reply (connection lost, timeout, garbage); the session is dead.
    Lost(String),
}

fn command_error(e: lettre::transport::smtp::Error, what: &str) -> CommandError {
    match e.status() {
        Some(code) => CommandError::Reply(Reply {
            code: u16::from(code),
            text: std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }),
        None => CommandError::Lost(format!("lost connection while {what}: {e}")),
    }
}

/// Identifies connections that may be reused for one another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ConnKey {
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
    pub(crate) tls: TlsPolicy,
    /// The host name TLS checks the certificate against.
    pub(crate) tls_name: String,
}

/// An established SMTP session, ready for `MAIL FROM`.
pub(crate) struct Session {
    conn: AsyncSmtpConnection,
    pub(crate) key: ConnKey,
    /// TLS was negotiated (STARTTLS succeeded).
    pub(crate) tls: bool,
    /// Taken from the idle pool rather than opened for this delivery.
    pub(crate) reused: bool,
    /// The local address the connection left from (the whitelist report's evidence).
    pub(crate) local_ip: Option<IpAddr>,
    /// Set when a command's outcome left the session unusable.
    broken: bool,
}

impl Session {
    fn supports(&self, extension: Extension) -> bool {
        self.conn.server_info().supports_feature(extension)
    }

    async fn command(
        &mut self,
        line: impl fmt::Display,
        timeout: Duration,
        what: &str,
    ) -> Result<Reply, CommandError> {
        match tokio::time::timeout(timeout, self.conn.command(line)).await {
            Ok(Ok(response)) => Ok(Reply::from_response(&response)),
            Ok(Err(e)) => {
                let e = command_error(e, what);
                if matches!(e, CommandError::Lost(_)) {
                    self.broken = true;
                }
                Err(e)
            }
            Err(_) => {
                self.broken = true;
                Err(CommandError::Lost(format!("timeout while {what}")))
            }
        }
    }

    /// Runs one transaction: `MAIL FROM`, one `RCPT TO` per recipient, and `DATA` when at
    /// least one recipient was accepted. Returns each recipient's outcome, in order.
    pub(crate) async fn transaction(
        &mut self,
        sender: &str,
        recipients: &[&str],
        body: &[u8],
        timeout: Duration,
    ) -> Result<Vec<Result<Reply, CommandError>>, TransactionError> {
        let mut mail = format!("MAIL FROM:<{sender}>");
        if !body.is_ascii() && self.supports(Extension::EightBitMime) {
            mail.push_str(" BODY=8BITMIME");
        }
        let needs_utf8 = !sender.is_ascii() || recipients.iter().any(|r| !r.is_ascii());
        if needs_utf8 {
            if !self.supports(Extension::SmtpUtfEight) {
                return Err(TransactionError::Unsupported(
                    "5.6.7 an address is not ASCII and the server does not offer SMTPUTF8"
                        .to_owned(),
                ));
            }
            mail.push_str(" SMTPUTF8");
        }
        match self
            .command(Line(&mail), timeout, "sending MAIL FROM")
            .await
        {
            Ok(_) => {}
            Err(CommandError::Reply(reply)) => {
                self.reset(timeout).await;
                return Ok(recipients
                    .iter()
                    .map(|_| Err(CommandError::Reply(reply.clone())))
                    .collect());
            }
            Err(CommandError::Lost(reason)) => return Err(TransactionError::Lost(reason)),
        }
        let mut outcomes: Vec<Option<Result<Reply, CommandError>>> =
            recipients.iter().map(|_| None).collect();
        let mut accepted = Vec::new();
        for (i, rcpt) in recipients.iter().enumerate() {
            let line = format!("RCPT TO:<{rcpt}>");
            match self.command(Line(&line), timeout, "sending RCPT TO").await {
                Ok(_) => accepted.push(i),
                Err(CommandError::Reply(reply)) => {
                    outcomes[i] = Some(Err(CommandError::Reply(reply)))
                }
                Err(CommandError::Lost(reason)) => {
                    return Ok(finish(outcomes, |_| {
                        Err(CommandError::Lost(reason.clone()))
                    }));
                }
            }
        }
        if accepted.is_empty() {
            self.reset(timeout).await;
            return Ok(finish(outcomes, |_| {
                Err(CommandError::Lost("no recipient accepted".to_owned()))
            }));
        }
        let final_reply = match self.command(Data, timeout, "sending DATA").await {
            Err(e) => {
                if matches!(e, CommandError::Reply(_)) {
                    self.reset(timeout).await;
                }
                Err(e)
            }
            Ok(_) => {
                // The stored text ends with the CRLF of its last line; lettre adds CRLF.CRLF.
                let text = body.strip_suffix(b"\r\n").unwrap_or(body);
                match tokio::time::timeout(timeout, self.conn.message(text)).await {
                    Ok(Ok(response)) => Ok(Reply::from_response(&response)),
                    Ok(Err(e)) => {
                        let e = command_error(e, "sending the message text");
                        if matches!(e, CommandError::Lost(_)) {
                            self.broken = true;
                        }
                        Err(e)
                    }
                    Err(_) => {
                        self.broken = true;
                        Err(CommandError::Lost(
                            "timeout while sending the message text".to_owned(),
                        ))
                    }
                }
            }
        };
        for i in accepted {
            outcomes[i] = Some(match &final_reply {
                Ok(reply) => Ok(reply.clone()),
                Err(CommandError::Reply(reply)) => Err(CommandError::Reply(reply.clone())),
                Err(CommandError::Lost(reason)) => Err(CommandError::Lost(reason.clone())),
            });
        }
        Ok(finish(outcomes, |_| {
            Err(CommandError::Lost("no reply".to_owned()))
        }))
    }

    async fn reset(&mut self, timeout: Duration) {
        if self.command(Rset, timeout, "sending RSET").await.is_err() {
            self.broken = true;
        }
    }

    /// True when the session can carry another transaction.
    pub(crate) fn reusable(&self) -> bool {
        !self.broken && !self.conn.has_broken()
    }

    async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.conn.quit()).await;
    }
}

fn finish(
    outcomes: Vec<Option<Result<Reply, CommandError>>>,
    missing: impl Fn(usize) -> Result<Reply, CommandError>,
) -> Vec<Result<Reply, CommandError>> {
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| o.unwrap_or_else(|| missing(i)))
        .collect()
}

/// Why a transaction could not run at all.
#[derive(Debug)]
pub(crate) enum TransactionError {
    /// The session died before any recipient was judged.
    Lost(String),
    /// The message cannot be sent to this server (permanent).
    Unsupported(String),
}

/// A raw command line (lettre's typed commands would re-validate stored addresses).
struct Line<'a>(&'a str);

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\r\n", self.0)
    }
}

/// Reads a complete SMTP reply (possibly multi-line) from a fresh connection: the greeting.
async fn read_greeting(stream: &mut TcpStream) -> Result<(Reply, Vec<u8>), String> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(reply) = parse_complete_reply(&buf) {
            return Ok((reply, buf));
        }
        if buf.len() > MAX_GREETING {
            return Err("greeting too long".to_owned());
        }
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the greeting: {e}"))?;
        if n == 0 {
            return Err(if buf.is_empty() {
                "connection closed without a greeting".to_owned()
            } else {
                "connection closed in the middle of the greeting".to_owned()
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The reply in `buf` once its last line (`NNN ` or `NNN` then CRLF) is complete.
fn parse_complete_reply(buf: &[u8]) -> Option<Reply> {
    let text = std::str::from_utf8(buf).ok()?;
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find('\n') {
        let line = rest[..end].trim_end_matches('\r');
        rest = &rest[end + 1..];
        let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
        let sep = line.as_bytes().get(3).copied();
        lines.push(line.get(4..).unwrap_or_default().to_owned());
        match (code, sep) {
            (Some(code), Some(b' ') | None) => {
                return Some(Reply {
                    code,
                    text: lines.join(" "),
                })
            }
            (Some(_), Some(b'-')) => continue,
            _ => {
                return Some(Reply {
                    code: 0,
                    text: line.to_owned(),
                })
            }
        }
    }
    None
}

/// Connects to `addr` and waits for the greeting; returns the greeting and the stream.
/// Used for deliveries and by the prober.
pub(crate) async fn greet(
    addr: SocketAddr,
    connect_timeout: Duration,
    greeting_timeout: Duration,
) -> Result<(Reply, Vec<u8>, TcpStream), String> {
    let mut stream = match tokio::time::timeout(connect_timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(format!("connect to {addr}: {e}")),
        Err(_) => return Err(format!("connect to {addr}: timed out")),
    };
    let _ = stream.set_nodelay(true);
    let (reply, raw) =
        match tokio::time::timeout(greeting_timeout, read_greeting(&mut stream)).await {
            Ok(Ok(greeting)) => greeting,
            Ok(Err(e)) => return Err(format!("{addr}: {e}")),
            Err(_) => return Err(format!("{addr}: timed out waiting for the greeting")),
        };
    Ok((reply, raw, stream))
}

/// A TCP stream whose first bytes (the greeting we already read) are replayed to lettre.
struct Greeted {
    replay: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl fmt::Debug for Greeted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Greeted")
            .field("inner", &self.inner)
            .finish()
    }
}

impl AsyncRead for Greeted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.pos < self.replay.len() {
            let n = (self.replay.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.replay[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Greeted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Greeted {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

/// Connection settings of one node.
pub(crate) struct ConnectSettings<'a> {
    pub(crate) hello: &'a str,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Duration,
}

fn tls_parameters(policy: TlsPolicy, name: &str) -> Result<TlsParameters, String> {
    let builder = TlsParameters::builder(name.to_owned());
    let builder = match policy {
        TlsPolicy::Verify => builder,
        _ => builder
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true),
    };
    builder
        .build_rustls()
        .map_err(|e| format!("TLS set-up for {name}: {e}"))
}

/// Opens a session to `key`: TCP, greeting, EHLO, then STARTTLS as the policy asks
/// (`opportunistic` falls back to plain text when the handshake fails, as Postfix's
/// `may` level does).
pub(crate) async fn open(
    key: &ConnKey,
    settings: &ConnectSettings<'_>,
) -> Result<Session, ConnectError> {
    let session = open_once(key, settings, true).await;
    match session {
        Err(ConnectError::Refused(reason))
            if key.tls == TlsPolicy::Opportunistic && reason.starts_with("STARTTLS") =>
        {
            tracing::info!(ip = %key.ip, %reason, "opportunistic TLS failed; retrying without TLS");
            open_once(key, settings, false).await
        }
        other => other,
    }
}

async fn open_once(
    key: &ConnKey,
    settings: &ConnectSettings<'_>,
    try_tls: bool,
) -> Result<Session, ConnectError> {
    let addr = SocketAddr::new(key.ip, key.port);
    let (greeting, raw, stream) = greet(addr, settings.connect_timeout, settings.command_timeout)
        .await
        .map_err(ConnectError::Unreachable)?;
    if !(200..300).contains(&greeting.code) {
        return Err(ConnectError::Unreachable(format!(
            "{addr} refused service: {greeting}"
        )));
    }
    let local_ip = stream.local_addr().ok().map(|a| a.ip().to_canonical());
    let hello = ClientId::Domain(settings.hello.to_owned());
    let stream = Greeted {
        replay: raw,
        pos: 0,
        inner: stream,
    };
    let connected = tokio::time::timeout(
        settings.command_timeout,
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello),
    )
    .await;
    let mut conn = match connected {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            return Err(ConnectError::Refused(
                match command_error(e, "sending EHLO") {
                    CommandError::Reply(reply) => format!("{addr} refused EHLO: {reply}"),
                    CommandError::Lost(reason) => reason,
                },
            ))
        }
        Err(_) => {
            return Err(ConnectError::Refused(format!(
                "{addr}: timeout while sending EHLO"
            )))
        }
    };
    let wants_tls = match key.tls {
        TlsPolicy::None => false,
        TlsPolicy::Opportunistic => try_tls && conn.can_starttls(),
        TlsPolicy::Required | TlsPolicy::Verify => {
            if !conn.can_starttls() {
                let _ = tokio::time::timeout(Duration::from_secs(1), conn.quit()).await;
                return Err(ConnectError::Refused(format!(
                    "TLS is required ({}) but {addr} does not offer STARTTLS",
                    key.tls
                )));
            }
            true
        }
    };
    if wants_tls {
        let params = tls_parameters(key.tls, &key.tls_name).map_err(ConnectError::Refused)?;
        let upgraded =
            tokio::time::timeout(settings.command_timeout, conn.starttls(params, &hello)).await;
        match upgraded {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(ConnectError::Refused(format!(
                    "STARTTLS with {addr} failed: {e}"
                )))
            }
            Err(_) => {
                return Err(ConnectError::Refused(format!(
                    "STARTTLS with {addr} failed: timeout"
                )))
            }
        }
    }
    let tls = conn.is_encrypted();
    Ok(Session {
        conn,
        key: key.clone(),
        tls,
        reused: false,
        local_ip,
        broken: false,
    })
}

struct Idle {
    session: Session,
    since: Instant,
}

/// Idle sessions by target, so consecutive deliveries reuse connections.
pub(crate) struct Connections {
    idle: Mutex<HashMap<ConnKey, Vec<Idle>>>,
    max_per_key: usize,
}

impl Connections {
    pub(crate) fn new(max_per_key: usize) -> Connections {
        Connections {
            idle: Mutex::new(HashMap::new()),
            max_per_key: max_per_key.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnKey, Vec<Idle>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most recently used idle session to `key`, if one is fresh enough.
    pub(crate) fn take(&self, key: &ConnKey) -> Option<Session> {
        let mut idle = self.lock();
        let list = idle.get_mut(key)?;
        while let Some(entry) = list.pop() {
            if entry.since.elapsed() < IDLE_TIMEOUT {
                let mut session = entry.session;
                session.reused = true;
                return Some(session);
            }
        }
        None
    }

    /// Parks a session after a transaction (dropped when broken or when enough are idle).
    pub(crate) fn give_back(&self, session: Session) {
        if !session.reusable() {
            return;
        }
        let mut idle = self.lock();
        let list = idle.entry(session.key.clone()).or_default();
        if list.len() < self.max_per_key {
            list.push(Idle {
                session,
                since: Instant::now(),
            });
        }
    }

    /// Closes sessions idle for too long.
    pub(crate) async fn sweep(&self) {
        let stale: Vec<Session> = {
            let mut idle = self.lock();
            let mut stale = Vec::new();
            for list in idle.values_mut() {
                let (old, fresh): (Vec<Idle>, Vec<Idle>) = std::mem::take(list)
                    .into_iter()
                    .partition(|e| e.since.elapsed() >= IDLE_TIMEOUT);
                *list = fresh;
                stale.extend(old.into_iter().map(|e| e.session));
            }
            idle.retain(|_, list| !list.is_empty());
            stale
        };
        for session in stale {
            session.quit().await;
        }
    }

    /// Says QUIT to every idle session (shutdown).
    pub(crate) async fn close_all(&self) {
        let all: Vec<Session> = {
            let mut idle = self.lock();
            idle.drain()
                .flat_map(|(_, list)| list.into_iter().map(|e| e.session))
                .collect()
        };
        let quits = all.into_iter().map(Session::quit);
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            futures_util::future::join_all(quits),
        )
        .await;
    }
}

/// Sends QUIT on a fresh stream (the prober's polite goodbye).
pub(crate) async fn say_quit(stream: &mut TcpStream) {
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        stream.write_all(b"QUIT\r\n").await?;
        let mut buf = [0u8; 256];
        let _ = stream.read(&mut buf).await?;
        stream.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_are_complete_only_after_the_last_line() {
        assert_eq!(parse_complete_reply(b"220 mx.example ESMTP"), None);
        assert_eq!(
            parse_complete_reply(b"220 mx.example ESMTP\r\n"),
            Some(Reply {
                code: 220,
                text: "mx.example ESMTP".to_owned()
            })
        );
        assert_eq!(parse_complete_reply(b"220-mx.example\r\n"), None);
        assert_eq!(
            parse_complete_reply(b"220-mx.example\r\n220 ready\r\n"),
            Some(Reply {
                code: 220,
                text: "mx.example ready".to_owned()
            })
        );
        assert_eq!(
            parse_complete_reply(b"554 5.3.2 go away\r\n").map(|r| r.code),
            Some(554)
        );
        assert_eq!(
            parse_complete_reply(b"SSH-2.0-OpenSSH\r\n").map(|r| r.code),
            Some(0)
        );
    }

    #[test]
    fn replies_print_as_sent() {
        let r = Reply {
            code: 550,
            text: "5.1.1 no such user".to_owned(),
        };
        assert_eq!(r.to_string(), "550 5.1.1 no such user");
    }
}
