//! A small SMTP server for tests and benchmarks: it accepts mail on loopback, records every
//! message it accepts, and answers with whatever replies the test configured (a refused
//! recipient, a temporary failure after DATA, a hostile banner).
//!
//! It speaks enough ESMTP for a relay to talk to it as to a real target (EHLO with PIPELINING
//! and 8BITMIME, MAIL, RCPT, DATA, RSET, NOOP, QUIT, and STARTTLS with a self-signed
//! certificate when enabled), handles pipelined commands, and answers
//! from a buffered writer flushed only when the client waits, so it keeps up with thousands of
//! messages per second over reused connections.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio_rustls::TlsAcceptor;

/// Longest command or text line accepted, CRLF included.
const MAX_LINE: usize = 64 * 1024;

/// One message the sink accepted (only the recipients it accepted are listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The `MAIL FROM` address, without brackets; empty for the null sender.
    pub mail_from: String,
    /// The accepted `RCPT TO` addresses, without brackets, in the order given.
    pub rcpt_to: Vec<String>,
    /// The message text after dot-unstuffing, ending with the CRLF before the final dot.
    pub data: Vec<u8>,
    /// It came over TLS (after STARTTLS).
    pub tls: bool,
}

impl Received {
    /// The message text as (lossy) UTF-8, for assertions.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// How the sink answers; changed at any time through [`SinkServer`]'s setters and applied
/// to the next command.
#[derive(Debug, Clone)]
struct Replies {
    banner: String,
    mail: Option<String>,
    rcpt: HashMap<String, String>,
    /// RCPT replies by client address, ahead of `rcpt` (a filter judging the sender's IP).
    rcpt_from: HashMap<IpAddr, String>,
    data: Option<String>,
    data_delay: Option<Duration>,
}

impl Default for Replies {
    fn default() -> Self {
        Replies {
            banner: "220 sink.test ESMTP mxspool-testsink".to_owned(),
            mail: None,
            rcpt: HashMap::new(),
            rcpt_from: HashMap::new(),
            data: None,
            data_delay: None,
        }
    }
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    arrived: Notify,
    replies: Mutex<Replies>,
    connections: AtomicUsize,
    /// The client address of every connection, in order.
    clients: Mutex<Vec<IpAddr>>,
    transactions: AtomicUsize,
    starttls: AtomicBool,
    /// Built on first use: a self-signed certificate for `sink.test`.
    acceptor: OnceLock<Option<TlsAcceptor>>,
}

impl Shared {
    fn replies(&self) -> MutexGuard<'_, Replies> {
        self.replies.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn messages(&self) -> MutexGuard<'_, Vec<Received>> {
        self.messages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The STARTTLS acceptor when STARTTLS is on (and a certificate could be made).
    fn tls(&self) -> Option<TlsAcceptor> {
        if !self.starttls.load(Ordering::Relaxed) {
            return None;
        }
        self.acceptor.get_or_init(self_signed_acceptor).clone()
    }
}

fn self_signed_acceptor() -> Option<TlsAcceptor> {
    let made = rcgen::generate_simple_self_signed(vec!["sink.test".to_owned()]);
    let generated = match made {
        Ok(generated) => generated,
        Err(e) => {
            tracing::error!(error = %e, "sink: cannot make a certificate; no STARTTLS");
            return None;
        }
    };
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.with_no_client_auth()
                .with_single_cert(vec![generated.cert.der().clone()], key.into())
        });
    match config {
        Ok(config) => Some(TlsAcceptor::from(Arc::new(config))),
        Err(e) => {
            tracing::error!(error = %e, "sink: bad TLS configuration; no STARTTLS");
            None
        }
    }
}

