//! DATA: receive the message text, then commit it and only then say `250`.
//!
//! The text is read strictly (RFC 5321 §2.3.8, §4.1.1.4): lines end in CR LF, and only
//! CR LF `.` CR LF ends the data. A bare CR or bare LF anywhere refuses the whole message
//! (`550 5.5.2`) once its real end has been read, so the session stays in step with the
//! client. This closes SMTP smuggling: the sequences other servers take for the end of data
//! (`\n.\n`, `\n.\r\n`, `\r.\r\n`…) are never an end here, and a message holding them is
//! not stored at all, so nothing hidden behind them can be relayed.

use super::conn::Conn;
use super::received::{self, Trace};
use super::reply::Reply;
use super::session::{Flow, Session, Transaction};
use mail_parser::MessageParser;
use mxspool_store::queue::{IncomingMessage, IncomingRecipient};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

/// Most of the body preallocated from a declared SIZE.
const MAX_PREALLOCATE: u64 = 1024 * 1024;
/// Longest subject or Message-ID kept in the queue's summary columns.
const MAX_SUMMARY_CHARS: usize = 998;

impl Session {
    pub(crate) async fn handle_data<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut Conn<S>,
        args: &str,
    ) -> Flow {
        if self.helo.is_none() {
            return self.answer(conn, Reply::send_helo_first());
        }
        if !args.is_empty() {
            return self.answer(conn, Reply::syntax("DATA"));
        }
        let Some(tx) = &self.tx else {
            return self.answer(conn, Reply::new(503, "5.5.1", "Error: need RCPT command"));
        };
        // The smallest limit of the recipients' domains: the message goes to all of them.
        let Some(limit) = tx
            .recipients
            .iter()
            .map(|r| r.domain.max_message_size)
            .min()
        else {
            return self.answer(conn, Reply::new(554, "5.5.1", "Error: no valid recipients"));
        };
        let capacity = tx
            .declared_size
            .unwrap_or(0)
            .min(limit)
            .min(MAX_PREALLOCATE);

        conn.reply(&Reply::plain(354, "End data with <CR><LF>.<CR><LF>"));
        let config = &self.ctx.config;
        let deadline = Instant::now() + config.data_timeout;
        let mut receiver = Receiver::new(limit, config.max_data_line_length, capacity);
        loop {
            let chunk = match conn.fill(deadline).await {
                Ok(chunk) => chunk,
                Err(e) => {
                    self.tx = None;
                    self.input_failed(conn, e);
                    return Flow::Close;
                }
            };
            let (used, done) = receiver.feed(chunk);
            conn.consume(used);
            if done {
                break;
            }
        }

        // The transaction ends here whatever the outcome.
        let Some(tx) = self.tx.take() else {
            return self.answer(conn, Reply::new(503, "5.5.1", "Error: need RCPT command"));
        };
        let reply = match receiver.finish() {
            Ok(text) => self.queue(tx, text).await,
            Err(Problem::BareLineEnding) => {
                tracing::info!(from = %tx.sender, "message refused: bare CR or LF");
                Reply::new(550, "5.5.2", "Message contains bare CR or LF")
            }
            Err(Problem::TooBig) => {
                tracing::info!(from = %tx.sender, limit, "message refused: too big");
                Reply::size_exceeded()
            }
            Err(Problem::LineTooLong) => {
                tracing::info!(from = %tx.sender, "message refused: line too long");
                Reply::new(500, "5.5.2", "Error: message line too long")
            }
        };
        if reply.is_positive() {
            mxspool_telemetry::smtp_message_accepted();
            self.forgive_errors();
        } else {
            mxspool_telemetry::smtp_rejected("data", reply.code, reply.status);
        }
        self.answer(conn, reply)
    }

    /// Commits the message; `250` only once it is durable.
    async fn queue(&self, tx: Transaction, text: Vec<u8>) -> Reply {
        let (helo, extended) = match &self.helo {
            Some(h) => (h.name.as_str(), h.extended),
            None => ("unknown", false),
        };
        let client_ip = self.peer.ip().to_canonical();
        let single = match tx.recipients.as_slice() {
            [only] => Some(only.address.as_str()),
            _ => None,
        };
        let header = received::header(&Trace {
            helo,
            extended,
            client_ip,
            client_name: None,
            hostname: self.hostname(),
            tls: self.tls.as_ref(),
            smtputf8: tx.smtputf8,
            recipient: single,
            date: chrono::Utc::now(),
        });
        let (subject, message_id_header) = match MessageParser::new().parse_headers(&text) {
            Some(parsed) => (
                parsed.subject().map(summary),
                parsed.message_id().map(summary),
            ),
            None => (None, None),
        };
        let mut body = Vec::with_capacity(header.len() + text.len());
        body.extend_from_slice(header.as_bytes());
        body.extend_from_slice(&text);
        drop(text);

        let size = body.len();
        let count = tx.recipients.len();
        let message = IncomingMessage {
            sender: tx.sender,
            client_ip: client_ip.to_string(),
            helo: helo.to_owned(),
            tls: self.tls.is_some(),
            subject,
            message_id_header,
            body,
            recipients: tx
                .recipients
                .into_iter()
                .map(|r| IncomingRecipient {
                    domain_id: Some(r.domain.id),
                    address: r.address,
                    lifetime: r.domain.queue_lifetime,
                })
                .collect(),
        };
        let sender = message.sender.clone();
        match self.ctx.spool.commit(message).await {
            Ok(id) => {
                tracing::info!(%id, from = %sender, rcpts = count, size, "queued");
                Reply::new(250, "2.0.0", format!("Ok: queued as {id}"))
            }
            Err(e) => {
                tracing::warn!(error = %e, from = %sender, "cannot queue message");
                Reply::temporary_failure()
            }
        }
    }
}

