//! The verify probe: from one egress address (bound before connecting), an SMTP session to
//! the domain's target up to RCPT — greeting, EHLO (HELO if refused), `MAIL FROM:<>`,
//! `RCPT TO:<test recipient>` — then QUIT; never DATA, so nothing is delivered. Every step
//! runs against one deadline, so a silent target costs at most the budget.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use utoipa::ToSchema;

/// Longest reply line read; longer ones end the session.
const MAX_LINE: usize = 4096;
/// Most lines in one (multi-line) reply.
const MAX_LINES: usize = 100;

/// The step a probe ended at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WhitelistProbeStage)]
pub enum Stage {
    /// The egress address could not be bound on this host.
    Bind,
    /// No target address (of this family) to connect to.
    Resolve,
    Connect,
    Greeting,
    Ehlo,
    Mail,
    Rcpt,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Bind => "bind",
            Stage::Resolve => "resolve",
            Stage::Connect => "connect",
            Stage::Greeting => "greeting",
            Stage::Ehlo => "ehlo",
            Stage::Mail => "mail",
            Stage::Rcpt => "rcpt",
        }
    }
}

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WhitelistProbeOutcome)]
pub enum ProbeOutcome {
    /// RCPT was accepted (2xx): the target takes mail from this address.
    Accepted,
    /// A 5xx reply (greeting, EHLO, MAIL or RCPT).
    Rejected,
    /// A 4xx reply.
    Tempfail,
    /// No reply to judge: bind or connection failure, timeout, garbage.
    Error,
}

impl ProbeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeOutcome::Accepted => "accepted",
            ProbeOutcome::Rejected => "rejected",
            ProbeOutcome::Tempfail => "tempfail",
            ProbeOutcome::Error => "error",
        }
    }
}

/// One exchange of the session: what was sent (null for the greeting) and the reply.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = WhitelistTranscriptLine)]
pub struct TranscriptLine {
    pub command: Option<String>,
    pub reply: String,
}

/// What one probe found.
#[derive(Debug, Clone)]
pub struct Probe {
    pub source: IpAddr,
    pub target: Option<IpAddr>,
    pub stage: Stage,
    pub outcome: ProbeOutcome,
    pub code: Option<u16>,
    /// The last reply, or what went wrong.
    pub reply: String,
    pub transcript: Vec<TranscriptLine>,
    pub duration: Duration,
}

/// Runs one probe from `source` to `target` (`Err`: why there is no target address),
/// saying `EHLO hello` and asking for `recipient`, all within `budget`.
pub async fn run(
    source: IpAddr,
    target: Result<SocketAddr, String>,
    hello: &str,
    recipient: &str,
    budget: Duration,
) -> Probe {
    let started = Instant::now();
    let deadline = started + budget;
    let mut probe = Probe {
        source,
        target: target.as_ref().ok().map(SocketAddr::ip),
        stage: Stage::Bind,
        outcome: ProbeOutcome::Error,
        code: None,
        reply: String::new(),
        transcript: Vec::new(),
        duration: Duration::ZERO,
    };
    session(&mut probe, target, hello, recipient, deadline).await;
    probe.duration = started.elapsed();
    probe
}