/// A running SMTP sink on loopback. Dropping it stops it (like [`SinkServer::stop`]).
pub struct SinkServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl SinkServer {
    /// Starts a sink on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<SinkServer> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sink on `addr`, e.g. the address of a sink stopped earlier, to bring a target
    /// back on the same port. Retries for a moment while the port is still being released.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<SinkServer> {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e),
            }
        };
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        Ok(SinkServer { shared, addr, stop })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Closes the listener and every open connection: connects to the port are refused from
    /// now on. Messages received so far stay readable.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Every message accepted so far, in order of acceptance.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages().clone()
    }

    /// Number of messages accepted so far.
    pub fn count(&self) -> usize {
        self.shared.messages().len()
    }

    /// Number of TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Number of `MAIL FROM` commands accepted so far (transactions started).
    pub fn transactions(&self) -> usize {
        self.shared.transactions.load(Ordering::Relaxed)
    }

    /// Waits until at least `n` messages have been accepted; false when `timeout` passed first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            if self.count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.count() >= n;
            }
        }
    }

    /// The greeting sent to new connections, e.g. `"554 5.3.2 go away"`. A 4xx greeting is
    /// followed by closing the connection; after a 5xx one every command but QUIT gets `503`.
    pub fn set_banner(&self, reply: &str) {
        self.shared.replies().banner = reply.to_owned();
    }

    /// The reply to `MAIL FROM` (`None`: `250 2.1.0 Ok`).
    pub fn set_mail_reply(&self, reply: Option<&str>) {
        self.shared.replies().mail = reply.map(str::to_owned);
    }

    /// The reply to `RCPT TO:<address>` (address compared case-insensitively; `None`: accept).
    pub fn set_rcpt_reply(&self, address: &str, reply: Option<&str>) {
        let key = address.to_ascii_lowercase();
        let mut replies = self.shared.replies();
        match reply {
            Some(reply) => {
                replies.rcpt.insert(key, reply.to_owned());
            }
            None => {
                replies.rcpt.remove(&key);
            }
        }
    }

    /// The reply to every `RCPT TO` from connections coming from `client` (`None`: as for
    /// anyone else), like a filter that blocks or greylists one sending address.
    pub fn set_client_rcpt_reply(&self, client: IpAddr, reply: Option<&str>) {
        let mut replies = self.shared.replies();
        match reply {
            Some(reply) => {
                replies.rcpt_from.insert(client, reply.to_owned());
            }
            None => {
                replies.rcpt_from.remove(&client);
            }
        }
    }

    /// The client addresses of the connections accepted so far, in order.
    pub fn clients(&self) -> Vec<IpAddr> {
        self.shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The reply after the final dot of DATA (`None`: `250 2.0.0 Ok: queued`). Messages
    /// answered with anything but 2xx are not recorded.
    pub fn set_data_reply(&self, reply: Option<&str>) {
        self.shared.replies().data = reply.map(str::to_owned);
    }

    /// Makes the sink slow: after the final dot of DATA it waits this long before accepting
    /// and answering (`None`: answer at once). A client that goes away meanwhile has its
    /// message dropped, as a real server would not have acknowledged it.
    pub fn set_data_delay(&self, delay: Option<Duration>) {
        self.shared.replies().data_delay = delay;
    }

    /// Offers STARTTLS (self-signed certificate for `sink.test`) to new sessions.
    pub fn set_starttls(&self, on: bool) {
        self.shared.starttls.store(on, Ordering::Relaxed);
    }
}

impl Drop for SinkServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let sessions_stop = stopped.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    shared.connections.fetch_add(1, Ordering::Relaxed);
                    shared
                        .clients
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(peer.ip());
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    let mut stopped = sessions_stop.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            result = connection(stream, &shared) => {
                                if let Err(e) = result {
                                    tracing::debug!(error = %e, "sink session ended with an error");
                                }
                            }
                            _ = stop_signal(&mut stopped) => {}
                        }
                    });
                }
                Err(e) => {
                    tracing::debug!(error = %e, "sink accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = stop_signal(&mut stopped) => break,
        }
    }
}

/// Resolves once the sink is told to stop (or its handle is gone).
async fn stop_signal(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Where a session stands in the SMTP dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before MAIL (or after RSET / a finished transaction).
    Idle,
    /// After an accepted MAIL FROM.
    Mail,
}

