//! One SMTP session: the greeting, the command loop, and the switch to TLS.
//!
//! The state lives in [`Session`]: what the client said in EHLO/HELO, whether TLS is up, and
//! the mail transaction in progress. Each command is handled in its own file as a method on
//! [`Session`]. Replies are queued and sent when the client's pipelined input is used up.

use super::command::{self, Verb};
use super::conn::{Conn, Line, ReadError};
use super::reply::Reply;
use super::IntakeContext;
use crate::domains::DomainInfo;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument;

/// Serves one SMTP session over `stream` until the client quits, a limit closes it, or
/// `shutdown` turns true (then it answers `421`, at once when the client is idle, otherwise
/// after the command in progress, a DATA transfer and its commit included).
pub async fn handle_session<S>(
    stream: S,
    peer: SocketAddr,
    ctx: Arc<IntakeContext>,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let span = tracing::info_span!("smtp", peer = %peer.ip().to_canonical());
    async move {
        tracing::debug!(port = peer.port(), "session opened");
        let mut session = Session::new(ctx, peer, shutdown);
        let timeout = session.ctx.config.command_timeout;
        let mut conn = Conn::new(stream, timeout);
        conn.reply(&Reply::plain(
            220,
            format!("{} ESMTP mxspool", session.ctx.config.hostname),
        ));
        if session.serve(&mut conn).await != Ended::StartTls {
            return;
        }
        let Some(acceptor) = session.ctx.tls.clone() else {
            return;
        };
        let stream = conn.into_inner();
        match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => {
                let (_, server) = tls.get_ref();
                session.start_tls(server);
                let mut conn = Conn::new(tls, timeout);
                // A second STARTTLS is refused inside, so this cannot ask to upgrade again.
                let _ = session.serve(&mut conn).await;
            }
            Ok(Err(e)) => tracing::info!(error = %e, "TLS handshake failed"),
            Err(_) => tracing::info!("TLS handshake timed out"),
        }
    }
    .instrument(span)
    .await;
}

/// How [`Session::serve`] ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    Closed,
    /// `220 Ready to start TLS` was sent: the caller performs the handshake and serves on.
    StartTls,
}

/// What the command loop does after a command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
    StartTls,
}

pub(crate) struct Session {
    pub ctx: Arc<IntakeContext>,
    pub peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
    pub helo: Option<Helo>,
    pub tls: Option<TlsInfo>,
    pub tx: Option<Transaction>,
    errors: usize,
}

/// What the client called itself.
pub(crate) struct Helo {
    pub name: String,
    /// EHLO (true) or HELO.
    pub extended: bool,
}

/// The negotiated TLS parameters, for the `Received:` header.
pub(crate) struct TlsInfo {
    pub protocol: String,
    pub cipher: String,
}

/// A mail transaction between MAIL FROM and the end of DATA.
pub(crate) struct Transaction {
    /// Envelope sender; empty for `<>`.
    pub sender: String,
    /// SIZE declared in MAIL FROM.
    pub declared_size: Option<u64>,
    pub smtputf8: bool,
    pub recipients: Vec<Accepted>,
    /// Lower-cased accepted addresses, so a repeated RCPT is stored once.
    pub seen: HashSet<String>,
    /// RCPTs refused for exceeding the recipient limit.
    pub overshoot: usize,
}

/// A recipient accepted at RCPT time.
pub(crate) struct Accepted {
    /// Local part as given, `@`, normalised domain.
    pub address: String,
    pub domain: Arc<DomainInfo>,
}

impl Session {
    pub fn new(
        ctx: Arc<IntakeContext>,
        peer: SocketAddr,
        shutdown: watch::Receiver<bool>,
    ) -> Session {
        Session {
            ctx,
            peer,
            shutdown,
            helo: None,
            tls: None,
            tx: None,
            errors: 0,
        }
    }

    pub fn hostname(&self) -> &str {
        &self.ctx.config.hostname
    }