/// A header value fit for the queue's summary columns: no control characters (PostgreSQL
/// text refuses NUL), bounded length.
fn summary(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SUMMARY_CHARS)
        .collect()
}

/// Why a received message is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    BareLineEnding,
    TooBig,
    LineTooLong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// After CR LF (or at the start): a `.` here is special.
    LineStart,
    /// `.` at the start of a line.
    Dot,
    /// `.` CR at the start of a line: LF next ends the data.
    DotCr,
    Text,
    /// CR inside a line: LF next ends the line.
    Cr,
}

/// The DATA text decoder: ends at CR LF `.` CR LF, removes dot-stuffing, and notes bare CR
/// or LF, overlong lines and excess size. Once the message is known to be refused it stops
/// keeping the text, so memory stays bounded by the size limit.
pub(crate) struct Receiver {
    state: State,
    text: Vec<u8>,
    limit: u64,
    size: u64,
    max_line: usize,
    line_len: usize,
    bare: bool,
    too_big: bool,
    too_long: bool,
}

impl Receiver {
    /// `limit`: largest text accepted; `max_line`: longest line, CR LF included.
    pub fn new(limit: u64, max_line: usize, capacity: u64) -> Receiver {
        Receiver {
            state: State::LineStart,
            text: Vec::with_capacity(usize::try_from(capacity).unwrap_or(0)),
            limit,
            size: 0,
            max_line,
            line_len: 0,
            bare: false,
            too_big: false,
            too_long: false,
        }
    }

    fn refused(&self) -> bool {
        self.bare || self.too_big || self.too_long
    }

    fn emit(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        self.size = self
            .size
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        self.line_len = self.line_len.saturating_add(n);
        if self.line_len > self.max_line {
            self.too_long = true;
        }
        if self.size > self.limit {
            self.too_big = true;
        }
        if self.refused() {
            if self.text.capacity() > 0 {
                self.text = Vec::new();
            }
        } else {
            self.text.extend_from_slice(bytes);
        }
    }

    /// Takes input; returns how many bytes were used and whether the end of data was
    /// reached (bytes after it are left to the caller: the next commands).
    pub fn feed(&mut self, chunk: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while let Some(&b) = chunk.get(i) {
            match self.state {
                State::Text => {
                    let rest = &chunk[i..];
                    let run = rest
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n')
                        .unwrap_or(rest.len());
                    if run > 0 {
                        self.emit(&rest[..run]);
                        i += run;
                        continue;
                    }
                    if b == b'\r' {
                        self.state = State::Cr;
                    } else {
                        self.bare = true;
                        self.emit(b"\n");
                    }
                    i += 1;
                }
                State::Cr => {
                    if b == b'\n' {
                        self.emit(b"\r\n");
                        self.line_len = 0;
                        self.state = State::LineStart;
                        i += 1;
                    } else {
                        // Bare CR; look at `b` again as text.
                        self.bare = true;
                        self.emit(b"\r");
                        self.state = State::Text;
                    }
                }
                State::LineStart => {
                    if b == b'.' {
                        self.state = State::Dot;
                        i += 1;
                    } else {
                        self.state = State::Text;
                    }
                }
                State::Dot => {
                    if b == b'\r' {
                        self.state = State::DotCr;
                        i += 1;
                    } else {
                        // The dot was stuffing (or a lone dot before a bare LF, refused
                        // anyway): drop it, look at `b` again as text.
                        self.state = State::Text;
                    }
                }
                State::DotCr => {
                    if b == b'\n' {
                        return (i + 1, true);
                    }
                    self.bare = true;
                    self.emit(b"\r");
                    self.state = State::Text;
                }
            }
        }
        (chunk.len(), false)
    }