struct Session {
    state: State,
    mail_from: String,
    rcpt_to: Vec<String>,
    /// After a 5xx greeting nothing but QUIT is served.
    refused: bool,
}

/// How a dialogue on one stream ended.
enum Next<S> {
    Done,
    /// The client asked for TLS: the plain stream, to be upgraded.
    StartTls(S),
}

async fn connection(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let tls = shared.tls();
    let client = stream.peer_addr().ok().map(|a| a.ip());
    match session(stream, shared, tls.is_some(), false, client).await? {
        Next::Done => Ok(()),
        Next::StartTls(stream) => {
            let Some(acceptor) = tls else { return Ok(()) };
            let stream = acceptor.accept(stream).await?;
            // RFC 3207: the client starts over with EHLO; no greeting this time.
            session(stream, shared, false, true, client).await.map(drop)
        }
    }
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    shared: &Shared,
    offer_tls: bool,
    tls: bool,
    client: Option<IpAddr>,
) -> std::io::Result<Next<S>> {
    let (read, write) = tokio::io::split(stream);
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let mut writer = BufWriter::with_capacity(16 * 1024, write);
    let mut s = Session {
        state: State::Idle,
        mail_from: String::new(),
        rcpt_to: Vec::new(),
        refused: false,
    };
    if !tls {
        let banner = shared.replies().banner.clone();
        writer.write_all(banner.as_bytes()).await?;
        writer.write_all(b"\r\n").await?;
        writer.flush().await?;
        if banner.starts_with('4') {
            return Ok(Next::Done);
        }
        s.refused = !banner.starts_with('2');
    }
    let mut line = Vec::with_capacity(512);
    loop {
        // Answers are flushed only when the client has nothing more in flight (pipelining).
        if reader.buffer().is_empty() {
            writer.flush().await?;
        }
        line.clear();
        if read_line(&mut reader, &mut line).await? == 0 {
            return Ok(Next::Done);
        }
        let command = String::from_utf8_lossy(trim_crlf(&line)).into_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if s.refused && verb != "QUIT" {
            reply(&mut writer, "503 5.5.1 no service").await?;
            continue;
        }
        match verb.as_str() {
            "EHLO" => {
                s.state = State::Idle;
                let mut ehlo = String::from("250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
                if offer_tls {
                    ehlo.push_str("250-STARTTLS\r\n");
                }
                ehlo.push_str("250 SIZE 104857600\r\n");
                writer.write_all(ehlo.as_bytes()).await?;
            }
            "HELO" => {
                s.state = State::Idle;
                reply(&mut writer, "250 sink.test").await?;
            }
            "STARTTLS" if offer_tls => {
                if !reader.buffer().is_empty() {
                    reply(&mut writer, "501 5.5.4 nothing may follow STARTTLS").await?;
                    continue;
                }
                reply(&mut writer, "220 2.0.0 Ready to start TLS").await?;
                writer.flush().await?;
                let read = reader.into_inner();
                let write = writer.into_inner();
                return Ok(Next::StartTls(read.unsplit(write)));
            }
            "MAIL" => {
                if s.state != State::Idle {
                    reply(&mut writer, "503 5.5.1 nested MAIL command").await?;
                    continue;
                }
                let Some(address) = path_argument(&command, "FROM:") else {
                    reply(&mut writer, "501 5.5.4 syntax: MAIL FROM:<address>").await?;
                    continue;
                };
                let configured = shared.replies().mail.clone();
                match configured {
                    Some(r) if !r.starts_with('2') => reply(&mut writer, &r).await?,
                    configured => {
                        s.state = State::Mail;
                        s.mail_from = address;
                        s.rcpt_to.clear();
                        shared.transactions.fetch_add(1, Ordering::Relaxed);
                        let r = configured.unwrap_or_else(|| "250 2.1.0 Ok".to_owned());
                        reply(&mut writer, &r).await?;
                    }
                }
            }
            "RCPT" => {
                if s.state != State::Mail {
                    reply(&mut writer, "503 5.5.1 need MAIL command").await?;
                    continue;
                }
                let Some(address) = path_argument(&command, "TO:") else {
                    reply(&mut writer, "501 5.5.4 syntax: RCPT TO:<address>").await?;
                    continue;
                };
                let configured = {
                    let replies = shared.replies();
                    client
                        .and_then(|ip| replies.rcpt_from.get(&ip))
                        .or_else(|| replies.rcpt.get(&address.to_ascii_lowercase()))
                        .cloned()
                };
                match configured {
                    Some(r) if !r.starts_with('2') => reply(&mut writer, &r).await?,
                    configured => {
                        s.rcpt_to.push(address);
                        let r = configured.unwrap_or_else(|| "250 2.1.5 Ok".to_owned());
                        reply(&mut writer, &r).await?;
                    }
                }
            }
            "DATA" => {
                if s.state != State::Mail || s.rcpt_to.is_empty() {
                    reply(&mut writer, "503 5.5.1 need RCPT command").await?;
                    continue;
                }
                reply(&mut writer, "354 End data with <CR><LF>.<CR><LF>").await?;
                writer.flush().await?;
                let Some(data) = read_data(&mut reader).await? else {
                    return Ok(Next::Done);
                };
                let (configured, delay) = {
                    let replies = shared.replies();
                    (replies.data.clone(), replies.data_delay)
                };
                if let Some(delay) = delay {
                    if !client_waits(&mut reader, delay).await {
                        return Ok(Next::Done);
                    }
                }
                let r = configured.unwrap_or_else(|| "250 2.0.0 Ok: queued".to_owned());
                if r.starts_with('2') {
                    let received = Received {
                        mail_from: std::mem::take(&mut s.mail_from),
                        rcpt_to: std::mem::take(&mut s.rcpt_to),
                        data,
                        tls,
                    };
                    shared.messages().push(received);
                    shared.arrived.notify_waiters();
                }
                s.state = State::Idle;
                s.rcpt_to.clear();
                reply(&mut writer, &r).await?;
            }
            "RSET" => {
                s.state = State::Idle;
                s.rcpt_to.clear();
                reply(&mut writer, "250 2.0.0 Ok").await?;
            }
            "NOOP" => reply(&mut writer, "250 2.0.0 Ok").await?,
            "QUIT" => {
                reply(&mut writer, "221 2.0.0 Bye").await?;
                writer.flush().await?;
                return Ok(Next::Done);
            }
            "" => reply(&mut writer, "500 5.5.2 empty command").await?,
            _ => reply(&mut writer, "502 5.5.2 command not implemented").await?,
        }
    }
}

/// Sleeps for `delay`; false when the client closed the connection meanwhile.
async fn client_waits<R: AsyncBufReadExt + Unpin>(reader: &mut R, delay: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + delay;
    tokio::select! {
        _ = tokio::time::sleep_until(deadline) => true,
        filled = reader.fill_buf() => match filled {
            Ok(data) if !data.is_empty() => {
                tokio::time::sleep_until(deadline).await;
                true
            }
            _ => false,
        },
    }
}

async fn reply<W: AsyncWriteExt + Unpin>(writer: &mut W, text: &str) -> std::io::Result<()> {
    writer.write_all(text.as_bytes()).await?;
    writer.write_all(b"\r\n").await
}

/// Reads one line (up to LF) into `line`; 0 at end of stream. Over-long lines are an error.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let n = reader.read_until(b'\n', line).await?;
    if line.len() > MAX_LINE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    Ok(n)
}