async fn session(
    probe: &mut Probe,
    target: Result<SocketAddr, String>,
    hello: &str,
    recipient: &str,
    deadline: Instant,
) {
    let source = probe.source;
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    };
    let bound = socket.and_then(|s| s.bind(SocketAddr::new(source, 0)).map(|()| s));
    let socket = match bound {
        Ok(socket) => socket,
        Err(e) => {
            probe.reply = format!("cannot send from {source}: this host cannot bind it ({e})");
            return;
        }
    };
    probe.stage = Stage::Resolve;
    let addr = match target {
        Ok(addr) => addr,
        Err(why) => {
            probe.reply = why;
            return;
        }
    };
    probe.stage = Stage::Connect;
    let stream = match tokio::time::timeout_at(deadline, socket.connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            probe.reply = format!("connect from {source} to {addr}: {e}");
            return;
        }
        Err(_) => {
            probe.reply = format!("connect from {source} to {addr}: timed out");
            return;
        }
    };
    let mut conn = Conn::new(stream);
    probe.stage = Stage::Greeting;
    if !step(probe, &mut conn, None, deadline).await {
        return;
    }
    probe.stage = Stage::Ehlo;
    let ehlo = format!("EHLO {hello}");
    if !step(probe, &mut conn, Some(&ehlo), deadline).await {
        if probe.code.is_none() {
            return;
        }
        // An old server may know only HELO.
        let helo = format!("HELO {hello}");
        if !step(probe, &mut conn, Some(&helo), deadline).await {
            return;
        }
    }
    probe.stage = Stage::Mail;
    if !step(probe, &mut conn, Some("MAIL FROM:<>"), deadline).await {
        return;
    }
    probe.stage = Stage::Rcpt;
    let rcpt = format!("RCPT TO:<{recipient}>");
    if step(probe, &mut conn, Some(&rcpt), deadline).await {
        probe.outcome = ProbeOutcome::Accepted;
    }
    // Polite end, never DATA; the answer does not matter.
    let quit_deadline = deadline.min(Instant::now() + Duration::from_secs(1));
    let _ = tokio::time::timeout_at(quit_deadline, async {
        conn.send("QUIT").await?;
        conn.reply().await.map(drop)
    })
    .await;
}

/// Sends `command` (or reads the greeting) and records the reply; true when it was 2xx.
async fn step(
    probe: &mut Probe,
    conn: &mut Conn,
    command: Option<&str>,
    deadline: Instant,
) -> bool {
    let exchange = async {
        if let Some(command) = command {
            conn.send(command).await?;
        }
        conn.reply().await
    };
    let what = command
        .and_then(|c| c.split_whitespace().next())
        .unwrap_or("the greeting");
    match tokio::time::timeout_at(deadline, exchange).await {
        Ok(Ok((code, line))) => {
            probe.code = Some(code);
            probe.reply = line.clone();
            probe.transcript.push(TranscriptLine {
                command: command.map(str::to_owned),
                reply: line,
            });
            probe.outcome = match code {
                200..=299 => return true,
                400..=499 => ProbeOutcome::Tempfail,
                500..=599 => ProbeOutcome::Rejected,
                _ => ProbeOutcome::Error,
            };
            false
        }
        Ok(Err(e)) => {
            probe.code = None;
            probe.outcome = ProbeOutcome::Error;
            probe.reply = format!("waiting for the reply to {what}: {e}");
            false
        }
        Err(_) => {
            probe.code = None;
            probe.outcome = ProbeOutcome::Error;
            probe.reply = format!("timed out waiting for the reply to {what}");
            false
        }
    }
}

/// A line-oriented SMTP client connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            reader: BufReader::new(stream),
        }
    }

    async fn send(&mut self, command: &str) -> std::io::Result<()> {
        let stream = self.reader.get_mut();
        stream.write_all(command.as_bytes()).await?;
        stream.write_all(b"\r\n").await?;
        stream.flush().await
    }

    /// Reads one reply (all its lines); returns the code and the lines joined with spaces,
    /// e.g. `554 5.7.1 blocked`.
    async fn reply(&mut self) -> std::io::Result<(u16, String)> {
        let bad = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned());
        let mut texts = Vec::new();
        loop {
            let mut raw = Vec::new();
            let n = (&mut self.reader)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut raw)
                .await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the connection was closed",
                ));
            }
            if !raw.ends_with(b"\n") {
                return Err(bad("reply line too long"));
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| bad(&format!("not an SMTP reply: {line:.80}")))?;
            let more = line.as_bytes().get(3) == Some(&b'-');
            texts.push(line.get(4..).unwrap_or_default().trim().to_owned());
            if !more {
                let text = texts.join(" ");
                let line = if text.is_empty() {
                    code.to_string()
                } else {
                    format!("{code} {text}")
                };
                return Ok((code, line));
            }
            if texts.len() >= MAX_LINES {
                return Err(bad("reply with too many lines"));
            }
        }
    }
}