    /// The unstuffed text, or why it is refused.
    pub fn finish(self) -> Result<Vec<u8>, Problem> {
        if self.bare {
            Err(Problem::BareLineEnding)
        } else if self.too_big {
            Err(Problem::TooBig)
        } else if self.too_long {
            Err(Problem::LineTooLong)
        } else {
            Ok(self.text)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The outcome, and the bytes left after the end of data.
    type Received = (Result<Vec<u8>, Problem>, Vec<u8>);

    /// Feeds `input` in pieces of `step` bytes.
    fn receive(input: &[u8], step: usize) -> Received {
        let mut r = Receiver::new(1 << 20, 1000, 0);
        let mut pos = 0;
        while pos < input.len() {
            let end = (pos + step).min(input.len());
            let (used, done) = r.feed(&input[pos..end]);
            pos += used;
            if done {
                return (r.finish(), input[pos..].to_vec());
            }
        }
        panic!("no end of data in {:?}", String::from_utf8_lossy(input));
    }

    fn every_split(input: &[u8]) -> Vec<Received> {
        [1, 2, 3, 7, input.len()]
            .iter()
            .map(|&step| receive(input, step))
            .collect()
    }

    #[test]
    fn dot_stuffing_is_removed_and_the_final_line_kept() {
        for (result, rest) in
            every_split(b"Subject: x\r\n\r\n..one\r\n.two\r\n...\r\n.\r\nQUIT\r\n")
        {
            assert_eq!(result.unwrap(), b"Subject: x\r\n\r\n.one\r\ntwo\r\n..\r\n");
            assert_eq!(rest, b"QUIT\r\n");
        }
    }

    #[test]
    fn empty_message_ends_at_once() {
        for (result, _) in every_split(b".\r\n") {
            assert_eq!(result.unwrap(), b"");
        }
    }

    #[test]
    fn smuggling_sequences_are_not_an_end_of_data_and_refuse_the_message() {
        for sneaky in [
            &b"\n.\r\n"[..],
            b"\n.\n",
            b"\r\n.\n",
            b"\r.\r\n",
            b"\r.\r",
            b"\n..\r\n",
        ] {
            let mut input = b"Subject: a\r\n\r\nhello".to_vec();
            input.extend_from_slice(sneaky);
            input
                .extend_from_slice(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
            input.extend_from_slice(b"smuggled\r\n.\r\nNOOP\r\n");
            for (result, rest) in every_split(&input) {
                assert_eq!(result, Err(Problem::BareLineEnding), "{sneaky:?}");
                assert_eq!(rest, b"NOOP\r\n", "{sneaky:?}");
            }
        }
    }

    #[test]
    fn bare_lf_or_cr_alone_is_refused() {
        for input in [&b"a\nb\r\n.\r\n"[..], b"a\rb\r\n.\r\n", b"a\r\r\n.\r\n"] {
            for (result, _) in every_split(input) {
                assert_eq!(result, Err(Problem::BareLineEnding));
            }
        }
    }

    #[test]
    fn oversized_message_is_read_to_its_end_but_not_kept() {
        let mut r = Receiver::new(10, 1000, 0);
        let (used, done) = r.feed(b"0123456789abcdef\r\n.\r\nNOOP\r\n");
        assert!(done);
        assert_eq!(used, 21);
        assert_eq!(r.finish(), Err(Problem::TooBig));
    }

    #[test]
    fn overlong_line_is_refused() {
        let mut r = Receiver::new(1 << 20, 10, 0);
        let (_, done) = r.feed(b"0123456789\r\n.\r\n");
        assert!(done);
        assert_eq!(r.finish(), Err(Problem::LineTooLong));
        let mut r = Receiver::new(1 << 20, 10, 0);
        let (_, done) = r.feed(b"01234567\r\n.\r\n");
        assert!(done);
        assert!(r.finish().is_ok());
    }
}