/// Reads message text up to the terminating `.` line, undoing dot-stuffing. `None` when the
/// client went away first.
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::with_capacity(8 * 1024);
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if read_line(reader, &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(data));
        }
        let text = match line.first() {
            Some(b'.') => &line[1..],
            _ => &line[..],
        };
        data.extend_from_slice(text);
    }
}

fn trim_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The address in `MAIL FROM:<a>` / `RCPT TO:<a>` (parameters after it ignored).
fn path_argument(command: &str, keyword: &str) -> Option<String> {
    let rest = command.get(4..)?.trim_start();
    if !rest
        .get(..keyword.len())
        .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
    {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use tokio::io::AsyncReadExt;

    struct Client {
        reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
        writer: tokio::net::tcp::OwnedWriteHalf,
    }

    impl Client {
        async fn connect(sink: &SinkServer) -> (Client, String) {
            let stream = TcpStream::connect(sink.addr()).await.unwrap();
            let (read, writer) = stream.into_split();
            let mut client = Client {
                reader: BufReader::new(read),
                writer,
            };
            let banner = client.reply().await;
            (client, banner)
        }

        async fn reply(&mut self) -> String {
            let mut all = String::new();
            loop {
                let mut line = String::new();
                self.reader.read_line(&mut line).await.unwrap();
                all.push_str(&line);
                if line.len() < 4 || line.as_bytes()[3] != b'-' {
                    return all;
                }
            }
        }

        async fn cmd(&mut self, command: &str, expect: &str) -> String {
            self.writer
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .unwrap();
            let reply = self.reply().await;
            assert!(reply.starts_with(expect), "{command}: {reply}");
            reply
        }
    }

    #[tokio::test]
    async fn a_message_is_recorded_with_its_envelope_and_unstuffed_text() {
        let sink = SinkServer::start().await.unwrap();
        let (mut c, banner) = Client::connect(&sink).await;
        assert!(banner.starts_with("220 "));
        let ehlo = c.cmd("EHLO client.test", "250").await;
        assert!(ehlo.contains("PIPELINING") && ehlo.contains("8BITMIME"));
        c.cmd("MAIL FROM:<a@x.test> BODY=8BITMIME", "250").await;
        c.cmd("RCPT TO:<b@y.test>", "250").await;
        c.cmd("DATA", "354").await;
        c.cmd("Subject: hi\r\n\r\n..dot\r\nend\r\n.", "250").await;
        c.cmd("QUIT", "221").await;
        assert!(sink.wait_for(1, Duration::from_secs(1)).await);
        let m = &sink.messages()[0];
        assert_eq!(m.mail_from, "a@x.test");
        assert_eq!(m.rcpt_to, vec!["b@y.test".to_owned()]);
        assert_eq!(m.text(), "Subject: hi\r\n\r\n.dot\r\nend\r\n");
    }

    #[tokio::test]
    async fn configured_replies_refuse_recipients_and_data() {
        let sink = SinkServer::start().await.unwrap();
        sink.set_rcpt_reply("Nobody@y.test", Some("550 5.1.1 no such user"));
        sink.set_data_reply(Some("451 4.3.0 later"));
        let (mut c, _) = Client::connect(&sink).await;
        c.cmd("EHLO client.test", "250").await;
        c.cmd("MAIL FROM:<>", "250").await;
        c.cmd("RCPT TO:<nobody@y.test>", "550 5.1.1").await;
        c.cmd("DATA", "503").await;
        c.cmd("RCPT TO:<b@y.test>", "250").await;
        c.cmd("DATA", "354").await;
        c.cmd("text\r\n.", "451 4.3.0 later").await;
        assert_eq!(sink.count(), 0);
        sink.set_data_reply(None);
        c.cmd("MAIL FROM:<>", "250").await;
        c.cmd("RCPT TO:<b@y.test>", "250").await;
        c.cmd("DATA", "354").await;
        c.cmd("text\r\n.", "250").await;
        assert_eq!(sink.count(), 1);
        assert_eq!(sink.messages()[0].mail_from, "");
    }

    #[tokio::test]
    async fn pipelined_commands_are_answered_in_order() {
        let sink = SinkServer::start().await.unwrap();
        let (mut c, _) = Client::connect(&sink).await;
        c.cmd("EHLO client.test", "250").await;
        c.writer
            .write_all(
                b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n",
            )
            .await
            .unwrap();
        for expect in ["250", "250", "250", "354"] {
            let r = c.reply().await;
            assert!(r.starts_with(expect), "{r}");
        }
        c.cmd("hello\r\n.", "250").await;
        assert_eq!(sink.messages()[0].rcpt_to.len(), 2);
    }

    #[tokio::test]
    async fn starttls_is_offered_only_when_enabled() {
        let sink = SinkServer::start().await.unwrap();
        let (mut c, _) = Client::connect(&sink).await;
        let ehlo = c.cmd("EHLO client.test", "250").await;
        assert!(!ehlo.contains("STARTTLS"));
        c.cmd("STARTTLS", "502").await;
        sink.set_starttls(true);
        let (mut c, _) = Client::connect(&sink).await;
        let ehlo = c.cmd("EHLO client.test", "250").await;
        assert!(ehlo.contains("STARTTLS"));
        c.cmd("STARTTLS", "220").await;
    }

    #[tokio::test]
    async fn a_slow_sink_answers_data_late_and_drops_mail_of_clients_that_left() {
        let sink = SinkServer::start().await.unwrap();
        sink.set_data_delay(Some(Duration::from_millis(300)));
        let (mut c, _) = Client::connect(&sink).await;
        c.cmd("EHLO client.test", "250").await;
        c.cmd("MAIL FROM:<a@x.test>", "250").await;
        c.cmd("RCPT TO:<b@y.test>", "250").await;
        c.cmd("DATA", "354").await;
        let since = std::time::Instant::now();
        c.cmd("slow\r\n.", "250").await;
        assert!(since.elapsed() >= Duration::from_millis(300));
        assert_eq!(sink.count(), 1);

        let (mut c, _) = Client::connect(&sink).await;
        c.cmd("EHLO client.test", "250").await;
        c.cmd("MAIL FROM:<a@x.test>", "250").await;
        c.cmd("RCPT TO:<b@y.test>", "250").await;
        c.cmd("DATA", "354").await;
        c.writer.write_all(b"gone\r\n.\r\n").await.unwrap();
        drop(c);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            sink.count(),
            1,
            "the message of a client that left is not kept"
        );
    }

    #[tokio::test]
    async fn a_hostile_banner_refuses_service() {
        let sink = SinkServer::start().await.unwrap();
        sink.set_banner("554 5.3.2 go away");
        let (mut c, banner) = Client::connect(&sink).await;
        assert!(banner.starts_with("554 5.3.2 go away"));
        c.cmd("EHLO client.test", "503").await;
        c.cmd("QUIT", "221").await;
    }

    #[tokio::test]
    async fn a_stopped_sink_refuses_connections_and_comes_back_on_the_same_port() {
        let sink = SinkServer::start().await.unwrap();
        let addr = sink.addr();
        let (mut c, _) = Client::connect(&sink).await;
        sink.stop();
        // The open session is closed too.
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(2), c.reader.read_to_end(&mut rest)).await;
        assert!(closed.is_ok());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(addr).await.is_err());
        let again = SinkServer::start_on(addr).await.unwrap();
        assert_eq!(again.port(), addr.port());
        let (_c, banner) = Client::connect(&again).await;
        assert!(banner.starts_with("220"));
    }

    #[test]
    fn path_arguments_are_found_with_parameters_and_any_case() {
        assert_eq!(
            path_argument("MAIL FROM:<a@b> SIZE=10", "FROM:").as_deref(),
            Some("a@b")
        );
        assert_eq!(
            path_argument("rcpt to: <x@y>", "TO:").as_deref(),
            Some("x@y")
        );
        assert_eq!(path_argument("MAIL FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_argument("MAIL TO:<a@b>", "FROM:"), None);
        assert_eq!(path_argument("MAIL", "FROM:"), None);
    }
}