    /// After the TLS handshake, everything learnt from the client before it is forgotten
    /// (RFC 3207 §4.2): it must EHLO again.
    fn start_tls(&mut self, server: &rustls::ServerConnection) {
        let protocol = match server.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
            Some(other) => format!("{other:?}"),
            None => "TLS".to_owned(),
        };
        let cipher = server
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        tracing::debug!(%protocol, %cipher, "TLS established");
        self.tls = Some(TlsInfo { protocol, cipher });
        self.helo = None;
        self.tx = None;
    }

    fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// The command loop.
    pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&mut self, conn: &mut Conn<S>) -> Ended {
        let mut line = Vec::with_capacity(512);
        let flow = loop {
            if self.shutting_down() {
                conn.reply(&Reply::shutting_down(self.hostname()));
                break Flow::Close;
            }
            let config = &self.ctx.config;
            let deadline = Instant::now() + config.command_timeout;
            let max = config.max_line_length;
            let read = conn
                .read_line(&mut line, max, deadline, Some(&mut self.shutdown))
                .await;
            let flow = match read {
                Ok(Line::Complete) => self.command(conn, &line).await,
                Ok(Line::TooLong) => self.answer(conn, Reply::line_too_long()),
                Err(e) => {
                    self.input_failed(conn, e);
                    Flow::Close
                }
            };
            if flow != Flow::Continue {
                break flow;
            }
            if let Err(e) = conn.flush_if_large().await {
                tracing::debug!(error = %e, "cannot send replies");
                break Flow::Close;
            }
        };
        match flow {
            Flow::StartTls => {
                let dropped = conn.discard_input();
                if dropped > 0 {
                    // Plaintext sent after STARTTLS but before the handshake must never be
                    // taken as coming through TLS (CVE-2011-0411 and kin).
                    tracing::info!(bytes = dropped, "discarded input pipelined after STARTTLS");
                }
                match conn.flush().await {
                    Ok(()) => Ended::StartTls,
                    Err(_) => Ended::Closed,
                }
            }
            _ => {
                conn.close().await;
                Ended::Closed
            }
        }
    }

    /// Answers a read that failed: timeout and shutdown get a `421`; a vanished client none.
    pub fn input_failed<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut Conn<S>,
        error: ReadError,
    ) {
        match error {
            ReadError::Timeout => {
                tracing::info!("timeout exceeded");
                conn.reply(&Reply::timeout(self.hostname()));
            }
            ReadError::Shutdown => conn.reply(&Reply::shutting_down(self.hostname())),
            ReadError::Closed => tracing::debug!("client closed the connection"),
            ReadError::Io(e) => tracing::debug!(error = %e, "connection error"),
        }
    }

    async fn command<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut Conn<S>,
        line: &[u8],
    ) -> Flow {
        let (verb, args) = match command::parse(line) {
            Ok(parsed) => parsed,
            Err(reply) => return self.answer(conn, reply),
        };
        let reply = match verb {
            Verb::Ehlo => self.handle_ehlo(args, true),
            Verb::Helo => self.handle_ehlo(args, false),
            Verb::Mail => self.handle_mail(args),
            Verb::Rcpt => {
                let reply = self.handle_rcpt(args).await;
                if reply.code >= 400 {
                    mxspool_telemetry::smtp_rejected("rcpt", reply.code, reply.status);
                }
                reply
            }
            Verb::Data => return self.handle_data(conn, args).await,
            Verb::StartTls => match self.handle_starttls(args) {
                Ok(ready) => {
                    conn.reply(&ready);
                    return Flow::StartTls;
                }
                Err(refusal) => refusal,
            },
            Verb::Rset => {
                if args.is_empty() {
                    self.tx = None;
                    Reply::ok()
                } else {
                    Reply::syntax("RSET")
                }
            }
            Verb::Noop => Reply::ok(),
            Verb::Quit => {
                conn.reply(&Reply::new(221, "2.0.0", "Bye"));
                return Flow::Close;
            }
            Verb::Vrfy => {
                if args.is_empty() {
                    Reply::syntax("VRFY address")
                } else {
                    Reply::new(252, "2.5.2", "Cannot VRFY user, but will accept message")
                }
            }
            Verb::Help => Reply::new(
                214,
                "2.0.0",
                "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS",
            ),
            Verb::Auth => Reply::new(503, "5.5.1", "Error: authentication not enabled"),
            Verb::NotImplemented => Reply::new(502, "5.5.1", "Error: command not implemented"),
            Verb::Forbidden => {
                tracing::info!("HTTP request on the SMTP port; closing");
                conn.reply(&Reply::new(
                    221,
                    "2.7.0",
                    "Error: I can break rules, too. Goodbye.",
                ));
                return Flow::Close;
            }
        };
        self.answer(conn, reply)
    }

    /// Queues `reply`, counting errors: past `max_errors` the session ends with `421`.
    pub fn answer<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut Conn<S>,
        reply: Reply,
    ) -> Flow {
        conn.reply(&reply);
        if reply.counts_as_error {
            self.errors += 1;
            if self.errors >= self.ctx.config.max_errors {
                tracing::info!(errors = self.errors, "too many errors");
                conn.reply(&Reply::too_many_errors(self.hostname()));
                return Flow::Close;
            }
        }
        Flow::Continue
    }

    /// A message was queued: like Postfix, errors only count "without delivering mail".
    pub fn forgive_errors(&mut self) {
        self.errors = 0;
    }
}
